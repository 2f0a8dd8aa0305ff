"""What a journalist must see, cite and prove (the journalist9 pass): a re-import fills in
where older imports came from, the window a change happened in is in every listing, and
`feed` says once when its links cannot work in a feed reader.

Real parts: a git repository built here (read by git), the CLI, a real SQLite store.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import run_cli
from tests.test_import import PATH, git, ota_repo, watchlist
from tests.test_journalist8 import REMOTE, REPO_URL

TABLES = ("fetches", "versions", "changes")
ORIGIN = ("origin_source", "origin_path")


def _import(capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Path) -> str:
    done = run_cli(capsys, "import", "ota", str(repo), "--document", "example-privacy",
                   "--path", PATH, "--watchlist", str(watchlist(tmp_path)),
                   "--data", str(tmp_path / "data"))  # fmt: skip
    assert done.code == 0, done.err
    return done.out


def _rows(data: Path) -> dict[str, list[dict[str, Any]]]:
    with sqlite3.connect(data / "monitor.db") as db:
        db.row_factory = sqlite3.Row
        return {t: [dict(r) for r in db.execute(f"select * from {t} order by id")] for t in TABLES}


@pytest.fixture
def github_repo(tmp_path: Path) -> Path:
    repo = ota_repo(tmp_path)
    git(repo, "remote", "add", "origin", REMOTE)
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    return repo


def test_a_reimport_fills_in_the_source_of_a_pre_m015_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], github_repo: Path
) -> None:
    """Was: rows imported before m015 kept NULL source and path for good, as importing the
    archive again skipped every step already recorded (nothing to cite but a commit id)."""
    _import(capsys, tmp_path, github_repo)
    data = tmp_path / "data"
    complete = _rows(data)
    assert all(r["origin_source"] == REPO_URL for t in TABLES for r in complete[t] if r["origin"])
    with sqlite3.connect(data / "monitor.db") as db:  # as a store imported before m015 has it
        for table in TABLES:
            db.execute(f"update {table} set origin_source = null, origin_path = null")
    blanked = _rows(data)
    assert blanked != complete
    said = _import(capsys, tmp_path, github_repo)
    assert _rows(data) == complete  # filled in, nothing else changed, no row added
    assert "3 already imported, 3 of them with their source and file filled in" in said
    again = _import(capsys, tmp_path, github_repo)  # idempotent: nothing left to fill
    assert _rows(data) == complete
    assert "filled in" not in again


def test_a_reimport_leaves_a_recorded_source_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], github_repo: Path
) -> None:
    """Only missing values are filled: a source already recorded is never rewritten (the
    same commits read from another clone keep the first one's citation)."""
    _import(capsys, tmp_path, github_repo)
    data = tmp_path / "data"
    with sqlite3.connect(data / "monitor.db") as db:
        db.execute("update versions set origin_source = 'kept' where number = 1")
        db.execute("update changes set origin_path = null")
    before = _rows(data)
    _import(capsys, tmp_path, github_repo)
    after = _rows(data)
    assert after["versions"] == before["versions"]
    assert {r["origin_path"] for r in after["changes"]} == {PATH}
    assert after["fetches"] == before["fetches"]


# The example history (tests/test_import.py): v1 read by the archive at 2022-01-10T09:00,
# v2 first at 2023-06-29T18:34:22. A change is only known to lie between the two.
WINDOW = ("2022-01-10T09:00:00+00:00", "2023-06-29T18:34:22+00:00")


def test_changes_json_gives_the_window_the_change_happened_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], github_repo: Path
) -> None:
    """Was: only `explain` said "happened between"; `changes --json` had the archive's
    sighting of the new text alone. New keys only: every old key keeps its value."""
    _import(capsys, tmp_path, github_repo)
    data = str(tmp_path / "data")
    for extra in ((), ("--diffs",)):
        first = json.loads(run_cli(capsys, "changes", "--json", *extra, "--data", data).out)[0]
        assert (first["window_start"], first["window_end"]) == WINDOW
        assert first["window_start_by"] == "archive"
        assert first["detected_at"] == WINDOW[1]


def test_history_and_the_change_page_give_the_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], github_repo: Path
) -> None:
    _import(capsys, tmp_path, github_repo)
    data = tmp_path / "data"
    history = run_cli(capsys, "history", "example-privacy", "--data", str(data)).out
    line = (f"change #1 happened between {WINDOW[0]} (v1 last seen, by the archive) and "
            f"{WINDOW[1]} (v2 first seen, by the archive)")  # fmt: skip
    assert line in history
    page = (data / "feeds" / "changes" / "1.html").read_text()
    assert "Happened between" in page and "2022-01-10 09:00:00 UTC</time> (v1 last seen" in page
    record = json.loads((data / "feeds" / "changes" / "1.json").read_text())
    assert (record["window_start"], record["window_end"]) == WINDOW


NOTICE = "--base-url"


@pytest.mark.parametrize(
    ("extra", "feeds_config", "noticed"),
    [
        ((), None, True),  # neither: file:// links, said once
        (("--base-url", "https://example.org/feeds/"), None, False),
        (("--watchlist", "{watchlist}"), "https://example.org/feeds/", False),
        (("--watchlist", "{watchlist}"), None, True),  # a watchlist without feeds: base_url
    ],
)
def test_feed_says_once_when_its_links_only_open_here(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], github_repo: Path,
    extra: tuple[str, ...], feeds_config: str | None, noticed: bool,
) -> None:  # fmt: skip
    """Was: a feed whose every entry linked a file:// page, silently: useless in a reader."""
    _import(capsys, tmp_path, github_repo)
    listing = tmp_path / "feeds.yaml"
    text = watchlist(tmp_path).read_text()
    if feeds_config:
        text += f"feeds:\n  base_url: {feeds_config}\n"
    listing.write_text(text)
    args = [a.format(watchlist=listing) for a in extra]
    done = run_cli(capsys, "feed", "--include-history", *args, "--data", str(tmp_path / "data"))
    assert done.code == 0, done.err
    links = [line for line in done.out.splitlines() if "<link>" in line]
    assert len(links) >= 3
    assert any("file://" in line for line in links) == noticed
    if noticed:
        lines = done.err.splitlines()
        assert len(lines) == 1 and NOTICE in lines[0] and "feeds: base_url" in lines[0], lines
    else:
        assert done.err == ""


# Two variants flipping within hours after a text read two weeks earlier (as Meta's privacy
# policy did, v76 and v77, 2026-04-30 to 05-01), then a real edit.
VARIANT = "- A regional paragraph shown to some readers.\n"
FLIP = [
    ("2020-07-29T14:30:20+00:00", "v1", ""),
    ("2020-08-12T13:04:12+00:00", "variant", VARIANT),
    ("2020-08-12T14:30:27+00:00", "v1 again", ""),
    ("2020-08-12T15:00:00+00:00", "variant again", VARIANT),
    ("2020-08-18T14:30:28+00:00", "edit", "- To develop new services.\n"),
]


def test_variants_flipping_within_the_ab_window_count_as_one_change_and_a_return(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a live check records it: the variant is a change, the first flip back a return,
    later flips within the A/B window (72 h) alternating, no change. Was: every flip a
    change, as an archive records a step only when the text changes, so v1 (read 14 days
    before, on the page until the variant's step) was not counted as seen in the window;
    live checks read it every few hours."""
    repo = ota_repo(tmp_path, FLIP)
    _import(capsys, tmp_path, repo)
    found = json.loads(run_cli(capsys, "changes", "--json",
                               "--data", str(tmp_path / "data")).out)  # fmt: skip
    assert [(c["from_version"], c["to_version"], c["note"]) for c in found] == [
        (1, 2, ""), (2, 1, "returned to the text of v1"), (2, 3, "")]  # fmt: skip


# Sentences of the corpus's histories whose change was only "medium" (LinkedIn's change of
# 2025-09-18, the Meta (French) and Google ones): a legal basis for training stated.
LEGAL_BASIS = [
    "On November 3, 2025, we are updating this notice to provide information about our "
    "reliance on Legitimate Interests as the legal basis for training content-generating AI "
    "models used in our products.",
    "Google Ireland Limited is the data controller responsible for processing information "
    "to train Google’s AI models for the purpose of deploying them in services provided by "
    "Google Ireland Limited in the European Economic Area or Switzerland.",
]
PLAIN_TEXT = "We collect the content you create, such as posts and photos."


@pytest.mark.parametrize("sentence", LEGAL_BASIS)
def test_a_legal_basis_for_training_added_is_high(sentence: str) -> None:
    """Was: "medium", like a wording change of an opt-out. A legal basis stated for training
    is the company claiming the right to train on people's data (legitimate interests: with
    no consent asked): what a reader must see first. Removed alone, it protects no one."""
    from monitor.classify import classify
    from monitor.models import Change
    from monitor.views import severity_reason

    added = classify(PLAIN_TEXT, f"{PLAIN_TEXT}\n{sentence}")
    assert [f.category for f in added.flags] == ["legal-basis"]
    change = Change(1, "d", "C", "T", "u", datetime.now(UTC), "changed", 1, 2, 1, 0, "",
                    flags=added.flags)  # fmt: skip
    assert change.severity == "high"
    assert "a legal basis for training or AI development stated" in severity_reason(change)
    removed = classify(f"{PLAIN_TEXT}\n{sentence}", PLAIN_TEXT)
    assert removed.flags and replace(change, flags=removed.flags).severity == "medium"


def test_evidence_and_explain_tie_the_window_and_hashes_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], github_repo: Path
) -> None:
    """Was: the evidence folder's README gave the archive's date alone, and `explain` named
    no hash, so its sentences could not be tied to the files attached to a story."""
    _import(capsys, tmp_path, github_repo)
    data = tmp_path / "data"
    out = tmp_path / "evidence"
    assert run_cli(capsys, "evidence", "1", "--out", str(out), "--data", str(data)).code == 0
    readme = (out / "README.txt").read_text()
    assert (f"happened between {WINDOW[0]} (v1 last seen, by the archive) and {WINDOW[1]} "
            "(v2 first seen, by the archive)") in readme  # fmt: skip
    explain = run_cli(capsys, "explain", "1", "--data", str(data)).out
    with sqlite3.connect(data / "monitor.db") as db:
        hashes = db.execute("select number, text_sha256, snapshot_sha256 from versions "
                            "where number in (1, 2) order by number").fetchall()  # fmt: skip
    for number, text, snapshot in hashes:
        assert f"v{number}: text sha256 {text}, snapshot sha256 {snapshot}" in explain
        assert text in readme and snapshot in readme


def test_the_window_of_each_listed_change_is_an_index_seek(tmp_path: Path) -> None:
    """Bench (bench/queries.py): `changes --json` on 10,000 changes and 73,000 steps took
    18 s once each change's window was read: its subquery walked back through every step
    of the document before the change (the (document, started_at) index) to find one that
    read the old version. m016's index on (document, version, started_at) seeks it."""
    from monitor.store import Store
    from monitor.store.db import _WINDOW_COLUMNS

    store = Store(tmp_path / "data")
    sql = f"explain query plan select {_WINDOW_COLUMNS} from changes c"
    plan = " ".join(str(row[-1]) for row in store.db.execute(sql).fetchall())
    assert plan.count("idx_fetches_document_version_started_at") == 2, plan
