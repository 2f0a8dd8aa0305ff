"""Schema steps m010 and m012: texts, diffs and keys converted, losing nothing.

m010: every version's text converted to paragraphs.

Each version's text is read as stored before m010 (zlib, or a delta on an earlier
version's; the plain copy m006 kept when that does not decode) and stored as paragraphs
only when it matches the version's ``text_sha256``: then its old blob goes, unless a
version left unconverted is a delta on it. A version that does not check keeps its old
form and is read as before.

m012: each change's diff and passages packed as one frame (change_body.py), kept only
when it reads back to exactly what the plain columns held; each version's words key (a
sha256 in hex) as its 32 bytes.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from monitor.store import change_body, texts
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
