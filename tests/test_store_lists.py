"""Schema steps m013 and m014 (issue 15): a version's paragraph list as a delta on an
earlier whole one, a long new paragraph as an edit of the one it replaces. A store
written before them (real Open Terms Archive history from ../shared/corpus, ODC-BY 1.0,
and live checks of a local server editing a long page in many places) converts, and
every reader gives what it gave before, byte for byte, the Datasette views included; a
crash in the conversion loses nothing; a damaged list or edit is the one-line
damaged-database error.
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

from monitor.store import Store, lists
from monitor.store.schema import PARAGRAPHS_SQL, VIEWS_SQL
from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer
from tests.shared import SHARED, need
from tests.test_store_compact import HISTORY, LIVE, MOVED, die_opening, outputs

KEEP = (
    "we keep what you give us while you use our services, and for as long as the law"
    " asks us to keep it after you leave them."
)  # a long line: its edits are stored as edits (m014)
CLAUSES = 40  # list items of the live page, edited one place at a time
EDITS = 14


def page(edits: int, token: str) -> bytes:
    items = [f"<li>Clause {i}: {KEEP}</li>" for i in range(CLAUSES)]
    for n in range(edits):
        items[(7 * n) % CLAUSES] = items[(7 * n) % CLAUSES].replace("</li>", f" Edit {n}.</li>")
    if edits == EDITS:
        items.append("<li>We may train our AI models on your posts.</li>")
    return policy(extra="".join(items), token=token)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory written by this version: an imported corpus history, then live
    checks of a long page, each editing another place of it."""
    folder = need(SHARED / "corpus" / "versions" / HISTORY)
    tmp = tmp_path_factory.mktemp("written")
    with LocalServer() as server:
        urls = {
            HISTORY: "https://openai.com/policies/x",
            LIVE: server.url("/p"),
            MOVED: server.url("/old"),
        }
        watchlist = write_watchlist(tmp / "w.yaml", urls)
        server.route("/old", status=301, headers={"Location": server.url("/p")})
        common = ["--watchlist", str(watchlist), "--data", str(tmp / "data")]
        cli(
            "import",
            "ota",
            str(folder),
            "--document",
            HISTORY,
            "--path",
            "ChatGPT/Privacy Policy.md",
            "--jobs",
            "0",
            *common,
        )
        for n in range(EDITS + 1):
            server.route("/p", body=page(n, f"t{n}"))
            cli("check", *common, "--delay", "0", "--only", LIVE)
    yield tmp / "data"


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def views(data: Path) -> dict[str, list[tuple[object, ...]]]:
    """What a Datasette or SQL user reads of the versions' texts."""
    with contextlib.closing(sqlite3.connect(data / "monitor.db")) as db:
        return {
            "texts": db.execute("select * from version_texts order by id").fetchall(),
            "paragraphs": db.execute(
                "select * from version_paragraphs order by version_id, run, paragraph_id"
            ).fetchall(),
        }


def to_m012(data: Path) -> None:
    """The store as m012 wrote it: every paragraph list and paragraph whole, m010's views
    and triggers, no ``ids_base`` nor ``base``, ``head``, ``tail``; m013, m014 not applied."""
    store = Store(data)
    rows = store.db.execute("select id, document, number from versions").fetchall()
    whole = {}
    for version_id, document, number in rows:
        version = store.version(document, number)
        assert version is not None
        ids = store.db.execute(
            "select run, first_id, last_id from version_runs where version_id = ? order by run",
            [version_id],
        ).fetchall()
        whole[version_id] = (
            json.dumps([a if a == b else [a, b] for _, a, b in ids], separators=(",", ":"))
            if ids
            else None
        )
    store.close()
    with contextlib.closing(sqlite3.connect(data / "monitor.db")) as db:
        db.executemany(
            "update versions set paragraph_ids = ? where id = ?",
            [(w, i) for i, w in whole.items() if w],
        )
        db.execute(
            "update paragraphs set text = (select text from paragraph_texts t where"
            " t.id = paragraphs.id), base = null, head = null, tail = null"
        )
        for sql in (
            "drop view version_texts",
            "drop view version_paragraphs",
            "drop view version_runs",
            "drop view paragraph_texts",
            "drop trigger paragraphs_ai",
            "drop trigger paragraphs_ad",
            *PARAGRAPHS_SQL[3:],
            *VIEWS_SQL,
            "alter table versions drop column ids_base",
            *(f"alter table paragraphs drop column {c}" for c in ("base", "head", "tail")),
            "delete from _sqlite_migrations where name in ('m013_list_deltas',"
            " 'm014_paragraph_edits')",
        ):
            db.execute(sql)
        db.commit()


def old_copy(written: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(written / "monitor.db")) as db:
        db.execute(f"vacuum into '{data / 'monitor.db'}'")
    to_m012(data)
    return data


def stored_forms(data: Path) -> dict[str, object]:
    with contextlib.closing(sqlite3.connect(data / "monitor.db")) as db:
        found: dict[str, object] = {
            "m013": db.execute(
                "select count(*) from _sqlite_migrations where name = 'm013_list_deltas'"
            ).fetchone()[0],
            "lists": db.execute("select group_concat(paragraph_ids, ' ') from versions").fetchone()[
                0
            ],
        }
        with contextlib.suppress(sqlite3.OperationalError):  # no such column: before m013
            found["deltas"] = db.execute(
                "select count(*) from versions where ids_base is not null"
            ).fetchone()[0]
            found["edits"] = db.execute(
                "select count(*) from paragraphs where base is not null"
            ).fetchone()[0]
    return found


@pytest.fixture(scope="module")
def before(written: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What this version reads of the written store, with m010's views over its lists as
    m012 stored them (plain SQL: read without upgrading)."""
    old = old_copy(written, tmp_path_factory.mktemp("m012"))
    return {**outputs(written, tmp_path_factory.mktemp("before")), "views": views(old)}


def test_the_views_read_deltas_as_m010s_read_whole_lists(
    written: Path, before: dict[str, object]
) -> None:
    assert views(written) == before["views"]


def test_new_versions_of_a_page_edited_in_many_places_are_deltas(written: Path) -> None:
    forms = stored_forms(written)
    assert forms["m013"] == 1 and isinstance(forms["deltas"], int) and forms["deltas"] >= 5
    with contextlib.closing(sqlite3.connect(written / "monitor.db")) as db:
        rows = db.execute(
            "select v.paragraph_ids, b.paragraph_ids, v.ids_base from versions v"
            " left join versions b on b.document = v.document and b.number = "
            "v.ids_base where v.document = ? order by v.number",
            [LIVE],
        ).fetchall()
        most = db.execute("select max(id) from paragraphs").fetchone()[0]
    for stored, base, number in rows:
        whole = lists.encode(lists.decode(stored, base, most), None)[0]
        if number is not None:  # a delta is a fraction of the whole list it stands for
            assert len(stored) <= lists.DELTA_SHARE * len(whole) and "-" in stored


def test_a_store_written_before_m013_converts_and_reads_the_same(
    written: Path, before: dict[str, object], tmp_path: Path
) -> None:
    data = old_copy(written, tmp_path)
    old = stored_forms(data)
    assert "deltas" not in old and not old["m013"] and "-" not in str(old["lists"])
    Store(data).close()  # the upgrade, as any command applies it
    after = {**outputs(data, tmp_path / "out"), "views": views(data)}
    assert after.keys() == before.keys() and after == before
    new = stored_forms(data)
    assert new["m013"] == 1 and new["deltas"] == stored_forms(written)["deltas"]
    assert new["lists"] == stored_forms(written)["lists"]  # as if written by this version
    assert new["edits"] == 0  # paragraphs stored before m014 stay whole


def test_long_edited_lines_are_stored_as_edits_the_index_and_views_read_whole(
    written: Path,
) -> None:
    assert stored_forms(written)["edits"] >= EDITS - 1
    with contextlib.closing(sqlite3.connect(written / "monitor.db")) as db:
        (found,) = db.execute(
            "select rowid from paragraphs_fts where paragraphs_fts match ?",
            ['"Clause 7" AND "leave them" AND "Edit 1"'],
        ).fetchall()
        stored, base, whole = db.execute(
            "select p.text, p.base, t.text from paragraphs p join paragraph_texts t"
            " on t.id = p.id where p.id = ?",
            found,
        ).fetchone()
        in_view = db.execute(
            "select count(*) from version_paragraphs where paragraph_id = ? and text = ?",
            [found[0], whole],
        ).fetchone()[0]
    assert base is not None and stored == " Edit 1." and in_view >= 1
    assert "Clause 7: " + KEEP + " Edit 1." in whole


def test_a_crash_in_the_conversion_loses_nothing(
    written: Path, before: dict[str, object], tmp_path: Path
) -> None:
    """The process dies in m013 after the lists were made deltas: the store is as m012
    left it, and the next command converts it whole."""
    data = old_copy(written, tmp_path)
    die_opening(data, "convert._undo_unlike_view = lambda db, made: os._exit(9)")
    assert stored_forms(data) == stored_forms(old_copy(written, tmp_path / "again"))
    Store(data).close()
    assert {**outputs(data, tmp_path / "out"), "views": views(data)} == before
    assert stored_forms(data)["m013"] == 1


LAST_EDIT = "(select max(id) from paragraphs where base is not null)"
DAMAGED = {  # SQL on the live document's last delta (?: its id)
    "its base gone": "update versions set ids_base = 999 where id = ?",
    "a run its base lacks": "update versions set paragraph_ids = '[-999]' where id = ?",
    "a run backwards": "update versions set paragraph_ids = '[[-3,-1]]' where id = ?",
    "a base that is a delta": "update versions set paragraph_ids = '[-1]' where document = "
    "(select document from versions where id = ?) and number = (select ids_base from versions"
    " where id = ?)",
    "not JSON": "update versions set paragraph_ids = '[-1,' where id = ?",
    "an edit's base gone": f"update paragraphs set base = 999999 where id = {LAST_EDIT}",
    "an edit cut elsewhere": f"update paragraphs set head = head - 1 where id = {LAST_EDIT}",
}


@pytest.mark.parametrize("sql", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_list_is_a_one_line_damaged_database(
    written: Path, tmp_path: Path, sql: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with contextlib.closing(sqlite3.connect(written / "monitor.db")) as db:
        db.execute(f"vacuum into '{data / 'monitor.db'}'")
    with contextlib.closing(sqlite3.connect(data / "monitor.db")) as db:
        (last,) = db.execute("select max(id) from versions where ids_base is not null").fetchone()
        db.execute(sql, [last] * sql.count("?"))
        db.commit()
        # the change to the damaged delta's version, or to the last version (its last edit)
        (change,) = db.execute(
            "select c.id from changes c join versions v on v.document = c.document and"
            " v.number = c.to_version where v.id = ?"
            if "paragraph_ids" in sql or "ids_base" in sql
            else "select max(id) from changes where document = ?",
            [last] if "paragraph_ids" in sql or "ids_base" in sql else [LIVE],
        ).fetchone()
    readers = [["changes", "--json", "--diffs"], ["evidence", str(change), "--out", str(tmp_path)]]
    if "paragraph_ids" in sql or "ids_base" in sql:  # a list every reader decodes
        readers.append(["first-seen", LIVE, "train our AI models"])
    for args in readers:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", *args, "--data", str(data)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode != 0 and "Traceback" not in done.stderr, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "damaged" in done.stderr, done.stderr


def test_a_sentence_removed_is_an_edit_with_no_middle_and_reads_back_whole(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from monitor.models import Watch
    from monitor.store import search

    store = Store(tmp_path)
    store.sync_documents([Watch("doc", "C", "T", "https://c.test/")], datetime.now(UTC))
    long = "Clause: " + KEEP + " We also keep logs. " + KEEP
    texts = ["Title\n" + long + "\nEnd.", "Title\n" + long.replace(" We also keep logs.", "")
             + "\nEnd."]  # fmt: skip
    for n, text in enumerate(texts):
        store.add_version("doc", text, f"k{n}", "0" * 64, datetime.now(UTC), "2")
    (pid, middle, base) = store.db.execute(
        "select id, text, base from paragraphs where base is not null"
    ).fetchone()
    assert middle == "" and base is not None
    assert [store.version("doc", n).text for n in (1, 2)] == texts  # type: ignore[union-attr]
    assert search.blank_paragraphs(store, [pid]) == {}  # whole, it is not blank
    (whole,) = store.db.execute("select text from version_texts where number = 2").fetchone()
    assert whole == texts[1]
    store.close()
