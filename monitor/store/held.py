"""The responses a check held back: a wall or error page (quarantined) and a text held
as suspect. Their raw bytes are stored with the failed attempt; `held` lists and shows
them, so an operator sees what the site sent instead of the policy without SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.store.db import HELD_WHERE, Store
from monitor.store.rows import dt


@dataclass(frozen=True)
class HeldResponse:
    fetch_id: int
    document: str
    at: datetime
    state: str  # "wall" (quarantined) or "held" (held as suspect)
    why: str  # the check's line for a wall; empty for a suspect text (`status` says why)
    http_status: int | None
    url: str
    final_url: str
    snapshot: str | None  # sha256 of the raw bytes
    size: int | None  # None: the snapshot was pruned (`prune`)
    content_type: str


_SELECT = (
    "select f.id, f.document, f.started_at, f.state, coalesce(f.error, ''), f.http_status, "
    "f.url, coalesce(f.final_url, f.url), f.snapshot_sha256, s.size, s.content_type "
    "from fetches f left join snapshots s on s.sha256 = f.snapshot_sha256 "
    f"where f.{HELD_WHERE}"
)


def held_responses(store: Store, document: str | None, limit: int) -> list[HeldResponse]:
    """The newest held-back responses (of ``document``, or of every document)."""
    where, args = ("", [limit]) if document is None else (" and f.document = ?", [document, limit])
    rows = store.db.execute(f"{_SELECT}{where} order by f.id desc limit ?", args).fetchall()
    return [_response(row) for row in rows]


def held_response(store: Store, fetch_id: int) -> HeldResponse | None:
    row = store.db.execute(f"{_SELECT} and f.id = ?", [fetch_id]).fetchone()
    return _response(row) if row else None


def _response(row: Any) -> HeldResponse:
    fetch_id, doc, at, state, why, status, url, final, digest, size, content_type = row
    return HeldResponse(
        fetch_id=int(fetch_id), document=str(doc), at=dt(at), state=str(state), why=str(why),
        http_status=status, url=url or "", final_url=final or "", snapshot=digest,
        size=int(size) if size is not None else None, content_type=content_type or "",
    )  # fmt: skip
