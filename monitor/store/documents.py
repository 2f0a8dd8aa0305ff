"""Facts about the watched documents that publishing needs beyond their names."""

from __future__ import annotations

from datetime import datetime

from monitor.store.db import Store
from monitor.store.rows import dt


def added_at(store: Store) -> dict[str, datetime]:
    """When each document was first recorded (began to be watched)."""
    rows = store.db.execute("select id, added_at from documents where added_at is not null")
    return {str(doc_id): dt(when) for doc_id, when in rows}
