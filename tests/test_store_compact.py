"""Schema step m012 (issue 15): a change's diff and passages as one zstd frame on the
paragraphs around the edit, internal digests as 32 bytes, a fetch's final URL only when
redirected and its long headers packed. A store written before it (real Open Terms
Archive history from ../shared/corpus, ODC-BY 1.0, and live checks of a local server)
converts, and every reader gives what it gave before, byte for byte; a crash in the
conversion loses nothing; a damaged packed column is the one-line damaged-database error.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store import Store, compress
from monitor.store.change_body import FRAME, NEAR_EDIT
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer
from tests.shared import SHARED, need

HISTORY = "openai-privacy"  # 7 steps, 4 changes, one flagged as AI-training
LIVE, MOVED = "live-privacy", "moved-privacy"  # the second's URL redirects to the first's
LONG_HEADERS = {"Set-Cookie": "sid=" + "0123456789abcdef" * 8 + "; Path=/; HttpOnly",
                "Cache-Control": "private, max-age=0", "X-Request-Id": "8f2e9c1a-77b1"}  # fmt: skip


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory written by this version: an imported corpus history, then live
    checks of a local server (an edit, an AI-training sentence; redirected or not)."""
    folder = need(SHARED / "corpus" / "versions" / HISTORY)
    tmp = tmp_path_factory.mktemp("written")
    capsys = _Capture()
    with LocalServer() as server:
        urls = {HISTORY: "https://openai.com/policies/x", LIVE: server.url("/p"),
                MOVED: server.url("/old")}  # fmt: skip
        watchlist = write_watchlist(tmp / "w.yaml", urls)
        server.route("/old", status=301, headers={"Location": server.url("/p")})
        common = ["--watchlist", str(watchlist), "--data", str(tmp / "data")]
        done = capsys.cli("import", "ota", str(folder), "--document", HISTORY, "--path",
                          "ChatGPT/Privacy Policy.md", "--jobs", "0", *common)  # fmt: skip
        assert done.code == 0, done.err
        extras = ["", "<li>We keep a record of this edit.</li>",
                  "<li>We may train our AI models on your posts.</li>"]  # fmt: skip
        for n, extra in enumerate(extras):
            server.route("/p", body=policy(extra=extra, token=f"t{n}"), headers=LONG_HEADERS)
            done = capsys.cli("check", *common, "--delay", "0", "--only", LIVE, "--only", MOVED)
            assert done.code == 0, done.err
    yield tmp / "data"


class _Capture:
    """run_cli for a module-scoped fixture (no capsys there): the CLI's own streams."""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip
        done.code = done.returncode  # type: ignore[attr-defined]
        return done


SITE = "https://feeds.example.org/"


def outputs(data: Path, out: Path) -> dict[str, str]:
    """What a journalist reads of the store: listings, feeds, evidence, first-seen."""
    common = ["--data", str(data)]
    commands = {
        "changes": ["changes", "--json"], "diffs": ["changes", "--json", "--diffs"],
        "csv": ["changes", "--format", "csv", "--diffs"],
        # A base URL: without one, `feed` links the data directory's own pages (file://),
        # and the stores compared lie in different folders.
        "feed": ["feed", "--include-history", "--base-url", SITE],
        "live": ["feed", "--format", "atom", "--base-url", SITE],
        "first-seen": ["first-seen", LIVE, "train our AI models", "--json"],
        "history": ["history", HISTORY],
    }  # fmt: skip
    found = {}
    for name, args in commands.items():
        done = _Capture().cli(*args, *common)
        assert done.returncode == 0, (args, done.stderr)
        found[name] = done.stdout
    for change in json.loads(found["changes"]):
        folder = out / f"evidence-{change['id']}"
        done = _Capture().cli("evidence", str(change["id"]), "--out", str(folder), *common)
        assert done.returncode == 0, done.stderr
        for path in sorted(folder.iterdir()):
            found[f"{folder.name}/{path.name}"] = path.read_text("utf-8", "replace")
    return found


def to_m011(data: Path) -> None:
    """The store as m011 wrote it: plain diffs and passages, hex digests, every final URL,
    headers as JSON, the imported-fetch index over every fetch; m012 not applied."""
    store = Store(data)
    changes = {c.id: c for c in store.changes()}
    pairs = {fid: json.dumps(list(map(list, ev))) for fid, ev in _headers(store)}
    store.close()
    db = sqlite3.connect(data / "monitor.db")
    for change_id, c in changes.items():
        db.execute(
            "update changes set diff_text = ?, added = ?, removed = ? where id = ?",
            [c.diff_text, json.dumps(c.added, ensure_ascii=False),
             json.dumps(c.removed, ensure_ascii=False), change_id],
        )  # fmt: skip
    db.executemany("update fetches set headers = ? where id = ?",
                   [(text, fid) for fid, text in pairs.items()])  # fmt: skip
    for sql in (
        "alter table changes drop column body",
        "update versions set key_sha256 = lower(hex(key_sha256)) where typeof(key_sha256) = 'blob'",
        "update snapshots set base = lower(hex(base)) where typeof(base) = 'blob'",
        "update fetches set final_url = url where final_url is null and http_status is not null",
        "drop index idx_fetches_document_origin_origin_ref",
        "create index idx_fetches_document_origin_origin_ref on fetches (document, origin,"
        " origin_ref)",
        "delete from _sqlite_migrations where name = 'm012_compact_changes'",
    ):
        db.execute(sql)
    db.commit()
    db.close()


def _headers(store: object) -> list[tuple[int, tuple[tuple[str, str], ...]]]:
    from monitor.store.rows import headers_from

    rows = store.db.execute("select id, headers from fetches").fetchall()  # type: ignore[attr-defined]
    return [(fid, headers_from(stored, "")) for fid, stored in rows]


@pytest.fixture(scope="module")
def before(written: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return outputs(written, tmp_path_factory.mktemp("before"))


def old_copy(written: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True)
    db = sqlite3.connect(written / "monitor.db")
    db.execute(f"vacuum into '{data / 'monitor.db'}'")
    db.close()
    to_m011(data)
    return data


def stored_forms(data: Path) -> dict[str, object]:
    db = sqlite3.connect(data / "monitor.db")
    query = {
        "plain diffs": "select count(*) from changes where diff_text is not null",
        "packed diffs": "select count(*) from changes where body is not null",
        "changes": "select count(*) from changes",
        "hex keys": "select count(*) from versions where typeof(key_sha256) = 'text'",
        "hex bases": "select count(*) from snapshots where typeof(base) = 'text'",
        "packed headers": "select count(*) from fetches where typeof(headers) = 'blob'",
        "m012": "select count(*) from _sqlite_migrations where name = 'm012_compact_changes'",
    }
    found = {}
    for name, sql in query.items():
        try:
            found[name] = db.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:
            found[name] = None  # no such column: before m012
    db.close()
    return found


def test_a_store_written_before_m012_converts_and_reads_the_same(
    written: Path, before: dict[str, str], tmp_path: Path
) -> None:
    data = old_copy(written, tmp_path)
    old = stored_forms(data)
    assert old["packed diffs"] is None and old["plain diffs"] == old["changes"] >= 6
    assert old["hex keys"] and old["hex bases"] and not old["packed headers"] and not old["m012"]
    Store(data).close()  # the upgrade, as `check` (any writing command) applies it
    after = outputs(data, tmp_path / "out")
    assert after.keys() == before.keys() and after == before
    new = stored_forms(data)
    assert new["plain diffs"] == 0 and new["packed diffs"] == new["changes"] == old["changes"]
    assert new["hex keys"] == new["hex bases"] == 0 and new["packed headers"] and new["m012"]


def die_opening(data: Path, replace: str) -> None:
    """Opens the store at ``data`` in a process that dies (exit 9) where ``replace``, a line
    over ``monitor.store.convert``, says: a crash inside a schema step's conversion."""
    crash = (
        f"import os\nfrom monitor.store import convert, Store\n{replace}\nStore({str(data)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", crash], capture_output=True, timeout=120)
    assert done.returncode == 9, done.stderr


def test_a_crash_in_the_conversion_loses_nothing(
    written: Path, before: dict[str, str], tmp_path: Path
) -> None:
    """The process dies in m012 after the changes were packed: the store is as m011 left
    it, and the next command converts it whole."""
    data = old_copy(written, tmp_path)
    die_opening(data, "convert.compact_fetches = lambda db: os._exit(9)")
    assert stored_forms(data) == stored_forms(old_copy(written, tmp_path / "again"))
    Store(data).close()
    assert outputs(data, tmp_path / "out") == before
    assert stored_forms(data)["m012"] == 1


HUGE_FRAME = b"\x28\xb5\x2f\xfd" + bytes([0b11100000]) + (1 << 40).to_bytes(8, "little")
DAMAGED_BODIES = {
    "empty": b"",
    "unknown form": b"\x07" + compress.pack(b'["", [], []]'),
    "not zstd": FRAME + b"\x78\xda\x00\x11\x22\x33",
    "cut short": FRAME + compress.pack(b'["a diff", [], []]' * 20)[:-3],
    "declares a terabyte": FRAME + HUGE_FRAME + b"\x01\x00\x00",
    "no list": FRAME + compress.pack(b'{"a": 1}'),
    "passages no list": FRAME + compress.pack(b'["diff", "added", []]'),
    "nested deep": FRAME + compress.pack(b"[" * 100_000),
    "not UTF-8": FRAME + compress.pack(b'["\xff", [], []]'),
    "text": "a diff written as text",
    "on a dictionary it lacks": NEAR_EDIT + compress.pack(b'["", [], []]', b"x" * 64)[:-1],
}


def damaged_copy(
    written: Path, data: Path, sql: str, params: list[object], document: str | None = None
) -> int:
    """A copy of the written store in ``data``, damaged by ``sql``; its last change's id
    (of ``document`` when given)."""
    data.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(written / "monitor.db")) as db:
        db.execute(f"vacuum into '{data / 'monitor.db'}'")
    with contextlib.closing(sqlite3.connect(data / "monitor.db")) as db:
        db.execute(sql, params)
        db.commit()
        where, args = ("where document = ?", [document]) if document else ("", [])
        return int(db.execute(f"select max(id) from changes {where}", args).fetchone()[0])


@pytest.mark.parametrize("damage", DAMAGED_BODIES.values(), ids=DAMAGED_BODIES.keys())
def test_a_damaged_packed_diff_is_a_one_line_damaged_database(
    written: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: bytes | str
) -> None:
    data = tmp_path / "data"
    last = damaged_copy(written, data, "update changes set body = ? where id = "
                        "(select max(id) from changes)", [damage])  # fmt: skip
    common = ["--data", str(data)]
    for args in (["changes", "--json", "--diffs"], ["feed"],
                 ["evidence", str(last), "--out", str(tmp_path / "ev")],
                 ["site", "--out", str(tmp_path / "site")]):  # fmt: skip
        done = run_cli(capsys, *args, *common)
        assert done.code == 2 and "Traceback" not in done.err, (args, done.err)
        assert len(done.err.strip().splitlines()) == 1 and "is damaged" in done.err, done.err
    assert run_cli(capsys, "changes", "--json", *common).code == 0  # the listing reads no diff


@pytest.mark.parametrize("damage", [b"\x00garbage", FRAME + HUGE_FRAME, "not json", "[[1]]"])
def test_damaged_headers_are_a_one_line_damaged_database(
    written: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: bytes | str
) -> None:
    data = tmp_path / "data"
    last = damaged_copy(written, data, "update fetches set headers = ? where document = ?",
                        [damage, LIVE], document=LIVE)  # fmt: skip
    done = run_cli(
        capsys, "evidence", str(last), "--out", str(tmp_path / "ev"), "--data", str(data)
    )
    assert done.code == 2 and "Traceback" not in done.err, done.err
    assert len(done.err.strip().splitlines()) == 1 and "is damaged" in done.err, done.err


def test_a_one_sentence_edit_packs_its_diff_in_a_few_dozen_bytes(written: Path) -> None:
    """The live edits' frames are on the paragraphs around them: a fraction of the plain
    diff and passages they hold (whose paragraphs the versions store anyway)."""
    store = Store(written, read_only=True)
    plain = {c.id: len(json.dumps([c.diff_text, c.added, c.removed]))
             for c in store.changes(LIVE)}  # fmt: skip
    rows = store.db.execute(
        "select id, length(body) from changes where document = ? and substr(body, 1, 1) = ?",
        [LIVE, NEAR_EDIT],
    ).fetchall()
    store.close()
    assert len(rows) == len(plain) == 2, rows
    assert all(size < 80 and size < plain[i] / 3 for i, size in rows), (rows, plain)


def test_the_imported_fetch_index_holds_imported_fetches_alone_and_still_serves(
    written: Path,
) -> None:
    db = sqlite3.connect(written / "monitor.db")
    sql = "select origin_ref from fetches where document = ? and origin = ?"
    plan = " ".join(str(r) for r in db.execute(f"explain query plan {sql}", [HISTORY, "ota"]))
    indexed = db.execute(
        "select count(*) from fetches indexed by idx_fetches_document_origin_origin_ref"
        " where origin is not null"
    ).fetchone()[0]
    live = db.execute("select count(*) from fetches where origin is null").fetchone()[0]
    db.close()
    assert "idx_fetches_document_origin_origin_ref" in plan, plan
    assert indexed == 7 and live >= 6  # the 7 imported steps; the live checks not in it
