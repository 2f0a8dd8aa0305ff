"""Raw snapshots: stored once by sha256, whole or as a delta against a whole one.

A snapshot is stored whole (zlib) unless the document's latest stored fetch has a whole
snapshot (its own or its ``base``) against which a delta (monitor/store/delta.py) is at
most 5 % of its size: then ``content`` holds the delta and ``base`` names that whole
snapshot. A base is always whole, so any snapshot is read with at most one delta, and the
bytes read back are checked against their sha256 (journalists cite them).
"""

from __future__ import annotations

import sqlite3
import zlib
from datetime import datetime
from typing import Any

import sqlite_utils

from monitor.store import delta
from monitor.store.rows import sha256, ts

# A delta is kept only when it is at most this share of the whole compressed snapshot:
# past it the page drifted from its base (edits pile up in every later delta), and a new
# whole one is the better base. Checks outnumber edits: a small share keeps them cheap
# (bench/storage.py, 60 edits then 100 checks of a 124 KB page: at 0.05, 2.9 KB of
# snapshot per edit and 1.8 KB per check; at 0.1, 2.3 KB per edit but 2.3 KB per check).
DELTA_SHARE = 0.05


def save(
    db: sqlite_utils.Database,
    body: bytes,
    content_type: str,
    seen_at: datetime,
    document: str | None = None,
    compressed: bytes | None = None,
) -> str:
    """Stores ``body`` once (whole, or as a delta when ``document`` has a base); its hash.
    ``compressed``: ``zlib.compress(body, 6)`` made by another process (an import's worker),
    used only when it gives back ``body``."""
    digest = sha256(body)
    if _row(db, digest) is not None:
        return digest
    if compressed is None or not _inflates_to(compressed, body):
        compressed = zlib.compress(body, 6)
    content, base = compressed, None
    whole = _base_of(db, document) if document else None
    if whole is not None:
        made = delta.make(whole[1], body)
        if len(made) <= DELTA_SHARE * len(content):
            content, base = made, whole[0]
    db.table("snapshots").insert(
        {"sha256": digest, "content": content, "size": len(body), "content_type": content_type,
         "first_seen": ts(seen_at), "base": base}
    )  # fmt: skip
    return digest


def _inflates_to(compressed: bytes, body: bytes) -> bool:
    try:
        return zlib.decompress(compressed) == body
    except zlib.error:
        return False


def damaged(message: str) -> sqlite3.DatabaseError:
    """A stored form that does not rebuild its bytes: reported as a damaged database."""
    exc = sqlite3.DatabaseError(message)
    exc.sqlite_errorname = "SQLITE_CORRUPT"
    return exc


def rebuilt(what: str, base: bytes | None, stored: bytes) -> bytes:
    """The bytes of a stored form (zlib, or a delta on ``base``); a damaged database when
    they do not even decode (a flipped byte must not end in a zlib traceback)."""
    try:
        return zlib.decompress(stored) if base is None else delta.apply(base, stored)
    except (zlib.error, ValueError, IndexError, TypeError) as exc:
        raise damaged(f"{what} does not decode ({exc})") from None


def load(db: sqlite_utils.Database, digest: str) -> tuple[bytes, str]:
    """The raw bytes and content type of a stored snapshot, exactly as fetched."""
    row = _row(db, digest)
    if row is None:
        raise KeyError(digest)
    what = f"snapshot {digest[:16]}"
    if not row.get("base"):
        return rebuilt(what, None, row["content"]), row["content_type"] or ""
    base = _row(db, row["base"])
    if base is None or base.get("base"):
        raise damaged(f"snapshot {digest[:16]} lost its base {row['base'][:16]}")
    body = rebuilt(what, rebuilt(what, None, base["content"]), row["content"])
    if sha256(body) != digest:
        raise damaged(f"snapshot {digest[:16]} does not rebuild to its sha256")
    return body, row["content_type"] or ""


def _row(db: sqlite_utils.Database, digest: str) -> dict[str, Any] | None:
    cursor = db.execute("select * from snapshots where sha256 = ?", [digest])
    found = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], found, strict=True)) if found else None


def _base_of(db: sqlite_utils.Database, document: str) -> tuple[str, bytes] | None:
    """The whole snapshot behind the document's latest stored fetch, and its bytes."""
    found = db.execute(
        "select s.sha256, s.base from fetches f join snapshots s on s.sha256 = f.snapshot_sha256"
        " where f.document = ? and f.snapshot_sha256 is not null order by f.id desc limit 1",
        [document],
    ).fetchone()
    if found is None:
        return None
    digest = found[1] or found[0]
    row = _row(db, digest)
    if row is None or row.get("base"):
        return None
    return digest, rebuilt(f"snapshot {digest[:16]}", None, row["content"])
