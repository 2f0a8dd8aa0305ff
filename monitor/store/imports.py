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
