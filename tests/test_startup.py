"""Start-up stays cheap: `--help` and the reading commands load no parser, client or diff.

Each case runs a fresh interpreter (imports are per process) and lists which heavy
libraries a command left in ``sys.modules``; bench/startup.py measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.check import observe
from monitor.check.decide import Policy
from monitor.cli import options
from monitor.diff import diff_texts
from monitor.extract import html, limits, version
from monitor.models import Change, Watch
from monitor.store import Store

LAZY = ("bs4", "soupsieve", "markdown_it", "cssselect")
HEAVY = ("bs4", "httpx", "diff_match_patch", "feedgen", "yaml", "monitor.check.pipeline")
RUN = """
import json, sys
from monitor.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded(*args: str) -> tuple[list[str], str]:
    """The heavy modules `policy-monitor ARGS` imported, and what it printed."""
    code = RUN.format(heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    return json.loads(proc.stderr.strip().splitlines()[-1]), proc.stdout


def test_option_defaults_agree_with_the_modules_they_stand_for() -> None:
    from monitor import importer
    from monitor.cli import imports, site
    from monitor.importer import wayback
    from monitor.publish import write

    assert (imports.DEFAULT_ARCHIVE, imports.ARCHIVE_ENV) == (
        importer.DEFAULT_ARCHIVE, importer.ARCHIVE_ENV)  # fmt: skip
    assert wayback.Wayback.__dataclass_fields__["base"].default == importer.DEFAULT_ARCHIVE
    assert site.FEED_DIR == write.FEED_DIR
    assert options.ALERT_AFTER == Policy().alert_after
    # one lxml-free home for the extractor's version and limits, read by all of them
    assert html.EXTRACTOR_VERSION is version.EXTRACTOR_VERSION is observe.EXTRACTOR_VERSION
    for module in (options, limits, observe):
        assert (module.MAX_PARSE_BYTES, module.MAX_ELEMENTS) == (
            version.MAX_PARSE_BYTES, version.MAX_ELEMENTS)  # fmt: skip
    assert observe.Extractor() == observe.Extractor(
        "7", max_parse_bytes=5_000_000, max_elements=50_000)  # fmt: skip


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("status", "--help")])
def test_help_loads_no_parser_client_or_diff(args: tuple[str, ...]) -> None:
    heavy, out = loaded(*args)
    assert heavy == []
    assert "Usage:" in out


def test_help_opens_no_store() -> None:
    """Neither the store nor sqlite-utils (0.07 s: only a database whose schema is behind
    loads it) is for `--help`."""
    code = RUN.format(heavy=("sqlite_utils", "monitor.store"))
    proc = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True)
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []


def test_reading_commands_load_no_diff_and_diff_shows_one_side_per_line(tmp_path: Path) -> None:
    """`status` and `changes` load no diff library; `diff` diffs the two texts again (its
    one-side-per-line view needs the word operations; the diff has a total time budget)."""
    old = "# Policy\nWe keep your data.\nWe sell nothing.\n"
    new = "# Policy\nWe keep your data for a year.\nWe sell nothing.\n"
    at = datetime(2026, 11, 1, tzinfo=UTC)
    store = Store(tmp_path)
    store.sync_documents([Watch("doc", "C", "T", "http://x.test/")], at)
    for text in (old, new):
        store.add_version("doc", text, text, "0" * 64, at, extractor="2")
    rendered = diff_texts(old, new).rendered
    store.add_change(Change(id=0, document="doc", company="", title="", url="", detected_at=at,
                            kind="changed", from_version=1, to_version=2, added_chars=12,
                            removed_chars=0, diff_text=rendered))  # fmt: skip
    store.close()
    for command in ("status", "changes"):
        heavy, out = loaded(command, "--data", str(tmp_path))
        assert "diff_match_patch" not in heavy and "doc" in out, command
    heavy, out = loaded("diff", "doc", "--data", str(tmp_path))
    assert "diff_match_patch" in heavy
    assert "- We keep your data." in out and "+ We keep your data{+ for a year+}." in out


@pytest.mark.parametrize(
    "body,ctype",
    [
        ("<html><body><main><p>{text}</p></main></body></html>", "text/html; charset=utf-8"),
        ("<head><meta charset='utf-8'></head><main><p>{text}</p></main>", "text/html"),
        ("<main><p>{text}</p></main>", "text/html"),  # undeclared, ASCII: UTF-8 fits
    ],
    ids=["header-charset", "meta-charset", "undeclared-ascii"],
)
def test_extracting_a_page_loads_no_beautifulsoup(body: str, ctype: str) -> None:
    """The check path extracts on lxml's tree: BeautifulSoup (0.1-0.2 s to import with
    soupsieve) is loaded only to detect the charset of a page that declares none, the
    markdown renderer only for markdown, cssselect only for a watchlist selector."""
    text = "We collect the information you give us when you create an account. " * 3
    code = (
        "import json, sys\nfrom monitor.extract.html import extract_text\n"
        f"out = extract_text({body.format(text=text).encode()!r}, {ctype!r})\n"
        f"print(json.dumps([len(out.split()), [m for m in {LAZY!r} if m in sys.modules]]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == [36, []]


def test_an_unchanged_check_loads_no_parser_diff_rules_or_feed_library(tmp_path: Path) -> None:
    """A check that gets a 304 records its fetch and publishes nothing: it reads the feeds
    stamp and imports no parser, diff, rule packs, feed or template library; a stamp whose
    rules fingerprint is stale (new rule files) has the board and feeds looked at again."""
    from tests.cli_helpers import policy, write_watchlist
    from tests.httpserver import LocalServer, Reply, Request

    def answer(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, policy(), {"ETag": '"v1"'})

    data = tmp_path / "data"
    lazy = ("lxml.etree", "diff_match_patch", "feedgen", "jinja2", "monitor.classify",
            "monitor.board", "monitor.publish.write", "sqlite_utils", "monitor.phrase",
            "monitor.linediff")  # fmt: skip
    code = RUN.format(heavy=lazy)
    with LocalServer() as server:
        server.handle("/p", answer)
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        args = ["check", "--watchlist", str(watchlist), "--data", str(data)]
        runs = [subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                               text=True) for _ in range(3)]  # fmt: skip
        stamp = (data / "feeds.stamp").read_text().split("\n")
        (data / "feeds.stamp").write_text("\n".join([*stamp[:2], "0" * 16 + " old-rules"]))
        again = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    found = [json.loads(r.stderr.strip().splitlines()[-1]) for r in [*runs, again]]
    assert [r.stdout.strip() for r in runs] == [
        "doc: first version (v1)",
        "doc: unchanged (v1, 304)",
        "doc: unchanged (v1, 304)",
    ]
    assert "lxml.etree" in found[0] and "feedgen" in found[0]  # the first one reads and publishes
    assert "sqlite_utils" not in found[0]  # it makes the database from one script (baseline.py)
    assert found[2] == []  # the second wrote the stamp's rules line; the third needs nothing
    assert "monitor.publish.write" in found[3]  # the stale fingerprint: looked at again
    assert (data / "feeds.stamp").read_text().split("\n") == stamp
    store = Store(data)
    assert [f.result for f in store.fetches("doc")] == ["not-modified"] * 3 + ["ok"]
    store.close()
