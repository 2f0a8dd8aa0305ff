"""The database's schema, as sqlite-utils migrations applied in order (never edited once
released: a change of schema is a new migration)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

DB_NAME = "monitor.db"
migrations = Migrations("policy-monitor")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.table("documents").create(
        {"id": str, "company": str, "title": str, "url": str, "added_at": str,
         "current_version": int, "etag": str, "last_modified": str,
         "consecutive_failures": int},
        pk="id",
    )  # fmt: skip
    db.table("snapshots").create(
        {"sha256": str, "content": bytes, "size": int, "content_type": str, "first_seen": str},
        pk="sha256",
    )
    db.table("fetches").create(
        {"id": int, "document": str, "started_at": str, "duration": float, "result": str,
         "http_status": int, "error": str, "url": str, "final_url": str, "headers": str,
         "snapshot_sha256": str},
        pk="id", foreign_keys=[("document", "documents", "id")],
    )  # fmt: skip
    db.table("versions").create(
        {"id": int, "document": str, "number": int, "text_sha256": str, "key_sha256": str,
         "text": bytes, "snapshot_sha256": str, "first_seen": str, "last_seen": str},
        pk="id", foreign_keys=[("document", "documents", "id")],
    )  # fmt: skip
    db.table("versions").create_index(["document", "number"], unique=True)
    db.table("versions").create_index(["document", "key_sha256"])
    db.table("changes").create(
        {"id": int, "document": str, "detected_at": str, "kind": str, "from_version": int,
         "to_version": int, "added_chars": int, "removed_chars": int, "diff_text": str,
         "flags": str, "ai_related": str, "ai_training": int},
        pk="id", foreign_keys=[("document", "documents", "id")],
    )  # fmt: skip
    db.table("fetches").create_index(["document", "id"])
    db.table("changes").create_index(["document", "id"])


@migrations()
def m002_suspect_text(db: sqlite_utils.Database) -> None:
    # A text that looks like a broken page waits here until a later check confirms it.
    db.table("documents").add_column("suspect_key", str)
    db.table("documents").add_column("suspect_since", str)
    db.table("documents").add_column("suspect_reason", str)


@migrations()
def m003_health_events(db: sqlite_utils.Database) -> None:
    # "monitoring failing" / "recovered" entries for operators (status, operations feed).
    db.table("health_events").create(
        {"id": int, "document": str, "at": str, "kind": str, "failures": int, "error": str},
        pk="id",
        foreign_keys=[("document", "documents", "id")],
    )


@migrations()
def m004_change_passages(db: sqlite_utils.Database) -> None:
    # The added and removed passages themselves, not only their rendering and sizes.
    db.table("changes").add_column("added", str)
    db.table("changes").add_column("removed", str)


@migrations()
def m005_check_states(db: sqlite_utils.Database) -> None:
    # Issue 11: the decision table's state per fetch, which version a check saw (for telling
    # A/B alternation from a real return), the extractor of each version, technical
    # upgrades, the last whole-body fetch, and notes on changes (held and confirmed...).
    db.table("fetches").add_column("state", str)
    db.table("fetches").add_column("version", int)
    db.table("versions").add_column("extractor", str)
    db.table("versions").add_column("upgrade", int)
    db.table("documents").add_column("last_full_fetch", str)
    db.table("changes").add_column("note", str)
    db.table("changes").add_column("classifier", str)
    db.table("upgrades").create(
        {"id": int, "document": str, "at": str, "from_version": int, "to_version": int,
         "old_extractor": str, "new_extractor": str},
        pk="id", foreign_keys=[("document", "documents", "id")],
    )  # fmt: skip
    db.table("fetches").create_index(["document", "started_at"])


@migrations()
def m009_snapshot_deltas(db: sqlite_utils.Database) -> None:
    # Issue 15: a snapshot may be stored as a delta against a whole one of the same
    # document (``base``; monitor/store/snapshots.py), so a page whose token changes on
    # every fetch costs a few hundred bytes per fetch, not a compressed copy. Readers get
    # the same bytes back, checked against their sha256.
    db.table("snapshots").add_column("base", str)
    # The same for version texts: ``text_base`` is the version holding the whole text.
    db.table("versions").add_column("text_base", int)


# Texts stored before versions recorded their extractor were read by extractor "1".
FIRST_EXTRACTOR = "1"
