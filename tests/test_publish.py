"""Tests for monitor.publish.write: the feed folder a sweep writes, read back as readers would.

The history is replayed through the real CLI against pages on 127.0.0.1; every feed is
parsed with feedparser and compared with what `changes --json` says was recorded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser
import html5lib
import pytest
import yaml

from monitor.errors import ConfigError
from monitor.models import Change, Flag, Watch
from monitor.publish.feed import FeedSettings, settings_from_config
from monitor.publish.specs import company_slug
from monitor.publish.write import write_feeds
from monitor.store import Store
from monitor.watchlist import load_feed_config
from tests.feed_replay import HISTORY, Replay
from tests.httpserver import LocalServer

BASE = "https://feeds.example.org/policy/"
FORMATS = [("rss", "rss20"), ("atom", "atom10")]
CONFIG_CASES = yaml.safe_load((Path(__file__).parent / "data/feed_config_cases.yaml").read_text())
DOCS = [d["id"] for d in HISTORY["documents"]]
COMPANIES = sorted({company_slug(d["company"]) for d in HISTORY["documents"]})
FEED_PATHS = [
    "all", "ai-training", *[f"company/{c}" for c in COMPANIES], *[f"document/{d}" for d in DOCS]
]  # fmt: skip


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    """One replayed history for the tests that only read it."""
    with LocalServer() as pages:
        replay = Replay(tmp_path_factory.mktemp("replay"), pages, base_url=BASE)
        replay.run_all()
        yield replay


@pytest.fixture
def replay(tmp_path: Path, local_server: LocalServer) -> Replay:
    """A history of its own, for a test that adds to it."""
    fresh = Replay(tmp_path, local_server, base_url=BASE)
    fresh.run_all()
    return fresh


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def parse(data: bytes | str, version: str) -> Any:
    feed = feedparser.parse(data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == version
    return feed


def shown_by(path: str, rows: list[dict[str, Any]], replay: Replay) -> list[dict[str, Any]]:
    """The recorded changes a feed must show, from `changes --json`, newest 50."""
    kind, _, name = path.partition("/")
    keep = {
        "all": lambda r: True,
        "ai-training": lambda r: r["ai_training"],
        "company": lambda r: company_slug(replay.company_of(r["document"])) == name,
        "document": lambda r: r["document"] == name,
    }[kind]
    return [r for r in rows if keep(r)][-50:]


def test_every_feed_file_is_written(played: Replay) -> None:
    written = {
        str(p.relative_to(played.data / "feeds")) for p in (played.data / "feeds").rglob("*.*")
    }
    expected = {f"{path}.{fmt}" for path in FEED_PATHS for fmt in ("rss", "atom")}
    pages = {
        f"changes/{row['id']}.{ext}" for row in played.changes() for ext in ("html", "json", "diff")
    }  # each change: its page (linked from the feeds) and its exports
    site = {name for name in written if name.startswith(("documents/", "snapshots/"))}
    statics = {"feeds.opml", "index.html", "site.css", "search.js"}
    board = {name for name in written if name.startswith("board")}  # tests/test_board*.py
    assert {"board.rss", "board.atom", "board.html"} <= board
    assert written - board == expected | pages | statics | site
    documents = {row["document"] for row in played.changes()}
    assert {f"documents/{doc}.html" for doc in documents} <= site


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_feed_entries_match_recorded_changes(played: Replay, fmt: str, version: str) -> None:
    rows = played.changes()
    assert sum(r["ai_training"] for r in rows) >= 2 and sum(not r["ai_training"] for r in rows) >= 2
    for path in FEED_PATHS:
        feed = parse((played.data / "feeds" / f"{path}.{fmt}").read_bytes(), version)
        expected = list(reversed(shown_by(path, rows, played)))
        assert len(feed.entries) == len(expected), path
        assert [ln.href for ln in feed.feed.links if ln.rel == "self"] == [f"{BASE}{path}.{fmt}"]
        for entry, row in zip(feed.entries, expected, strict=True):
            # One id per feed (newsboat keeps one copy of an id across feeds); "all"
            # keeps the ids it always had.
            rss_end, atom_end = (f":{path}", f"/{path}") if path != "all" else ("", "")
            guid = f"policy-monitor:change:{row['document']}:{row['id']}{rss_end}"
            atom_id = f"tag:policy-monitor,2026:change/{row['document']}/{row['id']}{atom_end}"
            assert entry.id == (guid if fmt == "rss" else atom_id)
            assert entry.link == played.pages.url(f"/{row['document']}")
            assert played.company_of(row["document"]) in entry.title
            published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
            assert published == datetime.fromisoformat(row["detected_at"])
            terms = [t.term for t in entry.tags]
            assert ("ai-training" in terms) == row["ai_training"]
            assert played.company_of(row["document"]) in terms


def test_feed_command_prints_the_published_files(played: Replay) -> None:
    feeds = played.data / "feeds"
    with_settings = ("--watchlist", str(played.watchlist))
    cases = {
        ("--document", "beta-privacy"): "document/beta-privacy.rss",
        ("--document", "beta-help", "--format", "atom"): "document/beta-help.atom",  # empty
        ("--company", "Smith & Co"): "company/smith-co.rss",
        ("--company", "smith-co", "--format", "atom"): "company/smith-co.atom",
        ("--ai-only",): "ai-training.rss",
        (): "all.rss",
    }
    for args, path in cases.items():
        printed = played.cli("feed", *args, *with_settings)
        assert printed.code == 0 and printed.out == (feeds / path).read_text(), args


def test_feed_command_contract_for_the_replay_harness(played: Replay) -> None:
    """`feed --format rss`: one entry per change, distinct guids, ai-training exactly right."""
    rows = played.changes()
    feed = parse(played.cli("feed", "--format", "rss").out, "rss20")
    assert len(feed.entries) == len(rows) == len({e.id for e in feed.entries})
    flagged = {f"policy-monitor:change:{r['document']}:{r['id']}" for r in rows if r["ai_training"]}
    tagged = {e.id for e in feed.entries if "ai-training" in [t.term for t in e.tags]}
    assert tagged == flagged
    combined = parse(played.cli("feed", "--company", "Beta", "--ai-only").out, "rss20")
    # A filtered view is a feed of its own: its ids end with its path.
    view = ":company/beta/ai-training"
    assert {e.id for e in combined.entries} == {i + view for i in flagged if ":beta-" in i}
    assert [ln for ln in combined.feed.links if ln.rel == "self"] == []  # not a published file


def test_regenerating_without_a_new_change_changes_no_byte(replay: Replay) -> None:
    feeds = replay.data / "feeds"
    before = snapshot(feeds)
    assert replay.sweep().out.count("unchanged") == len(DOCS)
    assert snapshot(feeds) == before  # same bytes, same mtimes
    replay.sweep({"beta-help": ["A new help topic about passwords was added to this page."]})
    after = snapshot(feeds)
    rewritten = {name for name in after if after[name] != before.get(name)}
    touched = {"all", "company/beta", "document/beta-help"}
    new = replay.changes()[-1]  # only the new change gets a page, the new version too
    pages = {f"changes/{new['id']}.{ext}" for ext in ("html", "json", "diff")}
    pages |= {f"documents/beta-help{name}" for name in (".html", "/search-data.js", "/v2.html",
                                                         "/v2.txt")}  # fmt: skip
    snapshots = {name for name in rewritten if name.startswith("snapshots/")}
    assert len(snapshots) == 1 and snapshots <= set(after) - set(before)  # the new page's bytes
    assert rewritten == {f"{p}.{f}" for p in touched for f in ("rss", "atom")} | {
        "index.html", *pages, *snapshots,
    }  # fmt: skip


def add_changes(store: Store, documents: list[Watch], flagged: list[bool]) -> None:
    """Records one change per flag, cycling through the documents, an hour apart."""
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    store.sync_documents(documents, start)
    for n, ai in enumerate(flagged):
        flags = (Flag("We train AI on posts.", "added", "train AI", "model-training", "r"),)
        store.add_change(
            Change(
                id=0, document=documents[n % len(documents)].id, company="", title="", url="",
                detected_at=start + timedelta(hours=n), kind="changed", from_version=n + 1,
                to_version=n + 2, added_chars=5, removed_chars=1, diff_text="We {+now+} do.",
                flags=flags if ai else (),
            )
        )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path)
    yield opened
    opened.close()


DOCUMENTS = [
    Watch("acme-privacy", "ACME", "Privacy Policy", "https://acme.test/privacy"),
    Watch("acme-terms", "ACME", "Terms of Service", "https://acme.test/terms"),
    Watch("zeta-ai-notice", "Zeta Ünïcode", "AI Notice", "https://zeta.test/ai?x=1&y=2"),
]


def test_feeds_are_valid_with_zero_entries(store: Store, tmp_path: Path) -> None:
    store.sync_documents(DOCUMENTS, datetime(2026, 3, 1, tzinfo=UTC))
    written = write_feeds(store, tmp_path, FeedSettings(base_url=BASE))
    feeds = [p for p in written if p.suffix in (".rss", ".atom", ".opml")]
    # and the operators' feed (ops/), and the board's feeds
    assert len(feeds) == 2 * (2 + 2 + 3) + 1 + 2 + 2
    for path in (tmp_path / "feeds").rglob("*.rss"):
        feed = parse(path.read_bytes(), "rss20")
        # Dated when its documents began to be watched, not 1970.
        assert feed.entries == [] and feed.feed.updated_parsed[:3] == (2026, 3, 1)
    assert (tmp_path / "feeds/company/zeta-unicode.atom").exists()
    assert "none yet" in (tmp_path / "feeds/index.html").read_text()


def test_limit_and_titles_of_each_feed(store: Store, tmp_path: Path) -> None:
    add_changes(store, DOCUMENTS, [True, False, False, True, False, True, False])
    settings = FeedSettings(base_url=BASE, limit=2, title="Watch")
    write_feeds(store, tmp_path, settings)
    feeds = tmp_path / "feeds"
    titles = {}
    for path in feeds.rglob("*.atom"):
        if path.name == "board.atom":  # the board's own feed: tests/test_board*.py
            continue
        feed = parse(path.read_bytes(), "atom10")
        assert 1 <= len(feed.entries) <= 2, path
        titles[str(path.relative_to(feeds))] = feed.feed.title
    assert titles == {
        "all.atom": "Watch",
        "ai-training.atom": "AI-training changes — Watch",
        "company/acme.atom": "ACME — Watch",
        "company/zeta-unicode.atom": "Zeta Ünïcode — Watch",
        "document/acme-privacy.atom": "ACME Privacy Policy — Watch",
        "document/acme-terms.atom": "ACME Terms of Service — Watch",
        "document/zeta-ai-notice.atom": "Zeta Ünïcode AI Notice — Watch",
    }
    doc = parse((feeds / "document/zeta-ai-notice.rss").read_bytes(), "rss20")
    assert doc.feed.link == "https://zeta.test/ai?x=1&y=2"  # a document feed is about its page
    assert parse((feeds / "all.rss").read_bytes(), "rss20").feed.link == f"{BASE}index.html"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def page_tags(html_text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Links()
    parser.feed(html_text)
    return parser.tags


@pytest.mark.parametrize("base", [BASE, ""], ids=["base-url", "relative"])
def test_index_page_is_valid_html_listing_every_feed(
    store: Store, tmp_path: Path, base: str
) -> None:
    add_changes(store, DOCUMENTS, [True, False, True])
    write_feeds(store, tmp_path, FeedSettings(base_url=base, title="Watch <&> policies"))
    text = (tmp_path / "feeds/index.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(text)  # raises on any parse error
    tags = page_tags(text)
    hrefs = {a["href"] for tag, a in tags if tag == "a"}
    feeds = [str(p.relative_to(tmp_path / "feeds")) for p in (tmp_path / "feeds").rglob("*.*")]
    listed = [
        name for name in feeds
        if name.endswith((".rss", ".atom", ".opml")) and not name.startswith("board")
    ]  # fmt: skip
    assert {base + name for name in listed} <= hrefs  # change pages: linked from entries
    timelines = {name for name in feeds if re.fullmatch(r"documents/[^/]+\.html", name)}
    assert timelines and timelines <= hrefs  # the site's pages: relative links
    assert (
        "html",
        {"lang": "en"},
    ) in tags and "<title>Watch &lt;&amp;&gt; policies</title>" in text
    assert all(a.get("scope") in ("col", "row") for tag, a in tags if tag == "th")
    alternates = [a["href"] for tag, a in tags if tag == "link" and a.get("rel") == "alternate"]
    assert alternates == [
        base + n for n in ("all.rss", "all.atom", "ai-training.rss", "ai-training.atom")
    ]


@pytest.mark.parametrize("base", [BASE, ""], ids=["base-url", "relative"])
def test_opml_lists_every_feed_once(store: Store, tmp_path: Path, base: str) -> None:
    add_changes(store, DOCUMENTS, [True])
    write_feeds(store, tmp_path, FeedSettings(base_url=base))
    root = ET.parse(tmp_path / "feeds/feeds.opml").getroot()
    assert root.get("version") == "2.0" and root.findtext("head/title")
    groups = [o.get("text") for o in root.findall("body/outline")]
    assert groups == ["All documents", "By company", "By document"]
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    rss = sorted(
        str(p.relative_to(tmp_path / "feeds"))
        for p in (tmp_path / "feeds").rglob("*.rss")
        if p.name != "board.rss"  # listed by board.html
    )
    # Without a base URL the links are the folder's absolute file:// URLs: newsboat
    # cannot import relative ones.
    folder = base or (tmp_path / "feeds").resolve().as_uri() + "/"
    assert sorted(urls) == sorted(folder + name for name in rss)
    assert all(
        o.get("type") == "rss" and o.get("text") for o in root.iter("outline") if o.get("xmlUrl")
    )


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c["name"] for c in CONFIG_CASES])
def test_feeds_section_of_the_watchlist(case: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "watchlist.yaml"
    doc: dict[str, Any] = {
        "documents": [{"id": "a", "company": "C", "title": "T", "url": "https://c.test/"}]
    }
    if case["feeds"] is not None:
        doc["feeds"] = case["feeds"]
    path.write_text(yaml.safe_dump(doc))
    if "error" in case:
        with pytest.raises(ConfigError) as info:
            load_feed_config(path)
        message = str(info.value)
        assert message.startswith(f"{path}: feeds: ") and "\n" not in message
        assert case["error"] in message
        return
    settings = settings_from_config(load_feed_config(path))
    assert {key: getattr(settings, key) for key in case["settings"]} == case["settings"]


def test_check_with_a_bad_feeds_section_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli_helpers import run_cli

    path = tmp_path / "w.yaml"
    path.write_text(
        "documents: [{id: a, company: C, title: T, url: 'http://c.test/'}]\nfeeds: {limit: -1}\n"
    )
    result = run_cli(capsys, "check", "--watchlist", str(path), "--data", str(tmp_path / "d"))
    assert result.code == 2 and result.err.count("\n") == 1
    assert "feeds: 'limit' must be a whole number" in result.err


def test_feeds_are_rewritten_only_when_something_is_new(store: Store, tmp_path: Path) -> None:
    store.sync_documents(DOCUMENTS, datetime(2026, 3, 1, tzinfo=UTC))
    assert write_feeds(store, tmp_path, FeedSettings())
    assert write_feeds(store, tmp_path, FeedSettings()) == []  # nothing new: skipped
    assert write_feeds(store, tmp_path, FeedSettings(title="Renamed"))  # settings changed
    add_changes(store, DOCUMENTS, [True])
    assert any(
        p.name == "all.rss" for p in write_feeds(store, tmp_path, FeedSettings(title="Renamed"))
    )
    (tmp_path / "feeds" / "all.rss").unlink()  # someone cleaned the folder
    assert (tmp_path / "feeds" / "all.rss") in write_feeds(
        store, tmp_path, FeedSettings(title="Renamed")
    )


def entry_links(feed_path: Path) -> list[str]:
    """The link to its change's page of each entry of a feed."""
    feed = feedparser.parse(feed_path.read_bytes())
    bodies = [e.content[0].value if "content" in e else e.summary for e in feed.entries]
    links = [set(re.findall(r'href="([^"]*changes/\d+\.html)"', body)) for body in bodies]
    assert all(len(found) == 1 for found in links), feed_path  # each entry: its own page
    return [found.pop() for found in links]


def test_every_entry_links_to_its_change_page(played: Replay) -> None:
    folder = played.data / "feeds"
    for path in FEED_PATHS:
        for fmt in ("rss", "atom"):
            links = entry_links(folder / f"{path}.{fmt}")
            assert all(link.startswith(f"{BASE}changes/") for link in links), path
            for link in links:
                assert (folder / link.removeprefix(BASE)).is_file(), link
    assert len(entry_links(folder / "all.rss")) == len(played.changes())
    for row in played.changes():
        page = (folder / f"changes/{row['id']}.html").read_text(encoding="utf-8")
        html5lib.HTMLParser(strict=True).parse(page)
        assert f"policy-monitor:change:{row['document']}:{row['id']}" in page
        assert f'<a href="{BASE}index.html">All feeds</a>' in page


def test_without_base_url_links_are_the_local_pages_file_urls(store: Store, tmp_path: Path) -> None:
    """A feed reader resolves a relative entry link against the channel's link (the project's
    home page), not the feed file: without a public base URL, links are file:// URLs."""
    add_changes(store, DOCUMENTS, [True, False, True])
    write_feeds(store, tmp_path, FeedSettings())
    feeds = sorted((tmp_path / "feeds").rglob("*.rss"))
    assert len(feeds) == 2 + 2 + 3 + 1  # and board.rss
    links = [link for feed in feeds for link in entry_links(feed)]
    assert len(links) >= 6
    for link in links:
        assert link.startswith("file:///"), link
        assert Path(unquote(urlsplit(link).path)).is_file(), link


def test_a_change_page_is_written_once(store: Store, tmp_path: Path) -> None:
    add_changes(store, DOCUMENTS, [True])
    write_feeds(store, tmp_path, FeedSettings())
    first = tmp_path / "feeds/changes/1.html"
    before = (first.read_bytes(), first.stat().st_mtime_ns)
    store.add_change(replace(store.change(1), id=0, from_version=2, to_version=3))
    written = write_feeds(store, tmp_path, FeedSettings(title="Another title"))
    assert tmp_path / "feeds/changes/2.html" in written and first not in written
    assert (first.read_bytes(), first.stat().st_mtime_ns) == before
