"""The board on the pages where companies explain AI training and opting out (local
copies served on 127.0.0.1, checked with the real `check`), its page and terminal output
under hostile text, the shipped watchlist's opt-out pages, and a cell's changes as feed
entries: one per change, none for a new citation of the same value, none on a re-run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import feedparser
import html5lib
import pytest
import yaml

from monitor.store import opened
from monitor.store.board import board_history
from monitor.watchlist import load_watchlist
from tests.cli_helpers import Result, run_cli, write_watchlist
from tests.httpserver import LocalServer

DATA = Path(__file__).parent / "data"
PAGES = DATA / "board_pages"
CASES = yaml.safe_load((DATA / "board_cases.yaml").read_text(encoding="utf-8"))["cases"]
CELLS = ("trains_on_user_data", "opt_out", "legal_basis", "data_used", "regions")


def check_pages(
    capsys: pytest.CaptureFixture[str], server: LocalServer, tmp: Path, pages: dict[str, bytes]
) -> Result:
    for name, body in pages.items():
        server.route(f"/{name}", body=body)
    watchlist = write_watchlist(tmp / "w.yaml", {n: server.url(f"/{n}") for n in pages})
    return run_cli(capsys, "check", "--watchlist", str(watchlist), "--data", str(tmp / "d"),
                   "--delay", "0")  # fmt: skip


def board(capsys: pytest.CaptureFixture[str], tmp: Path) -> dict[str, dict[str, Any]]:
    result = run_cli(capsys, "board", "--json", "--data", str(tmp / "d"))
    assert result.code == 0, result.err
    return {d["document"]: d["cells"] for d in json.loads(result.out)["documents"]}


def test_opt_out_pages(
    capsys: pytest.CaptureFixture[str], local_server: LocalServer, tmp_path: Path
) -> None:
    pages = {case["page"]: (PAGES / f"{case['page']}.html").read_bytes() for case in CASES}
    assert check_pages(capsys, local_server, tmp_path, pages).code == 0
    found = board(capsys, tmp_path)
    for case in CASES:
        for name in CELLS:
            label = case["cells"].get(name, {"value": "not stated"})
            cell = found[case["page"]][name]
            where = f"{case['page']} {name}"
            assert (cell["value"], cell["which"]) == (label["value"], label.get("which", [])), where
            assert label.get("sentence", "") in cell["sentence"], where
            assert label.get("where", "") in cell["where"], where
            assert cell["version"] == 1 and cell["evidence"] == f"documents/{case['page']}/v1.html"
            assert (tmp_path / "d" / "feeds" / cell["evidence"]).is_file(), where


def test_hostile_text_is_escaped_on_the_page_and_in_the_terminal(
    capsys: pytest.CaptureFixture[str], local_server: LocalServer, tmp_path: Path
) -> None:
    pages = {"hostile": (PAGES / "hostile.html").read_bytes()}
    assert check_pages(capsys, local_server, tmp_path, pages).code == 0
    page = (tmp_path / "d" / "feeds" / "board.html").read_text(encoding="utf-8")
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(page)
    assert "<script" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert "\u202e" not in page and "&lt;U+202E&gt;" in page
    text = run_cli(capsys, "board", "--data", str(tmp_path / "d")).out
    assert "\u202e" not in text and "<U+202E>" in text and "posts <script>" in text
    out = run_cli(capsys, "board", "--json", "--data", str(tmp_path / "d")).out
    assert "\u202e" not in out and "and \\u202ereversed" in out


NO_AI = "<p>We use your information to provide our services.</p>"
AI = "<p>We may use your public posts and photos to train our AI models.</p>"
AI_REWORDED = "<p>We may use your public posts and photos to train and improve our AI models.</p>"
OPT_OUT = "<p>You can object to the use of your information to train our AI models.</p>"


def policy_page(extra: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Privacy</title></head><body>"
        "<main><h1>Privacy Policy</h1><p>We collect the content you create and how you use "
        f"our services, and keep it safe for everyone who uses them.</p>{extra}</main>"
        "</body></html>"
    ).encode()


def entries(tmp: Path) -> list[Any]:
    feed = feedparser.parse((tmp / "d" / "feeds" / "board.rss").read_bytes())
    assert not feed.bozo
    return list(feed.entries)


def test_each_cell_change_is_one_entry_and_nothing_else_is(
    capsys: pytest.CaptureFixture[str], local_server: LocalServer, tmp_path: Path
) -> None:
    steps = [  # (page text, cells that change: one entry each)
        (NO_AI, 0),  # the first reading is the baseline
        (AI, 2),  # trains: not stated -> yes; data used: -> posts, photos, public information
        (AI, 0),  # the same page again
        (AI_REWORDED, 0),  # same values, a new sentence cited
        # opt-out: not stated -> yes; data used gains "personal data" ("your information")
        (AI_REWORDED + OPT_OUT, 2),
        (NO_AI, 3),  # all three back to not stated
        (NO_AI, 0),
    ]
    total = 0
    for extra, changed in steps:
        result = check_pages(capsys, local_server, tmp_path, {"policy": policy_page(extra)})
        assert result.code == 0, result.err
        found = entries(tmp_path)
        assert len(found) == total + changed, extra
        total += changed
    titles = [e.title for e in entries(tmp_path)]
    assert titles[-2:] == [
        "Example policy policy: Data used: not stated → yes (posts, photos, public information)",
        "Example policy policy: Trains AI on people's data: not stated → yes",
    ]
    assert [t.split(": ", 1)[1] for t in titles[:3]] == [
        "Data used: yes (posts, photos, public information, personal data) → not stated",
        "Opt-out or objection: yes → not stated",
        "Trains AI on people's data: yes → not stated",
    ]
    cells = board(capsys, tmp_path)["policy"]
    assert {c["value"] for c in cells.values()} == {"not stated"}


def test_shipped_watchlist_watches_the_opt_out_pages() -> None:
    watches = {w.url: w for w in load_watchlist(Path(__file__).parents[1] / "watchlist.yaml")}
    expected = {
        "https://www.facebook.com/privacy/genai": "browser",
        "https://www.facebook.com/help/contact/6359191084165019": "browser",
        "https://www.linkedin.com/help/linkedin/answer/a5538339": "auto",
        "https://help.openai.com/en/articles/7730893-data-controls-faq": "auto",
        "https://help.openai.com/en/articles/5722486-how-your-data-is-used-to-improve-model-performance": "auto",  # noqa: E501
        "https://www.amazon.com/gp/help/customer/display.html?nodeId=201602230": "browser",
        "https://support.google.com/gemini/answer/13278892?hl=en": "auto",
    }
    assert {url: watches[url].fetcher for url in expected if url in watches} == expected


def test_new_rules_on_the_same_text_add_no_entry(
    capsys: pytest.CaptureFixture[str], local_server: LocalServer, tmp_path: Path
) -> None:
    """A cell the monitor's own rules moved (the text did not change) is recorded as such,
    never as a change of the company's position."""
    assert check_pages(capsys, local_server, tmp_path, {"policy": policy_page(AI)}).code == 0
    with opened(tmp_path / "d") as store:  # as read by older rules: a different answer
        store.db.execute("update board_state set rules = 'board0-old'")
        store.db.execute("update board_cells set value = 'not stated' where cell = 'opt_out'")
        store.db.execute("update board_cells set value = 'no' where cell = 'trains_on_user_data'")
        store.db.conn.commit()
    assert check_pages(capsys, local_server, tmp_path, {"policy": policy_page(AI)}).code == 0
    assert entries(tmp_path) == []
    with opened(tmp_path / "d") as store:
        kinds = [(row.cell, row.kind) for row in board_history(store)]
    assert kinds[5:] == [("trains_on_user_data", "rules")]
    assert board(capsys, tmp_path)["policy"]["trains_on_user_data"]["value"] == "yes"


def test_ab_variants_flipping_add_no_entry_but_the_board_follows(
    capsys: pytest.CaptureFixture[str], local_server: LocalServer, tmp_path: Path
) -> None:
    """A page that alternates between two variants (A/B tests, regional texts): like the
    change feeds, the board feed has entries until both texts were seen in turn (A, B, A),
    then none while they keep flipping; the board itself always shows the current text."""
    counts, values = [], []
    for extra in (NO_AI, AI, NO_AI, AI, NO_AI):
        result = check_pages(capsys, local_server, tmp_path, {"policy": policy_page(extra)})
        assert result.code == 0, result.err
        counts.append(len(entries(tmp_path)))
        values.append(board(capsys, tmp_path)["policy"]["trains_on_user_data"]["value"])
    assert "alternating" in result.out
    assert counts == [0, 2, 4, 4, 4]
    assert values == ["not stated", "yes", "not stated", "yes", "not stated"]
    with opened(tmp_path / "d") as store:
        kinds = [row.kind for row in board_history(store) if row.cell == "trains_on_user_data"]
    assert kinds == ["first", "change", "change", "variant", "variant"]


def test_with_a_base_url_the_board_feed_links_are_public(
    capsys: pytest.CaptureFixture[str], local_server: LocalServer, tmp_path: Path
) -> None:
    base = "https://feeds.example.org/policy/"
    for extra in (NO_AI, AI):
        check_pages(capsys, local_server, tmp_path, {"policy": policy_page(extra)})
        with (tmp_path / "w.yaml").open("a") as watchlist:
            watchlist.write(f"feeds:\n  base_url: {base}\n")
        assert run_cli(capsys, "check", "--watchlist", str(tmp_path / "w.yaml"), "--data",
                       str(tmp_path / "d"), "--delay", "0").code == 0  # fmt: skip
    for fmt, version in (("rss", "rss20"), ("atom", "atom10")):
        feed = feedparser.parse((tmp_path / "d" / "feeds" / f"board.{fmt}").read_bytes())
        assert feed.version == version and len(feed.entries) == 2
        assert [ln.href for ln in feed.feed.links if ln.rel == "self"] == [f"{base}board.{fmt}"]
        for entry in feed.entries:
            assert entry.link.startswith(f"{base}changes/") and entry.link.endswith(".html")
            page = tmp_path / "d" / "feeds" / entry.link.removeprefix(base)
            assert "train our AI models" in page.read_text(encoding="utf-8")
