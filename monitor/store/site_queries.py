"""Read queries the static site needs beyond the store's own: the evidence of a raw snapshot
(when and how it was fetched) and a version's texts, kept apart from db.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.store.db import Store
from monitor.store.rows import dt, headers_from


@dataclass(frozen=True)
class SnapshotEvidence:
    """A raw snapshot as stored, and the first fetch that received exactly these bytes."""

    sha256: str
    size: int
    content_type: str
    first_seen: datetime
    fetched_at: datetime | None = None
    http_status: int | None = None
    url: str = ""
    final_url: str = ""
    headers: tuple[tuple[str, str], ...] = ()


def snapshot_evidence(store: Store, document: str, digest: str) -> SnapshotEvidence | None:
    """What is recorded of the snapshot ``digest`` (None if it is not stored)."""
    row = store.db.execute(
        "select size, content_type, first_seen from snapshots where sha256 = ?", [digest]
    ).fetchone()
    if row is None:
        return None
    fetch = store.db.execute(
        # final_url is stored only when it is not the URL asked for (m012)
        "select started_at, http_status, url, coalesce(final_url, url), headers from fetches "
        "where document = ? and snapshot_sha256 = ? order by id limit 1",
        [document, digest],
    ).fetchone()
    evidence = SnapshotEvidence(digest, int(row[0] or 0), row[1] or "", dt(row[2]))
    if fetch is None:
        return evidence
    pairs = headers_from(fetch[4], f"the fetch of {document}'s snapshot {digest[:16]}")
    return SnapshotEvidence(
        digest, evidence.size, evidence.content_type, evidence.first_seen,
        fetched_at=dt(fetch[0]), http_status=fetch[1], url=fetch[2] or "",
        final_url=fetch[3] or "", headers=pairs,
    )  # fmt: skip


def fetch_count(store: Store) -> int:
    """The newest fetch id: moves on every check, whatever it found."""
    return int(store.db.execute("select max(id) from fetches").fetchone()[0] or 0)
