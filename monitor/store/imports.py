"""The store's reads and writes for imported history (issue 14): which archive steps of a
document are recorded already (resuming and re-running an import adds nothing), and the
origin of the versions an import created."""

from __future__ import annotations

from datetime import datetime

from monitor.models import Origin
from monitor.store.db import Store
from monitor.store.rows import dt, origin_columns


def imported_refs(store: Store, doc_id: str, archive: str) -> set[str]:
    """The ids (commit, file, capture) of the steps of ``archive`` already recorded."""
    rows = store.db.execute(
        "select origin_ref from fetches where document = ? and origin = ?", [doc_id, archive]
    ).fetchall()
    return {r[0] for r in rows}


def latest_record(store: Store, doc_id: str) -> datetime | None:
    """The time of the document's latest recorded step (live or imported) that stored a
    page, if any. A fetch that failed before getting a page (no network, a refused
    connection, a 500) recorded no text, so history may still go before it: a `make run`
    without internet must not block the import that follows (journalist7)."""
    found = store.db.execute(
        "select max(started_at) from fetches where document = ? "
        "and (snapshot_sha256 is not null or version is not null)",
        [doc_id],
    ).fetchone()[0]
    return dt(found) if found else None


def tag_version(store: Store, doc_id: str, number: int, origin: Origin) -> None:
    """Marks a version as read from an archive's step (the caller holds the transaction)."""
    columns = origin_columns(origin)
    names = ", ".join(f"{name} = ?" for name in columns)
    store.db.execute(
        f"update versions set {names} where document = ? and number = ?",
        [*columns.values(), doc_id, number],
    )


def attempt_columns(origin: Origin) -> dict[str, str | None]:
    """The origin columns of an imported step's fetch row."""
    return origin_columns(origin)


_ORIGIN_TABLES = ("fetches", "versions", "changes")
_UNSOURCED = "(origin_source is null or origin_path is null)"


def unsourced_refs(store: Store, doc_id: str, archive: str) -> set[str]:
    """The steps of ``archive`` recorded without their source or path: imported before
    m015 (journalist9), which a re-import of the same archive can name at last."""
    union = " union ".join(
        f"select origin_ref from {table} where document = ? and origin = ? and {_UNSOURCED}"
        for table in _ORIGIN_TABLES
    )
    rows = store.db.execute(union, [doc_id, archive] * len(_ORIGIN_TABLES)).fetchall()
    return {r[0] for r in rows}


def fill_origin(store: Store, doc_id: str, origin: Origin) -> int:
    """Fills in the missing source and path of the rows recorded from ``origin``'s step (its
    fetch, the version and change it made); a value already there is kept, nothing else is
    written. The number of rows given one."""
    columns = origin_columns(origin)
    source, path = columns["origin_source"], columns["origin_path"]
    if source is None and path is None:
        return 0
    filled = 0
    with store.transaction():
        for table in _ORIGIN_TABLES:
            filled += store.db.execute(
                f"update {table} set origin_source = coalesce(origin_source, ?), "
                "origin_path = coalesce(origin_path, ?) where document = ? and origin = ? "
                f"and origin_ref = ? and {_UNSOURCED}",
                [source, path, doc_id, origin.archive, origin.ref],
            ).rowcount
    return filled
