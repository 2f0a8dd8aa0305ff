"""The database's schema, as sqlite-utils migrations applied in order (never edited once
released: a change of schema is a new migration). A new database is made from the schema
they leave, ``baseline.sql``: after adding a step, run ``python -m monitor.store.baseline``
(tests/test_store_baseline.py fails until then; new stores get the step either way)."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from monitor.store.migrate import Migrations
from monitor.store.view_sql import EDITS_SQL, LIST_VIEWS_SQL

if TYPE_CHECKING:  # the steps run on sqlite-utils' Database (imported to apply them)
    import sqlite_utils

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
def m006_searchable_texts(db: sqlite_utils.Database) -> None:
    # Issue 13: each version's text as plain TEXT (the zlib blob in versions.text stays,
    # so every reader works as before) with an FTS5 index kept up to date by triggers,
    # named as sqlite-utils and Datasette expect, so `datasette monitor.db` searches it.
    # Plain statements, not enable_fts(): its executescript() would commit halfway.
    db.table("version_texts").create(
        {"id": int, "document": str, "number": int, "first_seen": str, "text": str},
        pk="id", foreign_keys=[("id", "versions", "id"), ("document", "documents", "id")],
    )  # fmt: skip
    db.table("version_texts").create_index(["document", "number"], unique=True)
    for statement in FTS_SQL:
        db.execute(statement)
    rows = db.execute("select id, document, number, first_seen, text from versions order by id")
    db.table("version_texts").insert_all(
        {"id": i, "document": d, "number": n, "first_seen": f,
         "text": zlib.decompress(blob).decode("utf-8")}
        for i, d, n, f, blob in rows
    )  # fmt: skip


FTS_SQL = (
    # content="version_texts" spelled so: how Datasette and sqlite-utils find the index.
    'CREATE VIRTUAL TABLE version_texts_fts USING FTS5 (text, content="version_texts")',
    "create trigger version_texts_ai after insert on version_texts begin"
    " insert into version_texts_fts (rowid, text) values (new.rowid, new.text); end",
    "create trigger version_texts_ad after delete on version_texts begin"
    " insert into version_texts_fts (version_texts_fts, rowid, text)"
    " values ('delete', old.rowid, old.text); end",
    "create trigger version_texts_au after update on version_texts begin"
    " insert into version_texts_fts (version_texts_fts, rowid, text)"
    " values ('delete', old.rowid, old.text);"
    " insert into version_texts_fts (rowid, text) values (new.rowid, new.text); end",
)


@migrations()
def m007_imported_history(db: sqlite_utils.Database) -> None:
    # Issue 14: history imported from an archive (Open Terms Archive, a folder of snapshots,
    # the Wayback Machine). Each imported step, version and change names its origin (the
    # archive), the commit, capture or file it came from and the archive's time; live checks
    # leave them empty. Feeds leave imported changes out unless asked.
    for table in ("fetches", "versions", "changes"):
        db.table(table).add_column("origin", str)
        db.table(table).add_column("origin_ref", str)
        db.table(table).add_column("archived_at", str)
    db.table("fetches").create_index(["document", "origin", "origin_ref"])


@migrations()
def m008_board_cells(db: sqlite_utils.Database) -> None:
    # Issue 16: the AI-training status board. Each row is a cell as read from one version
    # (a first reading, a change of value, or a new citation); the latest row per cell is
    # the board. board_state says which version and rules each document was last read with.
    db.table("board_cells").create(
        {"id": int, "document": str, "cell": str, "at": str, "version": int, "value": str,
         "which": str, "sentence": str, "place": str, "sentence_version": int,
         "first_seen": str, "evidence_change": int, "kind": str, "previous_value": str,
         "previous_which": str, "previous_sentence": str, "rules": str},
        pk="id", foreign_keys=[("document", "documents", "id")],
    )  # fmt: skip
    db.table("board_cells").create_index(["document", "cell", "id"])
    db.table("board_cells").create_index(["kind", "id"])
    db.table("board_state").create(
        {"document": str, "version": int, "rules": str, "at": str},
        pk="document",
        foreign_keys=[("document", "documents", "id")],
    )


@migrations()
def m009_snapshot_deltas(db: sqlite_utils.Database) -> None:
    # Issue 15: a snapshot may be stored as a delta against a whole one of the same
    # document (``base``; monitor/store/snapshots.py), so a page whose token changes on
    # every fetch costs a few hundred bytes per fetch, not a compressed copy. Readers get
    # the same bytes back, checked against their sha256.
    db.table("snapshots").add_column("base", str)
    # The same for version texts: ``text_base`` is the version holding the whole text.
    db.table("versions").add_column("text_base", int)


@migrations()
def m010_paragraphs(db: sqlite_utils.Database) -> None:
    # Issue 15: m006 kept every version's whole text again in plain (520x the compressed
    # diff per one-sentence edit). Now each distinct paragraph (line) is stored once, with
    # the FTS5 index, and a version is the list of its paragraph ids (monitor/store/
    # paragraphs.py). Every version is converted and checked against its sha256; then the
    # plain copies go and ``version_texts`` becomes a view rebuilding them (Datasette).
    from monitor.store import convert  # the conversion reads texts as stored before m010

    for statement in PARAGRAPHS_SQL:
        db.execute(statement)
    db.table("versions").add_column("paragraph_ids", str)
    convert.versions_to_paragraphs(db)
    for statement in ("drop table if exists version_texts_fts", "drop table version_texts"):
        db.execute(statement)
    for statement in VIEWS_SQL:
        db.execute(statement)


@migrations()
def m011_snapshot_chains(db: sqlite_utils.Database) -> None:
    # Issue 15: new snapshots are zstd frames (``codec``), whole or a delta on an earlier
    # snapshot of the document at ``serial`` in a chain of skip deltas (monitor/store/
    # snapshots.py). Rows stored before keep their form (codec NULL) and are read as before.
    db.table("snapshots").add_column("codec", str)
    db.table("snapshots").add_column("serial", int)


@migrations()
def m012_compact_changes(db: sqlite_utils.Database) -> None:
    # Issue 15: a change's rendered diff and passages repeat the paragraphs its versions
    # store (887 bytes of a one-sentence edit's 3.1 KB): they become one zstd frame on
    # those paragraphs (``body``, monitor/store/change_body.py). Digests only the store
    # reads (a version's words key, a snapshot's base) are kept as their 32 bytes, not 64
    # hex digits; a fetch's final URL only when it is not the URL asked for; its headers
    # as a zstd frame when long (rows.headers_column); the index of imported fetches
    # holds those alone. Each change is converted only when its frame reads back to the
    # diff and passages as stored; the whole step is one transaction (a crash in it
    # leaves the store as it was).
    from monitor.store import convert  # the conversion reads changes as stored before m012

    db.execute("alter table changes add column body blob")
    convert.changes_to_bodies(db)
    convert.digests_to_bytes(db)
    convert.compact_fetches(db)
    for statement in (
        "drop index if exists idx_fetches_document_origin_origin_ref",
        "create index idx_fetches_document_origin_origin_ref on fetches"
        " (document, origin, origin_ref) where origin is not null",
    ):
        db.execute(statement)


@migrations()
def m013_list_deltas(db: sqlite_utils.Database) -> None:
    # Issue 15: a version's paragraph list grew by two runs with every edit of its document
    # (340 of a one-sentence edit's 2.2 KB after 60 edits); it may now be a delta on the
    # whole list of an earlier version (``ids_base``, monitor/store/lists.py). The views
    # expand both forms (``version_runs``: each version's runs in order). Every list is
    # converted only when it expands to the same ids, in Python and in the view; the whole
    # step is one transaction (a crash in it leaves the store as it was).
    from monitor.store import convert  # the conversion reads lists as stored before m013

    db.execute("alter table versions add column ids_base integer")
    for statement in ("drop view version_texts", "drop view version_paragraphs", *LIST_VIEWS_SQL):
        db.execute(statement)
    convert.lists_to_deltas(db)


@migrations()
def m014_paragraph_edits(db: sqlite_utils.Database) -> None:
    # Issue 15: a long new line that keeps most of the line it replaces is stored as an
    # edit of it (``base``, ``head``, ``tail``: monitor/store/splice.py); ``text`` holds
    # its middle. The full-text index is fed each paragraph whole by new triggers, and
    # the views read each whole (``paragraph_texts``: every paragraph's whole text).
    # Paragraphs stored before stay whole: nothing is converted.
    for column in ("base", "head", "tail"):
        db.execute(f"alter table paragraphs add column {column} integer")
    for statement in (
        "drop trigger paragraphs_ai", "drop trigger paragraphs_ad",
        "drop view version_texts", "drop view version_paragraphs", *EDITS_SQL,
    ):  # fmt: skip
        db.execute(statement)


@migrations()
def m015_origin_citation(db: sqlite_utils.Database) -> None:
    # journalist8: "imported from ota COMMIT" cannot be cited. Each imported step, version
    # and change also names where it came from (``origin_source``: the repository's remote
    # URL or the clone's folder name, the snapshots' folder, the Wayback Machine's address)
    # and what (``origin_path``: the file in the repository or folder, the capture's URL).
    # Rows imported before stay without them (NULL): nothing recorded says where they were.
    for table in ("fetches", "versions", "changes"):
        for column in ("origin_source", "origin_path"):
            db.execute(f"alter table {table} add column {column} text")


@migrations()
def m016_fetches_by_version(db: sqlite_utils.Database) -> None:
    # journalist9's window of a change (``changes --json``'s ``window_start``): the latest
    # step that read the old version before the change, one subquery per change. The
    # (document, started_at) index walked back through every step between: 18 s for
    # 10,000 changes over 73,000 steps where few steps read the old version (bench/
    # queries.py). This index seeks it.
    db.execute(
        "create index idx_fetches_document_version_started_at on fetches"
        " (document, version, started_at) where version is not null"
    )


PARAGRAPHS_SQL = (
    "create table paragraphs (id integer primary key, hash integer not null, text text not null)",
    "create index paragraphs_hash on paragraphs (hash)",
    # content="paragraphs" spelled so: how Datasette and sqlite-utils find the index.
    'CREATE VIRTUAL TABLE paragraphs_fts USING FTS5 (text, content="paragraphs")',
    "create trigger paragraphs_ai after insert on paragraphs begin"
    " insert into paragraphs_fts (rowid, text) values (new.id, new.text); end",
    "create trigger paragraphs_ad after delete on paragraphs begin"
    " insert into paragraphs_fts (paragraphs_fts, rowid, text)"
    " values ('delete', old.id, old.text); end",
)

_RUN = (  # the first and last id of one element of paragraph_ids: n, or [a, b]
    "(case j.type when 'array' then j.value ->> 0 else j.value end) and"
    " (case j.type when 'array' then j.value ->> 1 else j.value end)"
)
VIEWS_SQL = (
    # Each version's paragraphs in order (of ``run``, then ``paragraph_id``), for Datasette
    # and SQL users: ``paragraph_ids`` is JSON where n is one id and [a, b] the ids a to b
    # (paragraphs.py), and the ids of a run are all paragraphs, so a range join expands it.
    "create view version_paragraphs as select v.id as version_id, v.document, v.number,"
    " j.key as run, p.id as paragraph_id, p.text"
    f" from versions v, json_each(v.paragraph_ids) j join paragraphs p on p.id between {_RUN}",
    # The whole text of each version, as the plain table m006 made was (a version kept in
    # its old form by m010 shows NULL). One subquery per row: filters on versions apply.
    "create view version_texts as select v.id, v.document, v.number, v.first_seen,"
    " (select group_concat(text, char(10)) from (select p.text from json_each(v.paragraph_ids) j"
    f" join paragraphs p on p.id between {_RUN} order by j.key, p.id)) as text from versions v",
)

# Texts stored before versions recorded their extractor were read by extractor "1".
FIRST_EXTRACTOR = "1"
