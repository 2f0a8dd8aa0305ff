"""Raw snapshots: stored once by sha256, whole or as a delta on an earlier one (skip deltas).

Since schema step m011 a snapshot is a zstd frame (monitor/store/compress.py, ``codec``
"zstd"): whole, or a delta whose dictionary is an earlier snapshot of the same document
(``base``: its sha256, as 32 bytes since m012). Each document's snapshots form chains
from a whole one (``serial`` 0): the n-th after it is a delta on the one numbered n with
its lowest set bit cleared, so every snapshot is rebuilt through at most log2(n) deltas
(16 at most: a chain ends at ``MAX_SERIAL``) while a delta holds only what changed since
a recent fetch. A page that drifted (a delta over ``DELTA_SHARE`` of the whole one)
starts a new chain.

Snapshots stored before m011 (``codec`` NULL) are read as before: zlib, or a delta
(monitor/store/delta.py) on a whole zlib one; a new chain may start from those bytes.
Every read rebuilds the bytes within their recorded size and checks them against their
sha256 (journalists cite them); a form that does not is a damaged database.
"""

from __future__ import annotations

import sqlite3
import weakref
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.store import compress, delta
from monitor.store.connection import Connection
from monitor.store.rows import damaged, digest_column, digest_hex, sha256, ts

# A delta is kept only when it is at most this share of the chain's whole snapshot: past
# it the page is another page, and a new whole one the better start. Skip deltas carry
# what changed since a recent fetch, so drift does not pile up in every later delta (the
# pure-Python deltas on one whole snapshot needed 5 %); corpus pages whose markup moves
# between captures (meta-ai-terms) take deltas of 8-10 % of a whole one, and keep them
# (40 captures of each html corpus history: 1.4 MB, where 5 % at each power of two, the
# nodes that carry all drift since the whole one, made 7.0 MB). The price: a large edit
# kept as a delta is carried again by the next power-of-two serials (at most 16 times).
DELTA_SHARE = 0.25
MAX_SERIAL = (1 << 16) - 1  # the last snapshot of a chain: at most 16 deltas to read it
MAX_DEPTH = 32  # a longer chain (or a loop of bases) is a damaged database
# A recorded size past it is damaged: the largest page the store takes is an imported
# file (50 MB; a fetch: 15 MB), and a frame of zeros as large as the size is inflated
# before its sha256 can refuse it (1 GB once let 20 KB of crafted frame take 600 MB).
MAX_SIZE = 64 << 20
# Per open database, the last snapshots rebuilt and checked against their sha256: a check
# stores a delta on one and reads the new snapshot back at once, from its stored frame
# on these bytes (a snapshot itself is always read from its stored form).
_CHECKED: weakref.WeakKeyDictionary[Connection, dict[str, bytes]]
_CHECKED = weakref.WeakKeyDictionary()
_CHECKED_MOST = 4
# content as a blob whatever was written there (a TEXT value would not even decode).
_COLUMNS = "sha256, cast(content as blob) as content, size, content_type, base, codec, serial"


@dataclass(frozen=True)
class _Parent:
    digest: str
    body: bytes
    serial: int  # the new snapshot's serial
    whole: int  # bytes stored for the chain's whole snapshot


def save(
    db: Connection,
    body: bytes,
    content_type: str,
    seen_at: datetime,
    document: str | None = None,
) -> str:
    """Stores ``body`` once (whole, or a delta in ``document``'s chain); its hash."""
    digest = sha256(body)
    if db.execute("select 1 from snapshots where sha256 = ?", [digest]).fetchone():
        return digest
    parent = _parent(db, document) if document else None
    content, base, serial = b"", None, 0
    if parent is not None:
        made = compress.pack(body, parent.body)
        if len(made) <= DELTA_SHARE * parent.whole:
            content, base, serial = made, digest_column(parent.digest), parent.serial
    db.execute(
        "insert into snapshots (sha256, content, size, content_type, first_seen, base, codec,"
        " serial) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [digest, content or compress.pack(body), len(body), content_type, ts(seen_at), base,
         compress.CODEC, serial],
    )  # fmt: skip
    return digest


def rebuilt(what: str, base: bytes | None, stored: bytes, size: int | None = None) -> bytes:
    """The bytes of a form stored before m011 (zlib, or a delta on ``base``), at most
    ``size`` of them; a damaged database when they do not decode (a flipped byte must
    not end in a zlib traceback, a crafted one not in all the memory there is)."""
    try:
        if base is not None:
            return delta.apply(base, stored, size)
        reader = zlib.decompressobj()
        data = reader.decompress(stored, 0 if size is None else size + 1)
        if size is not None and len(data) > size:
            raise ValueError(f"it holds more than its {size} bytes")
        return data
    except (zlib.error, ValueError, IndexError, TypeError) as exc:
        raise damaged(f"{what} does not decode ({exc})") from None


def load(db: Connection, digest: str) -> tuple[bytes, str]:
    """The raw bytes and content type of a stored snapshot, exactly as fetched."""
    chain = _chain(db, digest)
    return _decode(db, chain), chain[0]["content_type"] or ""


def _row(db: Connection, digest: str) -> dict[str, Any] | None:
    cursor = db.execute(f"select {_COLUMNS} from snapshots where sha256 = ?", [digest])
    found = cursor.fetchone()
    if found is None:
        return None
    row = dict(zip([c[0] for c in cursor.description], found, strict=True))
    return row | {"base": digest_hex(row["base"]) if row["base"] else row["base"]}


def _chain(db: Connection, digest: str) -> list[dict[str, Any]]:
    """The snapshot's row and those of its bases, down to a whole one (KeyError: none)."""
    row = _row(db, digest)
    if row is None:
        raise KeyError(digest)
    chain = [row]
    while row["base"]:
        if len(chain) > MAX_DEPTH:
            raise damaged(f"snapshot {digest[:16]}: its chain of bases does not end")
        found = _row(db, row["base"])
        if found is None:
            raise damaged(f"snapshot {digest[:16]} lost its base {row['base'][:16]}")
        chain.append(row := found)
    return chain


def _decode(db: Connection, chain: list[dict[str, Any]], reread: bool = True) -> bytes:
    """The bytes of ``chain[0]``, rebuilt from the whole snapshot at the chain's end (or
    from a base in it already rebuilt and checked; ``chain[0]`` itself too unless
    ``reread``: what a reader gets is always rebuilt from its own stored form)."""
    checked = _CHECKED.setdefault(db, {})
    if not reread and chain[0]["sha256"] in checked:
        return checked[chain[0]["sha256"]]
    start = next((i for i, row in enumerate(chain) if i and row["sha256"] in checked), None)
    data = checked[chain[start]["sha256"]] if start else None
    for row in reversed(chain[:start]):
        what, size = f"snapshot {row['sha256'][:16]}", row["size"]
        if not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
            raise damaged(f"{what} records no usable size ({size!r})")
        if row["codec"] is None:  # stored before m011
            data = rebuilt(what, data if row["base"] else None, row["content"], size)
            continue
        try:
            data = compress.unpack(row["content"], size, data or b"")
        except (ValueError, TypeError) as exc:
            raise damaged(f"{what} does not decode ({exc})") from None
    if data is None or sha256(data) != chain[0]["sha256"]:
        raise damaged(f"snapshot {chain[0]['sha256'][:16]} does not rebuild to its sha256")
    if len(checked) >= _CHECKED_MOST:
        checked.pop(next(iter(checked)))
    checked[chain[0]["sha256"]] = data
    return data


def _serial(row: dict[str, Any]) -> int:
    """A row's place in its chain (one stored before m011: 0 whole, 1 a delta)."""
    if row["codec"] is None:
        return 1 if row["base"] else 0
    return int(row["serial"] or 0)


def _parent(db: Connection, document: str) -> _Parent | None:
    """What the document's next snapshot is a delta on: in the chain of its latest stored
    fetch, the snapshot numbered n with its lowest set bit cleared (n: the next serial).
    None (a new whole snapshot): no fetch yet, a full chain, or a chain that does not read."""
    found = db.execute(
        "select snapshot_sha256 from fetches where document = ? and snapshot_sha256 is not null"
        " order by id desc limit 1",
        [document],
    ).fetchone()
    if found is None:
        return None
    try:
        chain = _chain(db, found[0])
        serial = _serial(chain[0]) + 1
        target = serial & (serial - 1)
        at = next((i for i, row in enumerate(chain) if _serial(row) == target), None)
        if serial > MAX_SERIAL or at is None:
            return None
        body = _decode(db, chain[at:], reread=False)
    except (KeyError, sqlite3.DatabaseError):
        return None  # never build on bytes that do not check: start a new chain
    return _Parent(chain[at]["sha256"], body, serial, len(chain[-1]["content"]))
