"""Schema steps m010 and m012: texts, diffs and keys converted, losing nothing.

m010: every version's text converted to paragraphs.

Each version's text is read as stored before m010 (zlib, or a delta on an earlier
version's; the plain copy m006 kept when that does not decode) and stored as paragraphs
only when it matches the version's ``text_sha256``: then its old blob goes, unless a
version left unconverted is a delta on it. A version that does not check keeps its old
form and is read as before.

m013: each version's paragraph list as a delta on an earlier whole one where lists.py
would store it so, kept only when it expands to the same ids in Python and in the view
``version_runs``.

m012: each change's diff and passages packed as one frame (change_body.py), kept only
when it reads back to exactly what the plain columns held; each version's words key (a
sha256 in hex) as its 32 bytes.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from monitor.store import change_body, lists, texts
from monitor.store.rows import (
    HEADERS_PLAIN,
    change_from_row,
    digest_column,
    headers_column,
    headers_from,
    sha256,
)


def versions_to_paragraphs(db: sqlite_utils.Database) -> int:
    """Converts every version; the number converted."""
    ids = [int(r[0]) for r in db.execute("select id from versions order by id").fetchall()]
    converted = 0
    for version_id in ids:
        row = next(db.query("select * from versions where id = ?", [version_id]))
        text = _old_text(db, row)
        if text is None or sha256(text.encode("utf-8", "surrogatepass")) != row["text_sha256"]:
            continue
        db.execute(
            "update versions set paragraph_ids = ? where id = ?",
            [texts.pack(db, row["document"], text), version_id],
        )
        converted += 1
    db.execute(
        "update versions set text = null, text_base = null where paragraph_ids is not null"
        " and not exists (select 1 from versions o where o.paragraph_ids is null"
        " and o.document = versions.document and o.text_base = versions.number)"
    )
    return converted


def _old_text(db: sqlite_utils.Database, row: dict[str, Any]) -> str | None:
    try:
        return texts.legacy(db, row)
    except (sqlite3.DatabaseError, TypeError):
        found = db.execute("select text from version_texts where id = ?", [row["id"]]).fetchone()
        return str(found[0]) if found else None


def changes_to_bodies(db: sqlite_utils.Database) -> int:
    """Packs every change's plain diff and passages; the number converted."""
    ids = [int(r[0]) for r in db.execute("select id from changes order by id").fetchall()]
    converted = 0
    for change_id in ids:
        row = next(db.query("select * from changes where id = ?", [change_id]))
        try:
            read = change_from_row(row | {"company": "", "title": "", "url": ""})
            body = (read.diff_text, list(read.added), list(read.removed))
            packed = change_body.pack(db, row, body)
            if change_body.unpack(db, row | {"body": packed}) != body:
                continue
        except (ValueError, TypeError, KeyError, sqlite3.DatabaseError):
            continue  # read as before, from its plain columns
        db.execute(
            "update changes set body = ?, diff_text = null, added = null, removed = null"
            " where id = ?",
            [packed, change_id],
        )
        converted += 1
    return converted


def digests_to_bytes(db: sqlite_utils.Database) -> None:
    """Each version's ``key_sha256`` and snapshot's ``base`` in hex as its 32 bytes
    (rows.digest_column; anything else stays as it is)."""
    for table, key, column in (("versions", "id", "key_sha256"), ("snapshots", "rowid", "base")):
        rows = db.execute(f"select {key}, {column} from {table} where typeof({column}) = 'text'")
        db.conn.executemany(
            f"update {table} set {column} = ? where {key} = ?",
            [(digest_column(k), i) for i, k in rows.fetchall() if digest_column(k) != k],
        )


def compact_fetches(db: sqlite_utils.Database) -> None:
    """Each fetch's final URL dropped where it is the URL asked for, its headers packed
    where long (rows.headers_column) and read back the same."""
    db.execute("update fetches set final_url = null where final_url = url")
    rows = db.execute(
        "select id, headers from fetches where typeof(headers) = 'text' and length(headers) > ?",
        [HEADERS_PLAIN],
    )
    packed = []
    for fetch_id, text in rows.fetchall():
        try:
            pairs = json.loads(text)
            stored = headers_column(pairs)
            if json.dumps(pairs) != text or headers_from(stored, "") != headers_from(text, ""):
                continue  # not as record_fetch wrote it: kept as it is
        except (ValueError, TypeError, sqlite3.DatabaseError):
            continue
        packed.append((stored, fetch_id))
    db.conn.executemany("update fetches set headers = ? where id = ?", packed)


def lists_to_deltas(db: sqlite_utils.Database) -> int:
    """Stores each version's whole paragraph list as lists.py would have (a delta on the
    base its predecessor used, or on it); the number made deltas."""
    most = texts.largest_id(db)
    rows = db.execute(
        "select id, document, number, paragraph_ids from versions"
        " where paragraph_ids is not null order by document, number"
    ).fetchall()
    made: dict[int, tuple[str, list[lists.Run]]] = {}  # id: (its whole list, its runs)
    base: tuple[str, int, str] | None = None  # (document, number, whole list)
    for version_id, document, number, stored in rows:
        try:
            ids = lists.decode(stored, None, most)
        except ValueError:
            base = None  # left as it is (read as damaged), and no base of others
            continue
        if base is not None and base[0] == document:
            packed, delta = lists.encode(ids, lists.whole_runs(base[2], most))
            if delta and lists.decode(packed, base[2], most) == ids:
                made[version_id] = (stored, lists.runs(ids))
                db.execute(
                    "update versions set paragraph_ids = ?, ids_base = ? where id = ?",
                    [packed, base[1], version_id],
                )
                continue
        base = (document, number, stored)
    _undo_unlike_view(db, made)
    return len(made)


def _undo_unlike_view(
    db: sqlite_utils.Database, made: dict[int, tuple[str, list[lists.Run]]]
) -> None:
    """Each delta the view ``version_runs`` does not expand to its runs is whole again."""
    wrong = []
    for version_id, (whole, want) in made.items():
        got = db.execute(
            "select first_id, last_id from version_runs where version_id = ? order by run",
            [version_id],
        ).fetchall()
        if [tuple(r) for r in got] != want:
            wrong.append((whole, version_id))
    db.conn.executemany(
        "update versions set paragraph_ids = ?, ids_base = null where id = ?",
        wrong,
    )
