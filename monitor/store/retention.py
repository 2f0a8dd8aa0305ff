"""Retention of raw snapshots: old bytes nothing recorded depends on may go (issue 15).

A snapshot is evidence of a recorded change when a version was read from it (every
change's two versions are): those are kept forever, and so is every snapshot a kept
delta is built on, down its chain of bases to the whole one (monitor/store/snapshots.py).
Only snapshots first seen before the cut-off that no version names and no kept snapshot
is based on are deleted: the fetch attempts keep their sha256 and time, only the bytes
go. Nothing is ever deleted unless asked (``prune``).
"""

from __future__ import annotations

from datetime import datetime

from monitor.store.connection import Connection
from monitor.store.rows import ts

_UNNEEDED = (
    "first_seen < ?"
    " and sha256 not in (select snapshot_sha256 from versions where snapshot_sha256 is not null)"
    # A base is stored as its 32 bytes since m012 (rows.digest_column), in hex before.
    " and sha256 not in (select case typeof(base) when 'blob' then lower(hex(base)) else base end"
    " from snapshots where base is not null)"
)


def prune_snapshots(db: Connection, before: datetime) -> tuple[int, int]:
    """Deletes raw snapshots first seen before ``before`` that nothing recorded needs;
    (snapshots deleted, compressed bytes freed). The caller holds the transaction."""
    count = freed = 0
    while True:  # a base is free only once the deltas built on it are gone
        found, size = db.execute(
            f"select count(*), coalesce(sum(length(content)), 0) from snapshots where {_UNNEEDED}",
            [ts(before)],
        ).fetchone()
        if not found:
            return count, freed
        db.execute(f"delete from snapshots where {_UNNEEDED}", [ts(before)])
        count, freed = count + found, freed + size
