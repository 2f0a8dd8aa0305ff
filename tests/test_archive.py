"""The archive for journalists: searchable paragraphs (m010), `first-seen`, `evidence`,
`changes --format csv`. Real parts: a local server, a real SQLite file, the real
`sha256sum`; the matching rule and the phrase histories are data-driven."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
import yaml

from monitor import phrase
from monitor.cli.archive import find_phrase
from monitor.errors import MonitorError
from monitor.export import COLUMNS, DIFF_COLUMNS, changes_csv
from monitor.models import Change, Flag, Upgrade, Version
from monitor.store import Store, migrations, search
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer

DATA = Path(__file__).parent / "data"
MATCH_CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "phrase_cases.yaml").read_text())
HISTORIES: list[dict[str, Any]] = yaml.safe_load((DATA / "phrase_histories.yaml").read_text())
T0 = datetime(2026, 1, 1, tzinfo=UTC)
AI = "<li>We may use your public posts and photos to train our AI models.</li>"
OTHER = "<li>We may share your data with our partners.</li>"


# -- the matching rule and the FTS prefilter ---------------------------------------------
@pytest.mark.parametrize("case", MATCH_CASES, ids=[c["name"] for c in MATCH_CASES])
def test_matching_rule(case: dict[str, Any]) -> None:
    pattern = phrase.phrase_pattern(case["phrase"])
    assert phrase.contains(case["text"], pattern) is case["match"]


@pytest.mark.parametrize("case", [c for c in MATCH_CASES if c["match"]], ids=lambda c: c["name"])
def test_fts_prefilter_finds_every_match(case: dict[str, Any]) -> None:
    """The FTS5 query is broader than the rule: it never drops a text that matches."""
    query = phrase.fts_query(case["phrase"])
    if query is None:  # no narrowing: every version is read
        assert not case["phrase"].isascii()
        return
    db = sqlite3.connect(":memory:")
    db.execute("create virtual table t using fts5 (text)")
    db.execute("insert into t (text) values (?)", [case["text"]])
    assert db.execute("select count(*) from t where t match ?", [query]).fetchone()[0] == 1


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        ("Intro.\nWe train AI models here.\nEnd.", 240, "We train AI models here."),
        ("one two three four AI models five six seven eight", 21, "…four AI models five…"),
        ("AI  MODELS\nrest", 240, "AI MODELS"),
        ("nothing here", 240, ""),
    ],
)
def test_excerpt_is_the_line_cut_between_words(text: str, width: int, shown: str) -> None:
    assert phrase.excerpt(text, phrase.phrase_pattern("ai models"), width) == shown


def _version(number: int) -> Version:
    return Version(
        "doc", number, f"t{number}", f"k{number}", f"s{number}",
        T0 + timedelta(days=number), T0 + timedelta(days=number),
    )  # fmt: skip


def _move(kind: str, ident: int, old: int, new: int, at: datetime) -> Change | Upgrade:
    if kind == "upgrade":
        return Upgrade(ident, "doc", at, old, new, "1", "2")
    return Change(ident, "doc", "C", "T", "https://c.test/", at, "changed", old, new, 0, 0, "")


@pytest.mark.parametrize("case", HISTORIES, ids=[c["name"] for c in HISTORIES])
def test_phrase_history(case: dict[str, Any]) -> None:
    moves = [
        _move(kind, ident, old, new, T0 + timedelta(hours=k))
        for k, (kind, ident, old, new) in enumerate(case["moves"])
    ]
    found = phrase.phrase_history(
        "x", set(case["present"]), [_version(n) for n in range(1, case["versions"] + 1)],
        [m for m in moves if isinstance(m, Change)], [m for m in moves if isinstance(m, Upgrade)],
        case["current"],
    )  # fmt: skip
    if case["expect"] is None:
        assert found is None
        return
    assert found is not None
    got = {key: getattr(found, key) for key in case["expect"]}
    assert got == case["expect"]
    assert found.first_seen == _version(case["expect"]["version"]).first_seen


# -- the store: paragraphs (schema step m010) ------------------------------------------------
def _old_store(path: Path, texts: list[str]) -> None:
    """A database as m006-m009 wrote it: zlib texts, a delta, plain copies with FTS."""
    from monitor.store import delta

    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m010_paragraphs")
    old["documents"].insert({"id": "doc", "company": "C", "title": "T", "url": "https://c.test/"})
    for number, text in enumerate(texts, 1):
        data = text.encode()
        stored = zlib.compress(data) if number == 1 else delta.make(texts[0].encode(), data)
        old["versions"].insert({
            "document": "doc", "number": number, "text_sha256": hashlib.sha256(data).hexdigest(),
            "key_sha256": f"k{number}", "text": stored, "text_base": None if number == 1 else 1,
            "snapshot_sha256": "s", "first_seen": f"2026-01-0{number}T00:00:00+00:00",
            "last_seen": "2026-01-01T00:00:00+00:00",
        })  # fmt: skip
        old["version_texts"].insert({"id": number, "document": "doc", "number": number,
                                     "first_seen": "x", "text": text})  # fmt: skip
    old.close()


def test_m010_converts_old_texts_to_paragraphs_datasette_can_search(tmp_path: Path) -> None:
    texts = ["We sell nothing.\n\nContact us.", "We may train our AI\nmodels on your posts.\n"
             "\nContact us.", "Our AI models learn.\n\nContact us."]  # fmt: skip
    _old_store(tmp_path / "monitor.db", texts)
    store = Store(tmp_path)  # upgrades the database
    db = store.db
    assert [store.version("doc", n).text for n in (1, 2, 3)] == texts  # type: ignore[union-attr]
    stored = db.execute("select text, text_base, paragraph_ids from versions").fetchall()
    assert all(text is None and base is None and ids for text, base, ids in stored)
    # "Contact us." and the blank line are stored once for the three versions.
    assert db.execute("select count(*) from paragraphs").fetchone()[0] == 6
    # Datasette's and sqlite-utils' rule for finding a table's full-text index.
    assert db["paragraphs"].detect_fts() == "paragraphs_fts"
    assert [r["text"] for r in db["paragraphs"].search('"AI models"')] == ["Our AI models learn."]
    view = db.execute("select number, text from version_texts order by number").fetchall()
    assert view == [(n, t) for n, t in enumerate(texts, 1)]
    lines = db.execute(
        "select text from version_paragraphs where number = 2 order by run, paragraph_id"
    ).fetchall()
    assert [line for (line,) in lines] == texts[1].split("\n")
    store.add_version("doc", "Now AI models everywhere.\n\nContact us.", "k4", "s", T0, "2")
    assert db.execute("select count(*) from paragraphs").fetchone()[0] == 7
    assert store.version("doc", 4).text.startswith("Now AI")  # type: ignore[union-attr]
    # first-seen counts the phrase split over two lines (v2) as the text holds it.
    found = find_phrase(store, "doc", "AI models")
    assert (found.version, found.excerpt) == (2, "We may train our AI models on your posts.")
    store.close()


def test_m010_keeps_a_text_that_does_not_check_in_its_old_form(tmp_path: Path) -> None:
    _old_store(tmp_path / "monitor.db", ["One.", "One.\nTwo."])
    db = sqlite3.connect(tmp_path / "monitor.db")
    db.execute("update versions set text_sha256 = 'not this' where number = 1")
    db.commit()
    db.close()
    store = Store(tmp_path)
    rows = store.db.execute("select number, text is null, paragraph_ids from versions").fetchall()
    # v1 does not check: kept as it was, and so is its blob, the base of v2's old delta.
    assert [(n, gone, bool(ids)) for n, gone, ids in rows] == [(1, 0, False), (2, 1, True)]
    assert store.version("doc", 2).text == "One.\nTwo."  # type: ignore[union-attr]
    assert find_phrase(store, "doc", "two").version == 2
    store.close()


LINES_CASES = [  # (the version's text, phrase, held by the whole-text rule)
    ("We train our AI\nmodels here.", "AI models", True),
    ("We train our AI\n\n \nmodels here.", "AI models", True),  # blank lines between
    ("Intro\nWe train AI models.\nEnd", "train AI models", True),
    ("We train\nour AI\nmodels", "we train our AI models", False),  # over three lines
    ("AI\nmodelsX", "AI models", False),
    ("xAI\nmodels", "AI models", False),
    ("Café IA\nmodèles", "ia modèles", True),  # not ASCII: no FTS narrowing
    ("Nothing here.\nAt all.", "AI models", False),
]


@pytest.mark.parametrize(("text", "wanted", "held"), LINES_CASES)
def test_first_seen_over_paragraphs_follows_the_rule(
    tmp_path: Path, text: str, wanted: str, held: bool
) -> None:
    """A version is its lines: the phrase is found in one line or across two (blank ones
    skipped); only a phrase spread over three or more lines is missed (README)."""
    store = Store(tmp_path)
    store.db["documents"].insert({"id": "doc", "company": "C", "title": "T", "url": "u"})
    store.add_version("doc", "Unrelated first version.", "k0", "s", T0, "1")
    store.add_version("doc", text, "k1", "s", T0, "1")
    pattern = phrase.phrase_pattern(wanted)
    whole = phrase.contains(text, pattern)
    if held:
        assert whole and find_phrase(store, "doc", wanted).version == 2
    else:
        with pytest.raises(MonitorError):
            find_phrase(store, "doc", wanted)
        assert whole == (wanted == "we train our AI models")  # the one documented miss
    store.close()


@pytest.mark.parametrize("case", [c for c in MATCH_CASES if c["match"]], ids=lambda c: c["name"])
def test_every_matching_case_is_found_through_the_store(
    tmp_path: Path, case: dict[str, Any]
) -> None:
    store = Store(tmp_path)
    store.db["documents"].insert({"id": "doc", "company": "C", "title": "T", "url": "u"})
    store.add_version("doc", case["text"], "k1", "s", T0, "1")
    assert find_phrase(store, "doc", case["phrase"]).version == 1
    store.close()


def test_the_prefilter_reads_only_candidate_paragraphs(tmp_path: Path) -> None:
    """300 versions, the phrase in the last 3: the index names the one line holding it."""
    store = Store(tmp_path)
    store.db["documents"].insert({"id": "doc", "company": "C", "title": "T", "url": "u"})
    filler = "\n".join(f"clause {n} about data sharing and retention." for n in range(300))
    for n in range(1, 301):
        extra = "\nWe train AI models on posts." if n > 297 else ""
        store.add_version("doc", f"Version {n}.\n{filler}{extra}", f"k{n}", "s", T0, "1")
    lists, legacy = search.paragraph_lists(store, "doc")
    ids = {pid for listed in lists.values() for pid in listed}
    assert legacy == [] and len(ids) == 300 + 300 + 1  # "Version n.", the clauses, the AI line
    read = search.paragraph_texts(store, ids, phrase.fts_query("AI models"))
    assert list(read.values()) == ["We train AI models on posts."]
    assert phrase.holding(lists, read, phrase.phrase_pattern("AI models")) == {298, 299, 300}
    assert len(search.paragraph_texts(store, ids, None)) == len(ids)  # no narrowing: all
    store.close()


# -- the commands, end to end ----------------------------------------------------------------
@pytest.fixture
def history(tmp_path: Path) -> Any:
    """A document whose AI clause is added (v2), withdrawn (v3) and restored (back to v2)."""
    with LocalServer() as server:
        watchlist = write_watchlist(tmp_path / "w.yaml", {"example-privacy": server.url("/p")})
        data = tmp_path / "data"
        args = ["--watchlist", str(watchlist), "--data", str(data), "--delay", "0"]
        yield server, args, data


def _play(capsys: pytest.CaptureFixture[str], history: Any, pages: list[str]) -> Path:
    server, args, data = history
    for extra in pages:
        server.route("/p", body=policy(extra=extra))
        assert run_cli(capsys, "check", *args).code == 0
    return Path(data)


def test_first_seen_added_removed_and_back(
    capsys: pytest.CaptureFixture[str], history: Any
) -> None:
    data = _play(capsys, history, ["", AI, OTHER, AI])
    result = run_cli(capsys, "first-seen", "example-privacy", "ai  MODELS", "--json",
                     "--data", str(data))  # fmt: skip
    assert result.code == 0, result.err
    found = json.loads(result.out)
    changes = json.loads(run_cli(capsys, "changes", "--json", "--data", str(data)).out)
    v2 = next(c for c in changes if c["to_version"] == 2)
    assert found["version"] == 2 and found["change"] == v2["id"]
    assert found["first_seen"] == v2["detected_at"]
    assert found["removed_by"] == changes[1]["id"] and found["returned_by"] == changes[2]["id"]
    assert found["present_now"] is True
    assert found["excerpt"] == "- We may use your public posts and photos to train our AI models."
    assert [e["event"] for e in found["events"]] == ["added", "removed", "added"]
    text = run_cli(capsys, "first-seen", "example-privacy", "AI models", "--data", str(data)).out
    assert f"first seen in v2 on {v2['detected_at']}, introduced by change #{v2['id']}" in text
    assert f"removed by change #{changes[1]['id']}, back with #{changes[2]['id']}" in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nope", "AI"], 2, "error: no document 'nope' recorded; known: example-privacy\n"),
        (["example-privacy", "blockchain"], 1,
         "error: example-privacy: 'blockchain' is in none of its 2 version(s) (v1-v2); "
         f"matched with {phrase.MATCHING}\n"),
        (["example-privacy", "   "], 2, "give some words to look for"),
    ],
    ids=["unknown-document", "never-present", "empty-phrase"],
)  # fmt: skip
def test_first_seen_errors(
    capsys: pytest.CaptureFixture[str], history: Any, args: list[str], code: int, message: str
) -> None:
    data = _play(capsys, history, ["", AI])
    result = run_cli(capsys, "first-seen", *args, "--data", str(data))
    assert result.code == code and message in result.err and result.err.count("\n") == 1


def test_evidence_verifies_with_sha256sum(capsys: pytest.CaptureFixture[str], history: Any) -> None:
    data = _play(capsys, history, ["", AI])
    out = data.parent / "evidence"
    result = run_cli(capsys, "evidence", "1", "--out", str(out), "--data", str(data))
    assert result.code == 0, result.err
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    names = sorted(p.name for p in out.iterdir())
    assert check.stdout.count(": OK\n") == len(names) - 1  # all but SHA256SUMS itself
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["change"]["id"] == 1 and manifest["change"]["ai_training"] is True
    store = Store(data, read_only=True)
    for label, number in (("before", 1), ("after", 2)):
        side = manifest["versions"][label]
        version = store.version("example-privacy", number)
        assert version is not None and side["version"] == number
        raw = out / side["snapshot_file"]
        assert version.snapshot_sha256 in raw.name and raw.suffix == ".html"
        assert raw.read_bytes() == store.snapshot(version.snapshot_sha256)[0]  # as fetched
        assert (out / side["text_file"]).read_text() == version.text
        assert side["fetch"]["http_status"] == 200 and side["fetch"]["url"].endswith("/p")
        assert any(k.lower() == "content-type" for k, _ in side["fetch"]["headers"])
        assert side["fetch"]["fetched_at"] and side["first_seen"]
    store.close()
    for name, facts in manifest["files"].items():
        assert facts["bytes"] == (out / name).stat().st_size
    diff = (out / "change-1.diff").read_text()
    assert diff.startswith("--- v1 (example-privacy)\n+++ v2") and "\n+- We may use" in diff
    assert "sha256sum -c SHA256SUMS" in (out / "README.txt").read_text()
    (out / "change-1.diff").write_text("edited")  # a tampered file fails the check
    tampered = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True,
                              text=True, check=False)  # fmt: skip
    assert tampered.returncode == 1 and "change-1.diff: FAILED" in tampered.stdout
    again = run_cli(capsys, "evidence", "1", "--out", str(out), "--data", str(data))
    assert again.code == 2 and "not an empty folder" in again.err


@pytest.mark.parametrize("command", ["evidence", "explain"])
def test_unknown_change_ids_say_which_exist(
    capsys: pytest.CaptureFixture[str], history: Any, command: str
) -> None:
    data = _play(capsys, history, ["", AI, OTHER])
    extra = ["--out", str(data.parent / "x")] if command == "evidence" else []
    result = run_cli(capsys, command, "99", *extra, "--data", str(data))
    assert result.code == 2
    assert result.err == "error: no change #99: changes are #1-#2 (see `policy-monitor changes`)\n"


# -- changes as CSV ----------------------------------------------------------------------------
def test_changes_csv_from_the_command(capsys: pytest.CaptureFixture[str], history: Any) -> None:
    data = _play(capsys, history, ["", AI, OTHER])
    result = run_cli(capsys, "changes", "--format", "csv", "--data", str(data))
    rows = list(csv.DictReader(io.StringIO(result.out, newline="")))
    as_json = json.loads(run_cli(capsys, "changes", "--json", "--data", str(data)).out)
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(as_json) == 2
    for row, record in zip(rows, as_json, strict=True):
        assert int(row["id"]) == record["id"] and row["detected_at"] == record["detected_at"]
        assert row["ai_training"] == str(record["ai_training"]).lower()
        assert int(row["flags"]) == len(record["flags"])
    assert "public posts and photos to train our AI models" in rows[0]["flagged_sentences"]
    with_diffs = run_cli(capsys, "changes", "--format", "csv", "--diffs", "--data", str(data))
    assert next(csv.reader(io.StringIO(with_diffs.out))) == list(COLUMNS + DIFF_COLUMNS)
    clash = run_cli(capsys, "changes", "--json", "--format", "csv", "--data", str(data))
    assert clash.code == 2 and "--json" in clash.err


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
def test_csv_cells_never_start_a_formula(start: str) -> None:
    flag = Flag(sentence=f"{start}HYPERLINK(\"http://evil.test\")", side="added",
                category="opt-out", rule="r", phrase="p")  # fmt: skip
    change = Change(1, "doc", f"{start}cmd", "T", "https://c.test/", T0, "changed", 1, 2, 0, 0,
                    "", flags=(flag,), note=f"{start}1+1")  # fmt: skip
    row = next(csv.DictReader(io.StringIO(changes_csv([change]))))
    assert row["company"] == f"'{start}cmd" and row["note"] == f"'{start}1+1"
    assert row["flagged_sentences"].startswith("added: ")
