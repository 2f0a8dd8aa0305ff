"""Hostile input that is not a web page: the watchlist file, and stored policy text shown
in a terminal.

A watchlist can be a "billion laughs", megabytes of YAML or hold escape sequences; a page
can carry ANSI/OSC escape sequences, C1 controls and bidi overrides into titles, sentences
and diffs that `changes`, `explain`, `diff`, `status` and `history` print. The monitor
must stop with one line (never hang), and never pass a control sequence to the terminal.
"""

from __future__ import annotations

import html
import json
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import html5lib
import pytest

from monitor.errors import ConfigError
from monitor.extract.selectors import selector_problem
from monitor.models import Change, Flag, Watch
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.store import Store
from monitor.views import terminal_safe
from monitor.watchlist import MAX_DOCUMENTS, MAX_TEXT, load_config
from monitor.watchlist.reader import MAX_FILE_BYTES
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer
from tests.peak import run_with_peak

ROOT = Path(__file__).parents[1]
LAUGHS = ROOT / "tests/data/billion_laughs.yaml"
ENTRY = "  - {id: d%d, company: C, title: T, url: 'http://x.test/%d'}\n"


def run_measured(args: list[str], timeout: float = 30) -> tuple[int, str, float, float]:
    """Runs `python -m monitor ARGS` in a fresh process: exit code, stderr, seconds, peak MB."""
    done = run_with_peak([sys.executable, "-m", "monitor", *args], timeout, cwd=ROOT)
    return done.code, done.stderr, done.seconds, done.peak_mb


def test_billion_laughs_stops_at_once_with_one_line(tmp_path: Path) -> None:
    code, err, seconds, peak_mb = run_measured(
        ["check", "--watchlist", str(LAUGHS), "--data", str(tmp_path / "data")]
    )
    assert code == 2
    assert err.strip() == (
        f"error: {LAUGHS}: more than 200,000 YAML values once aliases (*name) are expanded"
    )
    assert seconds < 10  # before: still running after 20 s, with 1.3 GB
    assert peak_mb < 300


def test_oversized_watchlist_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("documents:\n" + "".join(ENTRY % (i, i) for i in range(30_000)))
    assert path.stat().st_size > MAX_FILE_BYTES
    with pytest.raises(ConfigError, match=r"w\.yaml: file larger than 512,000 bytes"):
        load_config(path)


def test_too_many_documents_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("documents:\n" + "".join(ENTRY % (i, i) for i in range(MAX_DOCUMENTS + 1)))
    with pytest.raises(ConfigError, match=r"2,001 documents; at most 2,000 per file"):
        load_config(path)


def test_overlong_title_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    title = "Privacy " * (MAX_TEXT // 8 + 1)
    path.write_text(f"documents: [{{id: a, company: C, title: '{title}', url: 'http://x.test/'}}]")
    with pytest.raises(ConfigError, match=r"entry 1 \(a\): 'title' is longer than 2,000"):
        load_config(path)


def test_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "documents:\n"
        "  - &base {id: a, company: Example, title: P, url: 'http://x.test/a', remove: [nav]}\n"
        "  - {<<: *base, id: b, title: Terms, url: 'http://x.test/b'}\n"
    )
    docs = load_config(path, selector_problem).documents
    assert [(d.id, d.company, d.title, d.remove) for d in docs] == [
        ("a", "Example", "P", ("nav",)),
        ("b", "Example", "Terms", ("nav",)),
    ]


def test_bad_selector_stops_check_before_any_fetch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, local_server: LocalServer
) -> None:
    local_server.route("/p", body=policy())
    path = tmp_path / "w.yaml"
    write_watchlist(path, {"good": local_server.url("/p"), "typo": local_server.url("/p")})
    path.write_text(path.read_text() + "    select: 'main > > p'\n")
    result = run_cli(capsys, "check", "--watchlist", str(path), "--data", str(tmp_path / "d"))
    assert result.code == 2
    assert result.err.startswith(f"error: {path}: entry 2 (typo): 'select': invalid CSS selector")
    assert result.err.count("\n") == 1 and local_server.hits("/p") == 0


# Text a page or server can slip into what the commands print, and how it must look.
TERMINAL_CASES = [
    ("\x1b[2Jclear", "clear"),  # CSI: clear the screen
    ("a\x1b]52;c;aGVsbG8=\x07b", "ab"),  # OSC 52: write to the clipboard
    ("t\x1b]0;title\x1b\\x", "tx"),  # OSC with the ST terminator: retitle the window
    ("8bit \x9b31mred", "8bit red"),  # the C1 form of CSI
    ("reset\x1bc", "reset"),  # ESC c resets the terminal
    ("safe\rFORGED", "safe<U+000D>FORGED"),  # a carriage return overwrites the line
    ("bell\x07 nul\x00", "bell<U+0007> nul<U+0000>"),
    ("\u202eevil\u202c and \u2066iso\u2069", "<U+202E>evil<U+202C> and <U+2066>iso<U+2069>"),
    ("lone \udc80", "lone <U+DC80>"),
    ("Café 「訓練」 “quoted” — naïve", "Café 「訓練」 “quoted” — naïve"),
    ("line one\nline two", "line one\nline two"),
]


@pytest.mark.parametrize("raw,shown", TERMINAL_CASES)
def test_terminal_safe(raw: str, shown: str) -> None:
    assert terminal_safe(raw) == shown
    assert terminal_safe(raw, newlines=False) == shown.replace("\n", " ")


def unsafe_characters(text: str) -> list[str]:
    """What a terminal would act on, or a reader be fooled by, in printed output."""
    bidi = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
    return [
        c for c in text
        if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) <= 0x9F or ord(c) in bidi
    ]  # fmt: skip


HOSTILE_ITEM = (
    "<li>\x1b[2J\x1b]52;c;aGVsbG8=\x07We may use your public posts and photos to train our AI "
    "models \u202e(see below)\u202c \x9b31m for Café 「訓練」 “features”.</li>"
)
# The page is long enough that a few control characters do not make it look binary.
PADDING = "<li>" + "We keep your account details while your account is open. " * 40 + "</li>"


def test_commands_print_no_escape_sequences(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, local_server: LocalServer
) -> None:
    local_server.route("/p", body=policy(extra=PADDING))
    local_server.route("/zip", body=b"PK\x03\x04", content_type="application/x\x85zip")
    path = write_watchlist(tmp_path / "w.yaml", {"doc": local_server.url("/p"),
                                                  "zip": local_server.url("/zip")})  # fmt: skip
    data = str(tmp_path / "data")
    args = ["--watchlist", str(path), "--data", data, "--delay", "0", "--retries", "0"]
    run_cli(capsys, "check", *args)
    local_server.route("/p", body=policy(extra=PADDING + HOSTILE_ITEM))
    check = run_cli(capsys, "check", *args)
    assert "doc: changed: v1 -> v2 (AI-training language added)" in check.out
    printed = {
        cmd: run_cli(capsys, *cmd.split(), "--data", data)
        for cmd in ("changes", "explain 1", "diff doc", "status", "history doc")
    }
    records = json.loads(run_cli(capsys, "changes", "--json", "--diffs", "--data", data).out)
    statuses = json.loads(run_cli(capsys, "status", "--json", "--data", data).out)
    for cmd, result in printed.items():
        assert result.code == 0 and result.err == "", cmd
        assert unsafe_characters(result.out) == [], cmd
    stored = records[0]["flags"][0]["sentence"]  # the JSON keeps what was stored, intact
    assert terminal_safe(stored) in printed["explain 1"].out
    assert terminal_safe(stored) in printed["changes"].out
    assert "Café 「訓練」 “features”" in printed["diff doc"].out
    assert len(printed["diff doc"].out.splitlines()) > 3  # the diff keeps its lines
    error = next(s["last_error"] for s in statuses if s["document"] == "zip")
    assert "\x85" in error and "application/x<U+0085>zip" in printed["status"].out
    assert "\x85" not in check.out and "application/x<U+0085>zip" in check.out


def test_json_output_escapes_what_a_terminal_would_act_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, local_server: LocalServer
) -> None:
    local_server.route("/zip", body=b"PK\x03\x04", content_type="application/x\x85zip")
    path = write_watchlist(tmp_path / "w.yaml", {"zip": local_server.url("/zip")})
    data = str(tmp_path / "data")
    run_cli(capsys, "check", "--watchlist", str(path), "--data", data, "--retries", "0")
    out = run_cli(capsys, "status", "--json", "--data", data).out
    assert unsafe_characters(out) == [] and "application/x\\u0085zip" in out
    assert "application/x\x85zip" in json.loads(out)[0]["last_error"]


def paragraph(seed: int, words: int = 20_000) -> str:
    """A long paragraph with no full stop: one "sentence" of about 100 KB, flagged."""
    pick = random.Random(seed).choice
    vocabulary = "we keep your account details and records about how you use it while open".split()
    body = " ".join(pick(vocabulary) for _ in range(words))
    return f"{body} and we may use your public posts and photos to train our AI models"


def record_rewrite(store: Store, old: list[str], new: list[str], extra: str = "") -> Change:
    """Two stored versions and the change between them, as a check would record them."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    store.sync_documents([BIG], start)
    for n, paragraphs in enumerate((old, new)):
        text = "\n".join(paragraphs)
        snapshot = store.save_snapshot(f"<p>{text}</p>".encode(), "text/html", start)
        store.add_version(BIG.id, text, f"key{n}", snapshot, start + timedelta(minutes=n), "test")
    flags = tuple(
        Flag(s + extra, side, "train our AI models", "public-data-training", "r")
        for side, texts in (("removed", old), ("added", new))
        for s in texts
    )
    diff = "\n".join(f"[-{o}-]\n{{+{n}+}}" for o, n in zip(old, new, strict=True)) + extra
    return store.add_change(
        Change(
            id=0, document=BIG.id, company=BIG.company, title=BIG.title, url=BIG.url,
            detected_at=start + timedelta(hours=1), kind="changed", from_version=1, to_version=2,
            added_chars=sum(map(len, new)), removed_chars=sum(map(len, old)), diff_text=diff,
            flags=flags,
        )
    )  # fmt: skip


BIG = Watch("big-privacy", "Big", "Privacy Policy", "https://big.test/privacy")


def test_a_rewrite_of_a_huge_page_keeps_the_feeds_small(tmp_path: Path) -> None:
    store = Store(tmp_path)
    old, new = [paragraph(n) for n in range(12)], [paragraph(100 + n) for n in range(12)]
    change = record_rewrite(store, old, new)
    assert change.added_chars > 1_200_000 and len(change.flags) == 24
    write_feeds(store, tmp_path, FeedSettings(base_url="https://feeds.test/p/"))
    folder = tmp_path / "feeds"
    feeds = [p for p in folder.rglob("*") if p.suffix in (".rss", ".atom")]
    # 8 change feeds and the board's 2; all of them small.
    assert len(feeds) == 10 and sum(p.stat().st_size for p in feeds) < 2_000_000  # before: 8.4 MB
    link = f"https://feeds.test/p/changes/{change.id}.html"
    note = f"diff cut at 20,000 of {len(change.diff_text):,} characters; full change: "
    for path in (p for p in feeds if not p.name.startswith("board")):  # the change feeds
        body = html.unescape(path.read_text(encoding="utf-8"))  # the entry's HTML, unescaped
        assert f'{note}<a href="{link}">{link}</a>' in body, path
    page = (folder / f"changes/{change.id}.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    assert len(page.encode()) < 2_000_000 + 24 * 5_000 * 2  # the capped diff and sentences
    # Inline and side by side share the page's 2 MB budget; the page says how much it shows.
    [(shown, total)] = re.findall(r"diff cut at ([\d,]+) of ([\d,]+) characters", page)
    assert int(shown.replace(",", "")) <= 1_000_000 < int(total.replace(",", ""))
    assert f'href="{change.id}.diff"' in page  # the whole change, as a unified diff
    for version in (store.version(BIG.id, 1), store.version(BIG.id, 2)):
        assert version is not None and f"<code>{version.snapshot_sha256}</code>" in page
    assert page.count("<mark>train our AI models</mark>") == 24
    store.close()


def test_change_page_escapes_policy_text(tmp_path: Path) -> None:
    store = Store(tmp_path)
    hostile = ' <script>alert(1)</script> <img src=x onerror="x()"> \u202eevil\u202c \x1b[2J&amp;'
    change = record_rewrite(store, ["Old text."], ["We train our AI models."], extra=hostile)
    write_feeds(store, tmp_path, FeedSettings())
    page = (tmp_path / f"feeds/changes/{change.id}.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    assert "<script" not in page and "<img" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp;amp;" in page
    assert "\u202e" not in page and "&lt;U+202E&gt;evil&lt;U+202C&gt;" in page
    assert "<mark>train our AI models</mark>" in page and "category public-data-training" in page
    assert "AI-training language changed" in page and "high" in page
    store.close()
