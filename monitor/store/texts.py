"""Version texts: whole (zlib) or as a delta against a whole earlier version's text.

A new version's text is stored as a delta (monitor/store/delta.py, lines as tokens)
against the document's latest whole text when that is at most half the size of the
compressed text; ``text_base`` then names the version holding that whole text. A base
is always whole, so a text is read with at most one delta, and checked against its
``text_sha256``.
"""

from __future__ import annotations

import zlib
from typing import Any

import sqlite_utils

from monitor.store import delta
from monitor.store.rows import sha256
from monitor.store.snapshots import damaged, rebuilt

DELTA_SHARE = 0.5


def pack(db: sqlite_utils.Database, document: str, text: str) -> tuple[bytes, int | None]:
    """The stored form of a new version's text, and the version its delta is based on."""
    data = text.encode("utf-8")
    whole = zlib.compress(data, 6)
    last = db.execute(
        "select number, text_base from versions where document = ? order by number desc limit 1",
        [document],
    ).fetchone()
    if last is None:
        return whole, None
    base_number = last[1] or last[0]
    base = _blob(db, document, base_number)
    if base is None or base[1] is not None:
        return whole, None
    made = delta.make(rebuilt(f"{document} v{base_number}: text", None, base[0]), data)
    return (made, base_number) if len(made) <= DELTA_SHARE * len(whole) else (whole, None)


def unpack(db: sqlite_utils.Database, row: dict[str, Any]) -> str:
    """The text of a ``versions`` row, exactly as it was stored."""
    what = f"{row['document']} v{row['number']}: text"
    if not row.get("text_base"):
        return _decoded(what, rebuilt(what, None, row["text"]))
    base = _blob(db, row["document"], row["text_base"])
    if base is None or base[1] is not None:
        raise damaged(f"{row['document']} v{row['number']}: text lost its base")
    data = rebuilt(what, rebuilt(what, None, base[0]), row["text"])
    if sha256(data) != row["text_sha256"]:
        raise damaged(f"{row['document']} v{row['number']}: text does not rebuild")
    return _decoded(what, data)


def _decoded(what: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(f"{what} is not UTF-8 ({exc.reason})") from None


def _blob(db: sqlite_utils.Database, document: str, number: int) -> tuple[bytes, int | None] | None:
    found = db.execute(
        "select text, text_base from versions where document = ? and number = ?",
        [document, number],
    ).fetchone()
    return (found[0], found[1]) if found else None
