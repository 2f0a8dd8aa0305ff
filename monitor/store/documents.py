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


# What the published site shows of a document's state (the feeds stamp): its last fetch,
# its version count, current version, failures in a row, the reason a text is held, and
# since when monitoring of it has been failing.
SiteState = tuple[datetime | None, int, int | None, int, str, datetime | None]


def site_states(store: Store) -> dict[str, SiteState]:
    """Every document's :data:`SiteState` in one query (``status`` per document took 0.3 s
    for 2,000 documents on every sweep); ``failing_since`` is read apart only for the
    documents whose latest health event is "failing" (as ``Store.status`` reads it)."""
    rows = store.db.execute(
        "select d.id, (select f.started_at from fetches f where f.document = d.id "
        "order by f.id desc limit 1), (select count(*) from versions v where v.document = d.id),"
        " d.current_version, coalesce(d.consecutive_failures, 0), coalesce(d.suspect_reason, ''),"
        " h.kind = 'failing' from documents d left join (select document, kind, max(id) "
        "from health_events group by document) h on h.document = d.id"
    ).fetchall()
    states: dict[str, SiteState] = {}
    for doc, last, versions, current, failures, suspect, failing in rows:
        since = store.status(doc).failing_since if failing else None
        states[str(doc)] = (dt(last) if last else None, versions, current, failures, suspect,
                            since)  # fmt: skip
    return states


def upgrade_count(store: Store) -> int:
    """How many technical upgrades are recorded (every document's)."""
    return int(store.db.execute("select count(*) from upgrades").fetchone()[0])
