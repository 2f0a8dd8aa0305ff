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

import sqlite3
from typing import Any

import sqlite_utils

from monitor.store import change_body, texts
from monitor.store.rows import change_from_row, key_column, sha256


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


def keys_to_bytes(db: sqlite_utils.Database) -> None:
    """Each version's ``key_sha256`` in hex as its 32 bytes (rows.key_column)."""
    rows = db.execute("select id, key_sha256 from versions where typeof(key_sha256) = 'text'")
    db.conn.executemany(
        "update versions set key_sha256 = ? where id = ?",
        [(key_column(k), i) for i, k in rows.fetchall() if key_column(k) != k],
    )
