"""What a version rests on: the fetch that brought its raw snapshot (time, URL, HTTP status
and headers) and the snapshot's stored facts, for `evidence` and the change pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.store.db import Store
from monitor.store.rows import dt, headers_from


@dataclass(frozen=True)
class SnapshotFetch:
    """The first recorded fetch of a document that got a given raw snapshot."""

    fetch_id: int | None  # None: no fetch of this document recorded these bytes
    started_at: datetime | None
    url: str
    final_url: str
    http_status: int | None
    headers: tuple[tuple[str, str], ...]
    content_type: str
    size: int
    stored_at: datetime | None  # when the snapshot was first stored (any document)


def snapshot_fetch(store: Store, doc_id: str, digest: str) -> SnapshotFetch:
    """How ``doc_id`` first got the snapshot ``digest``."""
    snap = store.db.execute(
        "select size, content_type, first_seen from snapshots where sha256 = ?", [digest]
    ).fetchone()
    row = store.db.execute(
        # final_url is stored only when it is not the URL asked for (m012)
        "select id, started_at, url, coalesce(final_url, url), http_status, headers from fetches "
        "where document = ? and snapshot_sha256 = ? order by id limit 1",
        [doc_id, digest],
    ).fetchone()
    fetch_id, started, url, final_url, status, headers = row or (None, None, "", "", None, "[]")
    return SnapshotFetch(
        fetch_id=fetch_id, started_at=dt(started) if started else None, url=url or "",
        final_url=final_url or "", http_status=status,
        headers=headers_from(headers, f"fetch #{fetch_id} of {doc_id}"),
        content_type=(snap[1] if snap else "") or "", size=int(snap[0]) if snap else 0,
        stored_at=dt(snap[2]) if snap and snap[2] else None,
    )  # fmt: skip
