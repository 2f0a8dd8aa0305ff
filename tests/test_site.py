"""The static site's files: valid HTML with a strict CSP on every page, evidence that checks
out (snapshot hashes, texts, the unified diff applies with `patch`), nothing rewritten when
nothing changed, and `serve`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import html5lib
import pytest

from monitor.models import Change, Flag, Held, Watch
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.store import Store
from tests.cli_helpers import run_cli
from tests.httpserver import LocalServer
from tests.site_build import DOC, STEPS, Built, build_site, cli, page, sweep_all

CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">')


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_site(tmp_path_factory.mktemp("site"))


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}  # fmt: skip


def test_every_page_is_valid_html_with_a_strict_csp_and_no_inline_script(built: Built) -> None:
    pages = sorted(built.site.rglob("*.html"))
    assert len(pages) >= 1 + 1 + 3 + 4  # index, timeline, 3 changes, 4 versions
    for path in pages:
        text = path.read_text(encoding="utf-8")
        html5lib.HTMLParser(strict=True).parse(text)
        [policy] = CSP.findall(text)
        assert policy.startswith("default-src 'none'; style-src 'self'"), path
        assert "unsafe" not in policy and ("script-src 'self'" in policy) == ("<script" in text)
        assert re.findall(r"<script(?![^>]*\bsrc=)", text) == [], path  # never inline
        assert "<script>window" not in text and "<img" not in text, path  # escaped, if there


def test_snapshots_texts_and_exports_check_out(built: Built, tmp_path: Path) -> None:
    for exported in sorted((built.site / "changes").glob("*.json")):
        change = json.loads(exported.read_text(encoding="utf-8"))
        assert change["guid"] == f"policy-monitor:change:{DOC}:{change['id']}"
        for version in change["versions"].values():
            raw = (built.site / version["snapshot_file"]).read_bytes()
            assert hashlib.sha256(raw).hexdigest() == version["snapshot_sha256"]
            assert version["http_status"] == 200 and version["fetched_at"].endswith("+00:00")
            assert ["content-type", "text/html; charset=utf-8"] in version["headers"]
            text = built.site / f"documents/{DOC}/v{version['number']}.txt"
            assert hashlib.sha256(text.read_bytes()).hexdigest() == version["text_sha256"]
        old, new = change["from_version"], change["to_version"]
        work = tmp_path / f"v{old}.txt"
        work.write_bytes((built.site / f"documents/{DOC}/v{old}.txt").read_bytes() + b"\n")
        diff = built.site / f"changes/{change['id']}.diff"
        subprocess.run(["patch", "-s", str(work), str(diff)], check=True, timeout=30)
        want = (built.site / f"documents/{DOC}/v{new}.txt").read_bytes()
        assert work.read_bytes().rstrip(b"\n") == want.rstrip(b"\n")


def test_the_page_states_sha256sum_and_the_fetch(built: Built) -> None:
    page = (built.site / "changes/1.html").read_text(encoding="utf-8")
    change = json.loads((built.site / "changes/1.json").read_text())
    after = change["versions"]["to"]
    assert f"<code>{after['snapshot_sha256']}</code>" in page
    assert f"sha256sum {DOC}-v2-{after['snapshot_sha256'][:12]}.html" in page
    assert "HTTP 200 from" in page and after["fetched_at"][:19].replace("T", " ") in page


def test_no_change_rewrites_no_file(built: Built, tmp_path: Path) -> None:
    before = tree(built.site)
    assert cli("site", "--data", str(built.data)) == 0
    assert tree(built.site) == before
    elsewhere = tmp_path / "public"
    assert cli("site", "--data", str(built.data), "--out", str(elsewhere)) == 0
    copied = tree(elsewhere)
    # Feeds read in place link to their pages by file:// URL; a copy to publish, relatively.
    feeds = {name for name in copied if name.endswith((".rss", ".atom"))}
    assert feeds and all(b"file://" not in copied[name][0] for name in feeds)
    assert any(b"file://" in before[name][0] for name in feeds)
    assert {name: data for name, (data, _) in copied.items() if name not in feeds} == {
        name: data
        for name, (data, _) in before.items()
        if not name.startswith("feeds.stamp") and name not in feeds
    } | {
        "index.html": copied["index.html"][0],  # only the operations feed's link differs
        "feeds.opml": copied["feeds.opml"][0],  # without base_url it names its own folder
    }
    assert cli("site", "--data", str(built.data), "--out", str(elsewhere)) == 0
    assert tree(elsewhere) == copied


def test_a_sweep_with_no_change_rewrites_no_file(tmp_path: Path) -> None:
    with LocalServer() as server:
        built, args = sweep_all(server, tmp_path)
        before = tree(built.site)
        server.route("/privacy", body=page(len(STEPS) - 1, "another-token"))  # chrome only
        assert cli("check", *args) == 0
        assert tree(built.site) == before  # not one byte, not one mtime
        server.route("/privacy", body=page(1, "t9"))  # back to v2's text: a change
        assert cli("check", *args) == 0
    changed = {name for name, seen in tree(built.site).items() if before.get(name) != seen}
    assert {"changes/4.html", "changes/4.json", "changes/4.diff", "index.html",
            f"documents/{DOC}.html"} <= changed  # fmt: skip
    assert not any(name.startswith(("changes/1.", "changes/2.", "changes/3.")) for name in changed)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_shows_the_site_and_a_taken_port_is_one_line(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(capsys, "serve", "--data", str(built.data), "--port", str(port))
    assert result.code == 2 and result.err.count("\n") == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.err
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    server = subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--data", str(built.data), "--port", str(port)],
        stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html") as reply:
                    body = reply.read()
                break
            except OSError:
                time.sleep(0.1)
        assert (built.site / "index.html").read_bytes() == body
    finally:
        server.terminate()
        server.wait(10)


def test_serve_without_a_site_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "serve", "--data", str(tmp_path))
    assert result.code == 2 and "run `policy-monitor check` or `site` first" in result.err


def test_timeline_marks_upgrades_held_texts_failures_and_ai_direction(tmp_path: Path) -> None:
    """Every state a timeline and the index mark, from the store's own API (no clock)."""
    store = Store(tmp_path)
    at = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    store.sync_documents([WATCH], at)
    trained = "We collect posts.\nWe train our AI models on posts."
    texts = ["We collect posts.", trained, trained, "We collect posts."]
    for n, text in enumerate(texts, start=1):
        when = at + timedelta(hours=n)
        digest = store.save_snapshot(f"<p>{text}</p>".encode(), "text/html", when)
        store.add_version(WATCH.id, text, f"k{n}", digest, when, "2" if n == 3 else "1",
                          upgrade=n == 3)  # fmt: skip
    store.add_upgrade(WATCH.id, at + timedelta(hours=3), 2, 3, "1", "2")
    flag = Flag("We train our AI models on posts.", "added", "train our AI models",
                "user-content-training", "r")  # fmt: skip
    note = "held as suspect since X (short) and seen again"
    store.add_change(make(2, 1, 2, flags=(flag,), note=note))
    store.add_change(make(4, 3, 4, flags=(replace(flag, side="removed"),)))
    store.set_hold(WATCH.id, Held("key", "much shorter than the last text", at))
    store.set_failures(WATCH.id, 3)
    store.record_health(WATCH.id, "failing", at + timedelta(hours=5), 3, "HTTP 503")
    write_feeds(store, tmp_path, FeedSettings())
    store.close()
    timeline = (tmp_path / "feeds/documents/acme-privacy.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(timeline)
    assert "technical upgrade</span> extractor 2 (was 1)" in timeline
    assert '<span class="tag held">held text, confirmed</span>' in timeline
    assert "a new text is held as suspect" in timeline and "much shorter" in timeline
    assert "failing since" in timeline and "3 failed checks in a row" in timeline
    marks = re.findall(r'<span class="tag ai">(\w+)</span> (\w+)', timeline)
    assert marks == [("removed", "medium"), ("added", "high")]  # newest first
    assert timeline.count("still current") == 1
    index = (tmp_path / "feeds/index.html").read_text(encoding="utf-8")
    assert '<span class="tag held">text held</span>' in index and "failing since" in index
    assert "Latest AI-training changes" in index and index.count('<li class="ai">') == 2


WATCH = Watch("acme-privacy", "Acme", "Privacy Policy", "https://acme.test/privacy")


def make(hours: int, old: int, new: int, **fields: Any) -> Change:
    return Change(
        id=0, document=WATCH.id, company=WATCH.company, title=WATCH.title, url=WATCH.url,
        detected_at=datetime(2026, 5, 1, 8, 0, tzinfo=UTC) + timedelta(hours=hours),
        kind="changed", from_version=old, to_version=new, added_chars=1, removed_chars=1,
        diff_text="", **fields,
    )  # fmt: skip
