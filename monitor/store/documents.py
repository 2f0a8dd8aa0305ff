"""Facts about the watched documents that publishing needs beyond their names."""

from __future__ import annotations

from datetime import datetime

from monitor.models import Validators
from monitor.store.db import Store
from monitor.store.rows import dt

# What choosing the validators of a fetch needs of one document: whether a current version
# is stored, when a whole body last came back, and the validators stored with it.
SendState = tuple[bool, datetime | None, Validators]


def added_at(store: Store) -> dict[str, datetime]:
    """When each document was first recorded (began to be watched)."""
    rows = store.db.execute("select id, added_at from documents where added_at is not null")
    return {str(doc_id): dt(when) for doc_id, when in rows}


def send_states(store: Store) -> dict[str, SendState]:
    """Every document's :data:`SendState`, in one query (a sweep's first step, before any
    request: one ``load_state`` per document would hold up the fetches)."""
    rows = store.db.execute(
        "select d.id, v.number is not null, d.last_full_fetch, d.etag, d.last_modified "
        "from documents d left join versions v "
        "on v.document = d.id and v.number = d.current_version"
    )
    return {
        str(doc): (bool(current), dt(full) if full else None, Validators(etag, modified))
        for doc, current, full, etag, modified in rows
    }
