"""SQLite storage (the only package with SQL), via sqlite-utils.

``schema`` holds the migrations, ``opening`` decides whether a database may be used,
``db`` is the :class:`Store`, ``rows`` turns rows into the monitor's frozen values;
``search`` (full-text queries on the versions' plain texts), ``evidence`` (the fetch
behind a snapshot) and ``documents`` (when each was first watched, what a sweep's
validators need) add queries beside it.
"""

from monitor.store.db import Store, opened
from monitor.store.imports import (
    attempt_columns,
    fill_origin,
    imported_refs,
    latest_record,
    tag_version,
    unsourced_refs,
)
from monitor.store.opening import check_schema, database_error, database_errors, open_database
from monitor.store.rows import sha256
from monitor.store.schema import DB_NAME, FIRST_EXTRACTOR, migrations

__all__ = [
    "DB_NAME", "FIRST_EXTRACTOR", "Store", "attempt_columns", "check_schema", "database_error",
    "database_errors", "fill_origin", "imported_refs", "latest_record", "migrations",
    "open_database", "opened", "sha256", "tag_version", "unsourced_refs",
]  # fmt: skip
