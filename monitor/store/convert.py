"""Schema step m010: every version's text converted to paragraphs, losing nothing.

Each version's text is read as stored before m010 (zlib, or a delta on an earlier
version's; the plain copy m006 kept when that does not decode) and stored as paragraphs
only when it matches the version's ``text_sha256``: then its old blob goes, unless a
version left unconverted is a delta on it. A version that does not check keeps its old
form and is read as before.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

from monitor.store import texts
from monitor.store.rows import sha256


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
