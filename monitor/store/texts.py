"""Version texts: a list of paragraph ids (monitor/store/paragraphs.py), or, in stores
written before schema step m010, a zlib blob or a delta against an earlier version's.

A new version's text is stored as its paragraphs: each distinct line once, the version
as the runs of its paragraph ids (``versions.paragraph_ids``). Versions written before
m010 were converted by it; one whose text could not be checked against its sha256
keeps its old form (zlib in ``text``, or a delta on the version ``text_base``), read as
before. Every text rebuilt from parts is checked against its ``text_sha256``.
"""

from __future__ import annotations

from typing import Any

from monitor.store import lists, memo, paragraphs
from monitor.store.connection import Connection
from monitor.store.rows import damaged, sha256
from monitor.store.snapshots import MAX_SIZE, rebuilt


def pack(db: Connection, document: str, text: str) -> str:
    """The ``paragraph_ids`` of a new version's text, storing its new paragraphs (the
    ids follow those of the document's latest version where the text does)."""
    last = db.execute(
        "select paragraph_ids from versions where document = ? and paragraph_ids is not null"
        " order by number desc limit 1",
        [document],
    ).fetchone()
    previous = ids_of(db, last[0], f"{document}'s latest text") if last else []
    ids = paragraphs.store(db, paragraphs.lines(text), previous, edits=False)
    return paragraphs.encode_ids(ids)


_LATEST = (
    "select v.number, v.paragraph_ids, v.ids_base, b.paragraph_ids, v.text_sha256 from versions v"
    " left join versions b on b.document = v.document and b.number = v.ids_base"
    " where v.document = ? and v.paragraph_ids is not null order by v.number desc limit 1"
)


def pack_version(
    db: Connection, document: str, text: str, kept: memo.Texts | None = None
) -> dict[str, object]:
    """The ``paragraph_ids`` and ``ids_base`` of a new version's text (m013, lists.py),
    storing its new paragraphs (the ids follow those of the latest version where the
    text does; the list is a delta on the base the latest one used, or on the latest;
    ``kept``: texts in memory, the latest one's lines not read back when it is there)."""
    last = db.execute(_LATEST, [document]).fetchone()
    if not last:
        ids = paragraphs.store(db, paragraphs.lines(text))
        return {"paragraph_ids": paragraphs.encode_ids(ids), "ids_base": None}
    number, stored, base_number, base_stored, digest = last
    most = largest_id(db)
    what = f"{document} v{number}: text"
    previous = list_ids(stored, base_number, base_stored, what, most)
    base = (number, stored) if base_number is None else (base_number, base_stored)
    latest = kept.get(digest) if kept is not None and isinstance(digest, str) else None
    known = memo.by_id(previous, latest) if latest is not None else None
    ids = paragraphs.store(db, paragraphs.lines(text), previous, known=known)
    packed, delta = lists.encode(ids, _runs(base[1], what, most))
    return {"paragraph_ids": packed, "ids_base": base[0] if delta else None}


def list_ids(
    stored: object, base_number: int | None, base_stored: object, what: str, most: int
) -> list[int]:
    """The paragraph ids of a stored list, whole or a delta on the list ``base_stored``
    of version ``base_number``; a damaged database when either does not decode."""
    if base_number is not None and base_stored is None:
        raise damaged(f"{what}: lost the version v{base_number} its paragraph list is based on")
    try:
        return lists.decode(stored, base_stored if base_number is not None else None, most)
    except ValueError as exc:
        raise damaged(f"{what}: its paragraph list does not decode ({exc})") from None


def _runs(stored: object, what: str, most: int) -> list[lists.Run]:
    try:
        return lists.whole_runs(stored, most)
    except ValueError as exc:
        raise damaged(f"{what}: its base's paragraph list does not decode ({exc})") from None


def unpack(db: Connection, row: dict[str, Any]) -> str:
    """The text of a ``versions`` row, exactly as it was stored."""
    what = f"{row['document']} v{row['number']}: text"
    if not row.get("paragraph_ids"):
        return legacy(db, row)
    base_number = row.get("ids_base")
    base = _blob_ids(db, row["document"], base_number) if base_number is not None else None
    ids = list_ids(row["paragraph_ids"], base_number, base, what, largest_id(db))
    text = paragraphs.rebuild(ids, paragraphs.texts(db, ids))
    if text is None:
        raise damaged(f"{what} lost a paragraph")
    if sha256(text.encode("utf-8", "surrogatepass")) != row["text_sha256"]:
        raise damaged(f"{what} does not rebuild to its sha256")
    return text


def ids_of(db: Connection, stored: object, what: str, most: int | None = None) -> list[int]:
    """The paragraph ids of a stored list; a damaged database when it is no such list
    (``most``: the largest paragraph id, when the caller already asked)."""
    if most is None:
        most = largest_id(db)
    try:
        return paragraphs.decode_ids(stored, most)
    except ValueError as exc:
        raise damaged(f"{what}: its paragraph list does not decode ({exc})") from None


def largest_id(db: Connection) -> int:
    return int(db.execute("select coalesce(max(id), 0) from paragraphs").fetchone()[0])


def legacy(db: Connection, row: dict[str, Any]) -> str:
    """A text stored before m010: zlib, or a delta on a whole earlier version's text, at
    most MAX_SIZE bytes (a crafted zlib stream of zeros once inflated without end)."""
    what = f"{row['document']} v{row['number']}: text"
    if not row.get("text_base"):  # not checked: m010 kept those it could not check so
        return _decoded(what, rebuilt(what, None, row["text"], MAX_SIZE))
    base = _blob(db, row["document"], row["text_base"])
    if base is None or base[1] is not None or base[0] is None:
        raise damaged(f"{row['document']} v{row['number']}: text lost its base")
    data = rebuilt(what, rebuilt(what, None, base[0], MAX_SIZE), row["text"], MAX_SIZE)
    if sha256(data) != row["text_sha256"]:
        raise damaged(f"{row['document']} v{row['number']}: text does not rebuild")
    return _decoded(what, data)


def _decoded(what: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(f"{what} is not UTF-8 ({exc.reason})") from None


def _blob_ids(db: Connection, document: str, number: int) -> object:
    """The stored paragraph list of version ``number`` (None when there is no such one)."""
    found = db.execute(
        "select paragraph_ids from versions where document = ? and number = ?",
        [document, number],
    ).fetchone()
    return found[0] if found else None


def _blob(db: Connection, document: str, number: int) -> tuple[bytes, int | None] | None:
    found = db.execute(
        "select text, text_base from versions where document = ? and number = ?",
        [document, number],
    ).fetchone()
    return (found[0], found[1]) if found else None
