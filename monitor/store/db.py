"""The store: every read and write of one data directory's database (the only SQL).

The database is the source of truth: every fetch attempt, every raw snapshot (by
sha256, stored once, compressed as zstd deltas in chains: see snapshots.py), every
distinct extracted text (a version) and every change. A document's check is one
transaction (:meth:`Store.transaction`), so a crash loses at most the check in
progress and never leaves half of one behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from monitor.models import (
    Change,
    DocState,
    DocumentStatus,
    FetchAttempt,
    HealthEvent,
    Held,
    Upgrade,
    Validators,
    Version,
    Watch,
)
from monitor.store import change_body, memo, retention, snapshots, texts
from monitor.store.connection import Database
from monitor.store.opening import database_errors, open_database
from monitor.store.rows import (
    EPOCH,
    attempt_from_row,
    change_from_row,
    digest_column,
    digest_hex,
    dt,
    headers_column,
    origin_columns,
    sha256,
    ts,
    version_from_row,
)
from monitor.store.schema import DB_NAME

# The responses a check held back instead of recording them: rows of the decision table
# (monitor/check/decide.py) whose raw bytes stay with the failed attempt (`held`, `status`).
HELD_STATES = ("wall", "held")
HELD_WHERE = "state in (" + ", ".join(f"'{state}'" for state in HELD_STATES) + ")"


class Store:
    """All reads and writes of one data directory's database."""

    def __init__(self, data_dir: str | Path, *, read_only: bool = False) -> None:
        """Opens (and, unless ``read_only``, creates and upgrades) the database.

        ``read_only`` never writes: no directory, no WAL switch, no migration (see
        :func:`open_database`). Raises ConfigError for a database that cannot be used.
        """
        self.path = Path(data_dir) / DB_NAME
        self.db: Database = open_database(Path(data_dir), read_only=read_only)
        self.kept: memo.Texts | None = None

    def keep_texts(self) -> None:
        """Keeps the version texts stored and read in memory (an import: monitor/store/memo.py)."""
        self.kept = memo.Texts()

    def close(self) -> None:
        self.db.close()

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        return self.db.insert(table, row)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # documents -------------------------------------------------------------
    def sync_documents(self, watches: list[Watch], now: datetime) -> None:
        """Adds new watchlist entries and refreshes the names of known ones (one query
        reads them all; a document whose names are as stored costs no statement)."""
        rows = self.db.execute("select id, company, title, url from documents")
        known = {str(row[0]): tuple(row[1:]) for row in rows}
        with self.transaction():
            for w in watches:
                row: dict[str, Any] = {
                    "id": w.id,
                    "company": w.company,
                    "title": w.title,
                    "url": w.url,
                }
                if w.id not in known:
                    row |= {"added_at": ts(now), "consecutive_failures": 0}
                    self.db.insert("documents", row)
                elif known[w.id] != (w.company, w.title, w.url):
                    self._update_document(w.id, row)

    def _document(self, doc_id: str) -> dict[str, Any] | None:
        return self._one("select * from documents where id = ?", [doc_id])

    # Plain statements on the hot path of a check: sqlite-utils' table helpers look up the
    # schema on every call (~8 statements for one update; issue 15 counted 86 per check).
    def _one(self, sql: str, args: list[Any]) -> dict[str, Any] | None:
        cursor = self.db.execute(sql, args)
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def _update_document(self, doc_id: str, row: dict[str, Any]) -> None:
        columns = ", ".join(f"[{name}] = ?" for name in row)
        self.db.execute(f"update documents set {columns} where id = ?", [*row.values(), doc_id])

    def validators(self, doc_id: str) -> Validators:
        row = self._document(doc_id) or {}
        return Validators(etag=row.get("etag"), last_modified=row.get("last_modified"))

    def set_validators(self, doc_id: str, validators: Validators) -> None:
        self._update_document(doc_id, asdict(validators))

    def set_hold(self, doc_id: str, held: Held | None) -> None:
        """Holds a text that looks like a broken page (None: nothing held)."""
        row = {
            "suspect_key": held.key if held else None,
            "suspect_reason": held.reason if held else None,
            "suspect_since": ts(held.since) if held else None,
        }
        self._update_document(doc_id, row)

    def set_failures(self, doc_id: str, count: int) -> None:
        self._update_document(doc_id, {"consecutive_failures": count})

    def set_last_full_fetch(self, doc_id: str, at: datetime) -> None:
        self._update_document(doc_id, {"last_full_fetch": ts(at)})

    def load_state(
        self, doc_id: str, window_start: datetime, with_text: bool = True,
        with_history: bool = True,
    ) -> DocState:  # fmt: skip
        """What a check's decision needs; ``window_start``: start of the A/B window.
        ``with_text=False`` leaves the current text out (enough to choose validators);
        ``with_history=False`` the versions' keys and the window's fetches (enough for a
        304 that the current version, read by this extractor, answers)."""
        doc = self._document(doc_id) or {}
        held = None
        if doc.get("suspect_key"):
            since = dt(doc["suspect_since"]) if doc.get("suspect_since") else EPOCH
            held = Held(doc["suspect_key"], doc.get("suspect_reason") or "", since)
        keys, recent = self._history(doc_id, window_start) if with_history else ([], [])
        full = doc.get("last_full_fetch")
        return DocState(
            document=doc_id, current=self._current(doc, with_text), held=held,
            failures=int(doc.get("consecutive_failures") or 0),
            last_full_fetch=dt(full) if full else None,
            validators=Validators(doc.get("etag"), doc.get("last_modified")),
            last_number=max((n for _, n in keys), default=0),
            keys=tuple((k, n) for k, n in keys), recent=tuple(r[0] for r in recent),
        )  # fmt: skip

    def _history(self, doc_id: str, window_start: datetime) -> tuple[list[Any], list[Any]]:
        keys = self.db.execute(
            "select key_sha256, max(number) from versions where document = ? group by key_sha256",
            [doc_id],
        ).fetchall()
        # The text read last before the window opened was still on the page when it opened:
        # it counts as seen in it (journalist9: an archive records a step only when the
        # text changes, so a variant shown for an hour after a text read two weeks earlier
        # looked like a return, not a flip; live checks read it again every few hours).
        recent = self.db.execute(
            "select version from (select id, version from fetches where document = ? and "
            "started_at < ? and version is not null order by started_at desc, id desc limit 1)"
            " union all select version from (select id, version from fetches where "
            "document = ? and started_at >= ? and version is not null order by id)",
            [doc_id, ts(window_start), doc_id, ts(window_start)],
        ).fetchall()
        return [(digest_hex(k), n) for k, n in keys], recent

    # fetch attempts ----------------------------------------------------------
    def record_fetch(self, doc_id: str, attempt: dict[str, Any]) -> int:
        """Records one fetch attempt (its result, the decision's state, what it saw)."""
        row = dict(attempt, document=doc_id, started_at=ts(attempt["started_at"]))
        row["headers"] = headers_column(attempt.get("headers"))  # packed when long (m012)
        if row.get("final_url") == row.get("url"):
            row["final_url"] = None  # read as the URL (m012): most fetches are not redirected
        columns = ", ".join(f"[{name}]" for name in row)
        marks = ", ".join("?" for _ in row)
        sql = f"insert into fetches ({columns}) values ({marks})"
        cursor = self.db.execute(sql, list(row.values()))
        return int(cast(int, cursor.lastrowid))

    def read_at(self, doc_id: str, number: int) -> str | None:
        """The address the latest fetch that saw version ``number`` ended at (None: only
        imported, never fetched)."""
        row = self.db.execute(
            "select coalesce(final_url, url) from fetches where document = ? and version = ? "
            "order by id desc limit 1",
            [doc_id, number],
        ).fetchone()
        return str(row[0]) if row and row[0] else None

    def fetches(self, doc_id: str, limit: int = 20) -> list[FetchAttempt]:
        sql = "select * from fetches where document = ? order by id desc limit ?"
        rows = self.db.rows(sql, [doc_id, limit])
        return [attempt_from_row(r) for r in rows]

    def latest_ids(self) -> tuple[int, int]:
        """The newest change and health event ids: what the feeds were last made from."""
        change = self.db.execute("select max(id) from changes").fetchone()[0]
        health = self.db.execute("select max(id) from health_events").fetchone()[0]
        return (change or 0, health or 0)

    def change_id_range(self) -> tuple[int, int]:
        """The lowest and highest change ids ((0, 0): none yet)."""
        low, high = self.db.execute("select min(id), max(id) from changes").fetchone()
        return (low or 0, high or 0)

    def consecutive_failures(self, doc_id: str) -> int:
        return int((self._document(doc_id) or {}).get("consecutive_failures") or 0)

    def record_health(
        self, doc_id: str, kind: str, at: datetime, failures: int, error: str
    ) -> None:
        row = {
            "document": doc_id,
            "at": ts(at),
            "kind": kind,
            "failures": failures,
            "error": error,
        }
        self.db.insert("health_events", row)

    def health_events(self, limit: int = 50) -> list[HealthEvent]:
        """The latest "failing" / "recovered" events, oldest first."""
        rows = self.db.rows("select * from health_events order by id desc limit ?", [limit])
        events = [
            HealthEvent(id=r["id"], document=r["document"], at=dt(r["at"]), kind=r["kind"],
                        failures=r["failures"], error=r["error"] or "")
            for r in rows
        ]  # fmt: skip
        return events[::-1]

    def _latest_health(self, doc_id: str) -> dict[str, Any] | None:
        sql = "select * from health_events where document = ? order by id desc limit 1"
        return self._one(sql, [doc_id])

    # snapshots ---------------------------------------------------------------
    def save_snapshot(
        self, body: bytes, content_type: str, seen_at: datetime, document: str | None = None
    ) -> str:
        """Stores raw bytes once, keyed by their sha256 (as a delta against an earlier
        snapshot of ``document`` when that is much smaller); returns the hash."""
        return snapshots.save(self.db, body, content_type, seen_at, document)

    def snapshot(self, digest: str) -> tuple[bytes, str]:
        """The raw bytes and content type of a stored snapshot."""
        return snapshots.load(self.db, digest)

    def prune_snapshots(self, before: datetime) -> tuple[int, int]:
        """Deletes raw snapshots before ``before`` that no version needs (retention.py)."""
        return retention.prune_snapshots(self.db, before)

    # versions ----------------------------------------------------------------
    def current_version(self, doc_id: str, with_text: bool = True) -> Version | None:
        return self._current(self._document(doc_id) or {"id": doc_id}, with_text)

    def _current(self, doc: dict[str, Any], with_text: bool) -> Version | None:
        number = doc.get("current_version")
        return self.version(doc["id"], number, with_text) if number else None

    def version(self, doc_id: str, number: int, with_text: bool = True) -> Version | None:
        sql = "select * from versions where document = ? and number = ?"
        row = self._one(sql, [doc_id, number])
        return self._version_from(row, with_text) if row else None

    def version_with_key(self, doc_id: str, key_sha: str) -> Version | None:
        """The latest version whose words (see ``diff.words_key``) hash to ``key_sha``."""
        sql = (
            "select * from versions where document = ? and key_sha256 = ? "
            "order by number desc limit 1"
        )
        row = self._one(sql, [doc_id, digest_column(key_sha)])
        return self._version_from(row) if row else None

    def _version_from(self, row: dict[str, Any], with_text: bool = True) -> Version:
        """A version, its text read whole or rebuilt from its delta (monitor/store/texts.py)."""
        text = self._text(row) if with_text else ""
        return replace(version_from_row(row, with_text=False), text=text)

    def _text(self, row: dict[str, Any]) -> str:
        digest = row["text_sha256"]
        kept = self.kept if isinstance(digest, str) and digest else None  # an old row: none
        found = kept.get(digest) if kept is not None else None
        if found is None:
            found = texts.unpack(self.db, row)
            if kept is not None:
                kept.put(digest, found)
        return found

    def versions(self, doc_id: str) -> list[Version]:
        rows = self.db.rows("select * from versions where document = ? order by number", [doc_id])
        return [version_from_row(r, with_text=False) for r in rows]

    def add_version(
        self, doc_id: str, text: str, key_sha: str, snapshot_sha: str, seen_at: datetime,
        extractor: str, upgrade: bool = False,
    ) -> int:  # fmt: skip
        """Stores a new distinct text and makes it the document's current version."""
        last = self.db.execute(
            "select max(number) from versions where document = ?", [doc_id]
        ).fetchone()[0]
        number = (last or 0) + 1
        digest = sha256(text.encode())
        # The text as its paragraphs, each distinct one stored once (m010, texts.py).
        self._insert("versions",
            {"document": doc_id, "number": number, "text_sha256": digest,
             "key_sha256": digest_column(key_sha),
             **texts.pack_version(self.db, doc_id, text, self.kept),
             "snapshot_sha256": snapshot_sha,
             "first_seen": ts(seen_at), "last_seen": ts(seen_at), "extractor": extractor,
             "upgrade": int(upgrade)}
        )  # fmt: skip
        if self.kept is not None:
            self.kept.put(digest, text)
        self.set_current(doc_id, number, seen_at)
        return number

    def stamp_extractor(self, doc_id: str, number: int, extractor: str) -> None:
        """Records that a newer extractor reads this version's snapshot to the same text."""
        self.db.execute(
            "update versions set extractor = ? where document = ? and number = ?",
            [extractor, doc_id, number],
        )

    def add_upgrade(
        self, doc_id: str, at: datetime, from_version: int, to_version: int, old: str, new: str
    ) -> None:
        row = {"document": doc_id, "at": ts(at), "from_version": from_version,
               "to_version": to_version, "old_extractor": old, "new_extractor": new}  # fmt: skip
        self.db.insert("upgrades", row)

    def upgrades(self, doc_id: str | None = None) -> list[Upgrade]:
        """Technical upgrades of a document (of every document: None), oldest first."""
        where, args = ("document = ?", [doc_id]) if doc_id else ("1 = 1", [])
        rows = self.db.rows(f"select * from upgrades where {where} order by id", args)
        return [
            Upgrade(id=r["id"], document=r["document"], at=dt(r["at"]),
                    from_version=r["from_version"], to_version=r["to_version"],
                    old_extractor=r["old_extractor"], new_extractor=r["new_extractor"])
            for r in rows
        ]  # fmt: skip

    def set_current(self, doc_id: str, number: int, seen_at: datetime) -> None:
        """Marks a version as the document's text as of now (also after a revert)."""
        self._update_document(doc_id, {"current_version": number})
        self.seen_again(doc_id, number, seen_at)

    def seen_again(self, doc_id: str, number: int, seen_at: datetime) -> None:
        """The document's current version was seen (again) at ``seen_at``."""
        self.db.execute(
            "update versions set last_seen = ? where document = ? and number = ?",
            [ts(seen_at), doc_id, number],
        )

    # changes -----------------------------------------------------------------
    def add_change(self, change: Change) -> Change:
        """Records a change; returns it with its id."""
        row = asdict(change)
        row.pop("id")
        row.update(origin_columns(change.origin))
        row.update(
            detected_at=ts(change.detected_at),
            flags=json.dumps([asdict(f) for f in change.flags]),
            ai_related=json.dumps([asdict(f) for f in change.ai_related]),
            ai_training=int(change.ai_training),
        )
        for key in (
            "company",
            "title",
            "url",
            "diff_text",
            "added",
            "removed",
            "opened_at",
            "opened_by_archive",
        ):  # read from the fetches, not stored
            row.pop(key)
        # The diff and passages as one frame on the paragraphs around the edit (m012).
        body = (change.diff_text, list(change.added), list(change.removed))
        row["body"] = change_body.pack(self.db, row, body)
        change_id = self._insert("changes", row)
        # Read back as listed, with the diff and passages just packed (what unpacking the
        # body gives: a JSON round trip of a string and two lists of strings), not decoded.
        found = self._change_rows("c.id = ?", [change_id], None, with_diff=False)
        if not found:
            raise KeyError(change_id)
        found[0].update(diff_text=body[0], added=body[1], removed=body[2])
        return change_from_row(found[0])

    def change(self, change_id: int) -> Change:
        found = self._changes("c.id = ?", [change_id])
        if not found:
            raise KeyError(change_id)
        return found[0]

    def changes(
        self, document: str | None = None, ai_only: bool = False, limit: int | None = None,
        *, live_only: bool = False, with_diff: bool = True,
    ) -> list[Change]:  # fmt: skip
        """Changes oldest first (the newest ``limit`` of them when a limit is given);
        ``live_only`` leaves out those imported from an archive; ``with_diff=False`` leaves
        the rendered diff and the passages out (empty): a listing reads much less."""
        where, args = _change_filter(document, ai_only, live_only)
        return self._changes(where, args, limit, with_diff)

    def _changes(
        self, where: str, args: list[Any], limit: int | None = None, with_diff: bool = True
    ) -> list[Change]:
        return [change_from_row(r) for r in self._change_rows(where, args, limit, with_diff)]

    def change_rows(
        self, document: str | None = None, ai_only: bool = False
    ) -> list[dict[str, Any]]:
        """The rows ``changes(document, ai_only, with_diff=False)`` makes its values of,
        oldest first (`changes --json` builds its records from them: 10,000 ``Change``
        values cost more than the query)."""
        where, args = _change_filter(document, ai_only, live_only=False)
        return self._change_rows(where, args, None, with_diff=False)

    def _change_rows(
        self, where: str, args: list[Any], limit: int | None, with_diff: bool
    ) -> list[dict[str, Any]]:
        columns = "c.*" if with_diff else _LISTING_COLUMNS
        sql = (
            f"select {columns}, {_WINDOW_COLUMNS}, d.company, d.title, d.url from changes c "
            f"join documents d on d.id = c.document where {where} order by c.id desc"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        cursor = self.db.execute(sql, args)
        names = [col[0] for col in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in reversed(cursor.fetchall())]
        cache: change_body.Cache = {}
        for row in rows if with_diff else ():
            if row["body"] is not None:  # stored since m012: one frame (change_body.py)
                body = change_body.unpack(self.db, row, cache)
                row["diff_text"], row["added"], row["removed"] = body
        return rows

    # status ------------------------------------------------------------------
    def document_ids(self) -> list[str]:
        return [d.id for d in self.documents()]

    def documents(self) -> list[Watch]:
        """Every known document (its names and URL as last synced), in the order added."""
        rows = self.db.rows("select * from documents order by rowid")
        return [Watch(r["id"], r["company"], r["title"], r["url"]) for r in rows]

    def status(self, doc_id: str) -> DocumentStatus:
        doc = self._document(doc_id)
        if doc is None:
            raise KeyError(doc_id)
        fetches = self.fetches(doc_id, limit=1)
        health = self._latest_health(doc_id)
        sql = "select count(*) from versions where document = ?"
        count = int(self.db.execute(sql, [doc_id]).fetchone()[0])
        last = self.db.execute(
            "select max(detected_at) from changes where document = ?", [doc_id]
        ).fetchone()[0]
        live = self.db.execute(
            "select max(started_at) from fetches where document = ? and origin is null", [doc_id]
        ).fetchone()[0]
        held, last_held = self.db.execute(
            f"select count(*), max(started_at) from fetches where document = ? and {HELD_WHERE}",
            [doc_id],
        ).fetchone()
        return DocumentStatus(
            document=doc_id, company=doc["company"], title=doc["title"], url=doc["url"],
            last_fetch=fetches[0] if fetches else None, versions=count,
            current_version=doc["current_version"], last_change=dt(last) if last else None,
            consecutive_failures=doc["consecutive_failures"] or 0,
            suspect=doc["suspect_reason"] or "",
            failing_since=self._failing_since(doc_id, doc["consecutive_failures"] or 0,
                                              dt(health["at"]))
            if health and health["kind"] == "failing" else None,
            last_live_check=dt(live) if live else None,
            held_responses=int(held), last_held=dt(last_held) if last_held else None,
        )  # fmt: skip

    def _failing_since(self, doc_id: str, failures: int, alerted: datetime) -> datetime:
        """When the current run of failed checks began: its first failed fetch (the alert
        itself comes only after several), not when the alert was raised (the fallback when
        the fetches were pruned)."""
        row = self.db.execute(
            "select started_at from fetches where document = ? order by id desc limit 1 offset ?",
            [doc_id, max(failures - 1, 0)],
        ).fetchone()
        return min(dt(row[0]), alerted) if row else alerted


def _change_filter(document: str | None, ai_only: bool, live_only: bool) -> tuple[str, list[Any]]:
    where, args = ["1 = 1"], []
    if document:
        where.append("c.document = ?")
        args.append(document)
    if ai_only:
        where.append("c.ai_training = 1")
    if live_only:
        where.append("coalesce(c.origin, '') = ''")
    return " and ".join(where), args


# Where a change's window opens: the latest step that read its old version before it (the
# (document, started_at) index walks back from the change; usually one row away).
_OPENED = ("from fetches f where f.document = c.document and f.version = c.from_version"
           " and f.started_at < c.detected_at order by f.started_at desc limit 1")  # fmt: skip
_WINDOW_COLUMNS = (f"(select f.started_at {_OPENED}) as opened_at, "
                   f"(select f.origin is not null {_OPENED}) as opened_by_archive")  # fmt: skip
_LISTING_COLUMNS = ", ".join(
    f"c.{name}"
    for name in ("id", "document", "detected_at", "kind", "from_version", "to_version",
                 "added_chars", "removed_chars", "flags", "ai_related", "note", "classifier",
                 "origin", "origin_ref", "archived_at", "origin_source", "origin_path")
)  # fmt: skip


@contextmanager
def opened(data_dir: str | Path, *, read_only: bool = False) -> Iterator[Store]:
    """The store, closed after the block; SQLite failures inside become one-line errors."""
    store = Store(data_dir, read_only=read_only)
    try:
        with database_errors(store.path):
            yield store
    finally:
        store.close()
