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
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
import yaml

from monitor.publish.specs import company_slug
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
    # Each change is in every feed that shows it, in both formats: newsboat keeps one copy
    # of an id across feeds, so each feed gives it its own id and none loses it.
    expected = {
        (feeds.url(f"/{path}.{fmt}"), entry_id(row, path, fmt))
        for row in rows for path in feeds_of(row, replay) for fmt in ("rss", "atom")
    }  # fmt: skip
    assert reader.reload() == len(expected)
    assert {hit.status for hit in feeds.take_hits()} == {200}
    stored = reader.rows("select * from rss_item")
    assert {(item["feedurl"], item["guid"]) for item in stored} == expected
    items = {item["guid"]: item for item in stored}
    for row in rows:
        title = f"{replay.company_of(row['document'])} "
        when = int(datetime.fromisoformat(row["detected_at"]).timestamp())
        for guid in [entry_id(row, path, fmt) for path in feeds_of(row, replay)
                     for fmt in ("rss", "atom")]:  # fmt: skip
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
    # The board's own feed (tests/test_board*.py) gains entries of its own on this change.
    names = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*.*")
        if p.suffix in (".rss", ".atom", ".opml") and not p.name.startswith("board")
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
    changed = set(feeds_of(replay.changes()[-1], replay))
    assert reader.reload() == unread + 2 * len(changed)  # in each of its feeds, RSS and Atom
    fresh = {f"{p}.{f}" for p in changed for f in ("rss", "atom")}
    assert statuses(feeds.take_hits())[200] == fresh


def feeds_of(row: dict[str, Any], replay: Replay) -> list[str]:
    """The paths of the published feeds that show a change."""
    company = company_slug(replay.company_of(row["document"]))
    paths = ["all", f"company/{company}", f"document/{row['document']}"]
    return paths + (["ai-training"] if row["ai_training"] else [])


def entry_id(row: dict[str, Any], path: str, fmt: str) -> str:
    """The id of a change's entry in one feed ("all" keeps the ids it always had)."""
    if fmt == "rss":
        guid = f"policy-monitor:change:{row['document']}:{row['id']}"
        return guid if path == "all" else f"{guid}:{path}"
    tag = f"tag:policy-monitor,2026:change/{row['document']}/{row['id']}"
    return tag if path == "all" else f"{tag}/{path}"


def statuses(hits: list[Hit]) -> dict[int, set[str]]:
    """The paths answered 200 and 304; every request was conditional."""
    assert all(hit.if_modified_since for hit in hits)
    found: dict[int, set[str]] = {200: set(), 304: set()}
    for hit in hits:
        found[hit.status].add(hit.path.lstrip("/"))
    return found


@requires(newsboat_missing)
def test_newsboat_imports_the_opml_made_without_a_base_url(
    tmp_path: Path, local_server: LocalServer
) -> None:
    """Without `base_url` the OPML names the feed files by absolute file:// URLs."""
    replay = Replay(tmp_path, local_server)
    replay.run_all()
    home = tmp_path / "home"
    home.mkdir()
    reader = Reader(home)
    reader.run("-i", str(replay.data / "feeds" / "feeds.opml"))
    imported = re.findall(r"^(\S+)", reader.urls.read_text(), re.MULTILINE)
    folder = (replay.data / "feeds").resolve().as_uri()
    assert len(imported) == 2 + 2 + 4 and all(u.startswith(folder + "/") for u in imported)
    rows = replay.changes()
    expected = {entry_id(row, path, "rss") for row in rows for path in feeds_of(row, replay)}
    assert reader.reload() == len(expected)
    assert {item["guid"] for item in reader.rows("select guid from rss_item")} == expected
    # Each item's link to its change page opens on this machine (a relative link would be
    # resolved against the channel's link, the project's home).
    for item in reader.rows("select content from rss_item"):
        pages = re.findall(r'href="(file://[^"]+/changes/\d+\.html)"', item["content"])
        assert pages and all(Path(unquote(urlsplit(u).path)).is_file() for u in pages)


@requires(newsboat_missing)
def test_feeds_of_a_document_no_longer_watched_are_removed(
    tmp_path: Path, local_server: LocalServer
) -> None:
    """Beta leaves the watchlist: its company and document feeds go (a feed nobody updates
    would look like a quiet policy); its changes stay in "all" and keep their pages."""
    replay = Replay(tmp_path, local_server)
    replay.run_all()
    feeds = replay.data / "feeds"
    beta = [p for p in feeds.rglob("*.*") if "beta" in p.name and p.suffix in (".rss", ".atom")]
    assert len(beta) == 2 * 3  # company/beta, document/beta-privacy, document/beta-help
    doc = yaml.safe_load(replay.watchlist.read_text())
    doc["documents"] = [d for d in doc["documents"] if not d["id"].startswith("beta-")]
    replay.watchlist.write_text(yaml.safe_dump(doc))
    replay.sweep()
    assert not any(p.exists() for p in beta)
    assert "beta" not in (feeds / "feeds.opml").read_text()
    everything = feedparser.parse((feeds / "all.rss").read_bytes())
    beta_changes = [r for r in replay.changes() if r["document"].startswith("beta-")]
    assert beta_changes and all(
        any(e.id.endswith(f":{r['document']}:{r['id']}") for e in everything.entries)
        and (feeds / f"changes/{r['id']}.html").exists()
        for r in beta_changes
    )
    home = tmp_path / "home"
    home.mkdir()
    reader = Reader(home)
    reader.run("-i", str(feeds / "feeds.opml"))
    assert "beta" not in reader.urls.read_text()
    assert reader.reload() > 0
