"""The feeds in a real reader: newsboat, fed from a static server on 127.0.0.1.

newsboat imports feeds.opml, reloads every feed (RSS and Atom) non-interactively, and
what a person would see is then read from its cache (the `rss_item` table) with sqlite3.
Reloading again after a sweep with no new change must cost only 304 answers.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.feed_replay import FeedServer, Hit, Replay
from tests.httpserver import LocalServer
from tests.shared import requires

NEWSBOAT = shutil.which("newsboat")
newsboat_missing = (
    None
    if NEWSBOAT
    else ("newsboat (Debian: apt-get install newsboat; `make test` installs it as root)")
)


class Reader:
    """newsboat with its own HOME, URL list and cache in a temporary folder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.urls = home / "urls"
        self.cache = home / "cache.db"
        self.env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "LANG": "C.UTF-8", "TERM": "dumb"}  # fmt: skip

    def run(self, *args: str) -> str:
        command = [str(NEWSBOAT), "-u", str(self.urls), "-c", str(self.cache), *args]
        done = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=60,
            stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr or done.stdout
        return done.stdout

    def reload(self) -> int:
        """Reloads every feed; returns the number of unread articles."""
        out = self.run("-x", "reload", "print-unread")
        match = re.search(r"(\d+) unread articles", out)
        assert match, out
        return int(match.group(1))

    def rows(self, sql: str) -> list[dict[str, Any]]:
        with sqlite3.connect(self.cache) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql)]


@pytest.fixture
def setup(tmp_path: Path, local_server: LocalServer) -> Iterator[tuple[Replay, FeedServer, Reader]]:
    home = tmp_path / "home"
    home.mkdir()
    with FeedServer(tmp_path / "data" / "feeds") as feeds:
        replay = Replay(tmp_path, local_server, base_url=feeds.url("/"))
        replay.run_all()
        yield replay, feeds, Reader(home)


@requires(newsboat_missing)
def test_newsboat_shows_every_change_with_title_link_and_date(
    setup: tuple[Replay, FeedServer, Reader],
) -> None:
    replay, feeds, reader = setup
    reader.run("-i", str(replay.data / "feeds" / "feeds.opml"))
    imported = re.findall(r"^(\S+)", reader.urls.read_text(), re.MULTILINE)
    opml = ET.parse(replay.data / "feeds" / "feeds.opml").getroot()
    assert imported == [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")]
    atom = [url.removesuffix(".rss") + ".atom" for url in imported]
    with reader.urls.open("a") as urls:
        urls.write("".join(f"{url}\n" for url in atom))

    rows = replay.changes()
    assert reader.reload() == 2 * len(rows)  # each change once per format, however many feeds
    assert {hit.status for hit in feeds.take_hits()} == {200}
    items = {item["guid"]: item for item in reader.rows("select * from rss_item")}
    for row in rows:
        title = f"{replay.company_of(row['document'])} "
        when = int(datetime.fromisoformat(row["detected_at"]).timestamp())
        for guid in (
            f"policy-monitor:change:{row['document']}:{row['id']}",
            f"tag:policy-monitor,2026:change/{row['document']}/{row['id']}",
        ):
            item = items.pop(guid)
            assert item["title"].startswith(title), item["title"]
            assert item["title"].endswith("AI-training language added") == (
                row["ai_direction"] == "added"
            )
            assert item["url"] == replay.pages.url(f"/{row['document']}")
            assert item["pubDate"] == when
            page = feeds.url(f"/changes/{row['id']}.html")  # the whole change, to cite
            assert f'href="{page}"' in item["content"]
        with urllib.request.urlopen(feeds.url(f"/changes/{row['id']}.html")) as response:
            served = response.read().decode()
        assert f"policy-monitor:change:{row['document']}:{row['id']}" in served
    assert items == {}
    shown = {f["rssurl"]: f["title"] for f in reader.rows("select rssurl, title from rss_feed")}
    assert set(shown) == set(imported + atom)  # every feed loaded, the empty one too
    assert shown[feeds.url("/company/smith-co.atom")].startswith("Smith & Co — ")


@requires(newsboat_missing)
def test_newsboat_reloads_unchanged_feeds_with_304(
    setup: tuple[Replay, FeedServer, Reader],
) -> None:
    replay, feeds, reader = setup
    folder = replay.data / "feeds"
    names = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*.*")
        if p.suffix in (".rss", ".atom", ".opml")
    )
    reader.urls.write_text("".join(f"{feeds.url('/' + n)}\n" for n in names if "opml" not in n))
    # As if the files were written an hour ago: HTTP dates have one-second resolution.
    hour_ago = time.time() - 3600
    for path in folder.rglob("*.*"):
        os.utime(path, (hour_ago, hour_ago))
    unread = reader.reload()
    reader.reload()  # newsboat keeps Last-Modified from its second fetch of a feed on
    feeds.take_hits()

    assert replay.sweep().out.count("unchanged") == 4
    assert reader.reload() == unread
    assert statuses(feeds.take_hits()) == {200: set(), 304: {n for n in names if "opml" not in n}}

    replay.sweep({"smith-terms": ["These terms now say we may train AI models on your posts."]})
    assert reader.reload() == unread + 2  # one new change, in RSS and Atom
    changed = {"all", "company/smith-co", "document/smith-terms"}
    changed |= {"ai-training"} if replay.changes()[-1]["ai_training"] else set()
    fresh = {f"{p}.{f}" for p in changed for f in ("rss", "atom")}
    assert statuses(feeds.take_hits())[200] == fresh


def statuses(hits: list[Hit]) -> dict[int, set[str]]:
    """The paths answered 200 and 304; every request was conditional."""
    assert all(hit.if_modified_since for hit in hits)
    found: dict[int, set[str]] = {200: set(), 304: set()}
    for hit in hits:
        found[hit.status].add(hit.path.lstrip("/"))
    return found
