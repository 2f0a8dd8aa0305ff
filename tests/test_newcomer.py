"""What a newcomer trying the README hit: typos in a filter must say so, not print nothing.

A replayed history through the real CLI against pages on 127.0.0.1.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feed_replay import HISTORY, Replay
from tests.httpserver import LocalServer

KNOWN_DOCS = ", ".join(d["id"] for d in HISTORY["documents"])
FILL = "".join(f"<p>Section {n}: you may delete your account at any time.</p>" for n in range(9))
FIRST = HISTORY["documents"][0]["id"]

# (command line, the one line it must print on stderr)
TYPOS = [
    (("feed", "--document", "nope"), f"error: no document 'nope' recorded; known: {KNOWN_DOCS}"),
    (("feed", "--document", "nope", "--format", "atom", "--ai-only"), "error: no document 'nope'"),
    (("feed", "--company", "Nope"), "error: no company 'Nope' recorded; known: "),
    (("feed", "--company", "Nope", "--document", FIRST), "error: no company 'Nope'"),
    (("changes", "--document", "nope"), f"error: no document 'nope' recorded; known: {KNOWN_DOCS}"),
    (("changes", "--document", "nope", "--json"), "error: no document 'nope'"),
]


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    """`policy-monitor ARGS` in a real subprocess: real exit status, real stderr."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True,
        timeout=120, cwd=Path(__file__).parent.parent, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    with LocalServer() as pages:
        replay = Replay(tmp_path_factory.mktemp("replay"), pages)
        replay.run_all()
        yield replay


@pytest.mark.parametrize(("args", "message"), TYPOS)
def test_an_unknown_document_or_company_is_a_one_line_error(
    played: Replay, args: tuple[str, ...], message: str
) -> None:
    """Was: an empty but valid feed dated 1970 (or `no changes recorded`), exit 0."""
    result = monitor(*args, "--data", str(played.data))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_known_filters_still_print_their_feed(played: Replay) -> None:
    doc = HISTORY["documents"][0]
    for args in (("--document", doc["id"]), ("--company", doc["company"])):
        result = played.cli("feed", *args)
        assert result.code == 0 and "<rss" in result.out and "1970" not in result.out, args
    listed = played.cli("changes", "--document", doc["id"])
    assert listed.code == 0 and doc["id"] in listed.out


def test_evidence_of_an_imported_change_names_the_archive_not_a_fetch(tmp_path: Path) -> None:
    """Was: README.txt said the page was "as fetched at" the archive's time, as if the
    monitor had fetched it (and the manifest showed the import's HTTP 200)."""
    saved = tmp_path / "saved"
    saved.mkdir()
    for name, words in (("2024-06-26T10:00:00Z", "keep it"), ("2024-07-01T10:00:00Z", "train")):
        body = f"<main><h1>Acme Terms</h1><p>We {words} your posts for AI.</p>{FILL}</main>"
        (saved / f"{name}.html").write_text(f"<html><body>{body}</body></html>")
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text(
        "documents:\n  - {id: acme, company: Acme, title: Acme Terms,"
        " url: 'https://example.org/terms'}\n"
    )
    data = tmp_path / "data"
    run = ("--watchlist", str(watchlist), "--data", str(data))
    assert monitor("import", "snapshots", str(saved), "--document", "acme", *run).returncode == 0
    assert (
        monitor("evidence", "1", "--data", str(data), "--out", str(tmp_path / "ev")).returncode == 0
    )
    readme = (tmp_path / "ev" / "README.txt").read_text()
    assert "as fetched" not in readme
    assert readme.count("as a saved snapshot, file 2024-0") == 2
    assert "Not fetched by\n      policy-monitor: cite the archive" in readme
    manifest = json.loads((tmp_path / "ev" / "manifest.json").read_text())
    after = manifest["versions"]["after"]["origin"]
    # journalist8: where to cite it too (a snapshot's folder and file; no link to make)
    assert after == {
        "archive": "snapshots", "ref": "2024-07-01T10:00:00Z.html",
        "archived_at": "2024-07-01T10:00:00+00:00", "source": "saved",
        "path": "2024-07-01T10:00:00Z.html", "url": None, "commit_url": None,
    }  # fmt: skip
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path / "ev", check=False)
    assert checked.returncode == 0
    # So does the change page's evidence (was: "HTTP 200 from URL", a fetch never made).
    assert monitor("site", "--data", str(data), "--out", str(tmp_path / "site")).returncode == 0
    page = (tmp_path / "site" / "changes" / "1.html").read_text(encoding="utf-8")
    assert "HTTP 200 from" not in page
    for ref in ("2024-06-26T10:00:00Z.html", "2024-07-01T10:00:00Z.html"):
        assert f"not fetched by the monitor: Imported from snapshots {ref}" in page
    # The CSV says so too (was: only `changes --json` told imported from live changes).
    table = monitor("changes", "--format", "csv", "--data", str(data)).stdout
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [(r["origin"], r["origin_ref"], r["archived_at"]) for r in rows] == [
        ("snapshots", "2024-07-01T10:00:00Z.html", "2024-07-01T10:00:00+00:00")
    ]


def test_an_unreadable_imported_page_is_counted_as_failed_not_imported(tmp_path: Path) -> None:
    """Was: `2 step(s) imported, 0 change(s)` and `status=imported` for pages that gave
    no text at all: nothing said the import recorded no version."""
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "2024-06-26T10:00:00Z.html").write_text(f"<html><body><main>{FILL}</main></html>")
    (saved / "2024-07-01T10:00:00Z.html").write_text("<html><body><script>1</script></html>")
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text(
        "documents:\n  - {id: acme, company: Acme, title: Acme Terms,"
        " url: 'https://example.org/terms'}\n"
    )
    run = ("--watchlist", str(watchlist), "--data", str(tmp_path / "data"))
    result = monitor("import", "snapshots", str(saved), "--document", "acme", *run)
    assert result.returncode == 0
    assert (
        result.stdout
        == "acme: snapshots: 1 step(s) imported, 0 change(s), 0 AI-training, 1 failed\n"
    )
    assert "status=failed" in result.stderr and (
        "warning: acme: snapshots 2024-07-01T10:00:00Z.html: failed: no policy text"
        in result.stderr
    )
    again = monitor("import", "snapshots", str(saved), "--document", "acme", *run)
    assert again.stdout.endswith(
        "0 step(s) imported, 0 change(s), 0 AI-training, 2 already imported\n"
    )


def test_every_link_of_the_index_stays_inside_the_published_folder(played: Replay) -> None:
    """Was: the operations feed linked as `../ops/operations.rss`, a 404 once the folder is
    served (`serve`, or rsync'd as the README says): name it, do not link out of the site."""
    site = played.data / "feeds"
    page = (site / "index.html").read_text(encoding="utf-8")
    local = [h for h in re.findall(r'(?:href|src)="([^"]+)"', page) if "://" not in h]
    assert len(local) > 10
    for href in local:
        target = (site / href.split("#")[0]).resolve()
        assert target.is_relative_to(site.resolve()) and target.is_file(), href
    assert "Operators: the operations feed, <code>../ops/operations.rss</code> from" in page
