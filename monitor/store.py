"""SQLite storage (the only module with SQL), via sqlite-utils.

The database is the source of truth: every fetch attempt, every raw snapshot (by
sha256, zlib-compressed, stored once), every distinct extracted text (a version) and
every change. A document's check is one transaction (:meth:`Store.transaction`), so a
crash loses at most the check in progress and never leaves half of one behind.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

import sqlite_utils
from sqlite_utils.migrations import Migrations

from monitor.errors import ConfigError, LockedError, MonitorError
from monitor.models import (
    Change,
    DocState,
    DocumentStatus,
    FetchAttempt,
    Flag,
    HealthEvent,
    Held,
    Upgrade,
    Validators,
    Version,
    Watch,
)

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


# Texts stored before versions recorded their extractor were read by extractor "1".
FIRST_EXTRACTOR = "1"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Store:
    """All reads and writes of one data directory's database."""

    def __init__(self, data_dir: str | Path, *, read_only: bool = False) -> None:
        """Opens (and, unless ``read_only``, creates and upgrades) the database.

        ``read_only`` never writes: no directory, no WAL switch, no migration (see
        :func:`open_database`). Raises ConfigError for a database that cannot be used.
        """
        self.path = Path(data_dir) / DB_NAME
        self.db = open_database(Path(data_dir), read_only=read_only)

    def close(self) -> None:
        self.db.close()

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        return int(cast(int, self.db.table(table).insert(row).last_pk))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # documents -------------------------------------------------------------
    def sync_documents(self, watches: list[Watch], now: datetime) -> None:
        """Adds new watchlist entries and refreshes the names of known ones."""
        with self.transaction():
            for w in watches:
                row: dict[str, Any] = {
                    "id": w.id,
                    "company": w.company,
                    "title": w.title,
                    "url": w.url,
                }
                if self._document(w.id) is None:
                    row |= {"added_at": _ts(now), "consecutive_failures": 0}
                    self.db.table("documents").insert(row)
                else:
                    self.db.table("documents").update(w.id, row)

    def _document(self, doc_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table("documents").rows_where("id = ?", [doc_id]))
        return rows[0] if rows else None

    def validators(self, doc_id: str) -> Validators:
        row = self._document(doc_id) or {}
        return Validators(etag=row.get("etag"), last_modified=row.get("last_modified"))

    def set_validators(self, doc_id: str, validators: Validators) -> None:
        self.db.table("documents").update(doc_id, asdict(validators))

    def set_hold(self, doc_id: str, held: Held | None) -> None:
        """Holds a text that looks like a broken page (None: nothing held)."""
        row = {
            "suspect_key": held.key if held else None,
            "suspect_reason": held.reason if held else None,
            "suspect_since": _ts(held.since) if held else None,
        }
        self.db.table("documents").update(doc_id, row)

    def set_failures(self, doc_id: str, count: int) -> None:
        self.db.table("documents").update(doc_id, {"consecutive_failures": count})

    def set_last_full_fetch(self, doc_id: str, at: datetime) -> None:
        self.db.table("documents").update(doc_id, {"last_full_fetch": _ts(at)})

    def load_state(self, doc_id: str, window_start: datetime) -> DocState:
        """What a check's decision needs; ``window_start``: start of the A/B window."""
        doc = self._document(doc_id) or {}
        held = None
        if doc.get("suspect_key"):
            since = _dt(doc["suspect_since"]) if doc.get("suspect_since") else _EPOCH
            held = Held(doc["suspect_key"], doc.get("suspect_reason") or "", since)
        keys = self.db.execute(
            "select key_sha256, max(number) from versions where document = ? group by key_sha256",
            [doc_id],
        ).fetchall()
        recent = self.db.execute(
            "select version from fetches where document = ? and started_at >= ? "
            "and version is not null order by id",
            [doc_id, _ts(window_start)],
        ).fetchall()
        full = doc.get("last_full_fetch")
        return DocState(
            document=doc_id, current=self.current_version(doc_id), held=held,
            failures=int(doc.get("consecutive_failures") or 0),
            last_full_fetch=_dt(full) if full else None,
            validators=Validators(doc.get("etag"), doc.get("last_modified")),
            last_number=max((n for _, n in keys), default=0),
            keys=tuple((k, n) for k, n in keys), recent=tuple(r[0] for r in recent),
        )  # fmt: skip

    # fetch attempts ----------------------------------------------------------
    def record_fetch(self, doc_id: str, attempt: dict[str, Any]) -> int:
        """Records one fetch attempt (its result, the decision's state, what it saw)."""
        row = dict(attempt, document=doc_id, started_at=_ts(attempt["started_at"]))
        row["headers"] = json.dumps(attempt.get("headers") or [])
        return self._insert("fetches", row)

    def fetches(self, doc_id: str, limit: int = 20) -> list[FetchAttempt]:
        rows = self.db.table("fetches").rows_where(
            "document = ?", [doc_id], order_by="id desc", limit=limit
        )
        return [self._attempt(r) for r in rows]

    @staticmethod
    def _attempt(r: dict[str, Any]) -> FetchAttempt:
        return FetchAttempt(
            id=r["id"], document=r["document"], started_at=_dt(r["started_at"]),
            duration=r["duration"] or 0.0, result=r["result"], http_status=r["http_status"],
            error=r["error"] or "", snapshot_sha256=r["snapshot_sha256"],
        )  # fmt: skip

    def latest_ids(self) -> tuple[int, int]:
        """The newest change and health event ids: what the feeds were last made from."""
        change = self.db.execute("select max(id) from changes").fetchone()[0]
        health = self.db.execute("select max(id) from health_events").fetchone()[0]
        return (change or 0, health or 0)

    def consecutive_failures(self, doc_id: str) -> int:
        return int((self._document(doc_id) or {}).get("consecutive_failures") or 0)

    def record_health(
        self, doc_id: str, kind: str, at: datetime, failures: int, error: str
    ) -> None:
        row = {
            "document": doc_id,
            "at": _ts(at),
            "kind": kind,
            "failures": failures,
            "error": error,
        }
        self.db.table("health_events").insert(row)

    def health_events(self, limit: int = 50) -> list[HealthEvent]:
        """The latest "failing" / "recovered" events, oldest first."""
        rows = self.db.table("health_events").rows_where(order_by="id desc", limit=limit)
        events = [
            HealthEvent(id=r["id"], document=r["document"], at=_dt(r["at"]), kind=r["kind"],
                        failures=r["failures"], error=r["error"] or "")
            for r in rows
        ]  # fmt: skip
        return events[::-1]

    def _latest_health(self, doc_id: str) -> dict[str, Any] | None:
        rows = self.db.table("health_events").rows_where(
            "document = ?", [doc_id], order_by="id desc", limit=1
        )
        return next(iter(rows), None)

    # snapshots ---------------------------------------------------------------
    def save_snapshot(self, body: bytes, content_type: str, seen_at: datetime) -> str:
        """Stores raw bytes once, keyed by their sha256; returns the hash."""
        digest = sha256(body)
        if not self.db.table("snapshots").count_where("sha256 = ?", [digest]):
            self.db.table("snapshots").insert(
                {"sha256": digest, "content": zlib.compress(body, 6), "size": len(body),
                 "content_type": content_type, "first_seen": _ts(seen_at)}
            )  # fmt: skip
        return digest

    def snapshot(self, digest: str) -> tuple[bytes, str]:
        """The raw bytes and content type of a stored snapshot."""
        row = self.db.table("snapshots").get(digest)
        return zlib.decompress(row["content"]), row["content_type"] or ""

    # versions ----------------------------------------------------------------
    def current_version(self, doc_id: str) -> Version | None:
        number = (self._document(doc_id) or {}).get("current_version")
        return self.version(doc_id, number) if number else None

    def version(self, doc_id: str, number: int) -> Version | None:
        rows = list(
            self.db.table("versions").rows_where("document = ? and number = ?", [doc_id, number])
        )
        return self._version(rows[0]) if rows else None

    def version_with_key(self, doc_id: str, key_sha: str) -> Version | None:
        """The latest version whose words (see ``diff.words_key``) hash to ``key_sha``."""
        rows = self.db.table("versions").rows_where(
            "document = ? and key_sha256 = ?", [doc_id, key_sha], order_by="number desc", limit=1
        )
        return next((self._version(r) for r in rows), None)

    def versions(self, doc_id: str) -> list[Version]:
        rows = self.db.table("versions").rows_where("document = ?", [doc_id], order_by="number")
        return [self._version(r, with_text=False) for r in rows]

    @staticmethod
    def _version(r: dict[str, Any], with_text: bool = True) -> Version:
        text = zlib.decompress(r["text"]).decode("utf-8") if with_text else ""
        return Version(
            document=r["document"], number=r["number"], text_sha256=r["text_sha256"],
            key_sha256=r["key_sha256"],
            snapshot_sha256=r["snapshot_sha256"], first_seen=_dt(r["first_seen"]),
            last_seen=_dt(r["last_seen"]), text=text,
            extractor=r.get("extractor") or FIRST_EXTRACTOR, upgrade=bool(r.get("upgrade")),
        )  # fmt: skip

    def add_version(
        self, doc_id: str, text: str, key_sha: str, snapshot_sha: str, seen_at: datetime,
        extractor: str, upgrade: bool = False,
    ) -> int:  # fmt: skip
        """Stores a new distinct text and makes it the document's current version."""
        last = self.db.execute(
            "select max(number) from versions where document = ?", [doc_id]
        ).fetchone()[0]
        number = (last or 0) + 1
        self.db.table("versions").insert(
            {"document": doc_id, "number": number, "text_sha256": sha256(text.encode()),
             "key_sha256": key_sha,
             "text": zlib.compress(text.encode("utf-8"), 6), "snapshot_sha256": snapshot_sha,
             "first_seen": _ts(seen_at), "last_seen": _ts(seen_at), "extractor": extractor,
             "upgrade": int(upgrade)}
        )  # fmt: skip
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
        row = {"document": doc_id, "at": _ts(at), "from_version": from_version,
               "to_version": to_version, "old_extractor": old, "new_extractor": new}  # fmt: skip
        self.db.table("upgrades").insert(row)

    def upgrades(self, doc_id: str) -> list[Upgrade]:
        rows = self.db.table("upgrades").rows_where("document = ?", [doc_id], order_by="id")
        return [
            Upgrade(id=r["id"], document=r["document"], at=_dt(r["at"]),
                    from_version=r["from_version"], to_version=r["to_version"],
                    old_extractor=r["old_extractor"], new_extractor=r["new_extractor"])
            for r in rows
        ]  # fmt: skip

    def set_current(self, doc_id: str, number: int, seen_at: datetime) -> None:
        """Marks a version as the document's text as of now (also after a revert)."""
        self.db.table("documents").update(doc_id, {"current_version": number})
        self.db.execute(
            "update versions set last_seen = ? where document = ? and number = ?",
            [_ts(seen_at), doc_id, number],
        )

    # changes -----------------------------------------------------------------
    def add_change(self, change: Change) -> Change:
        """Records a change; returns it with its id."""
        row = asdict(change)
        row.pop("id")
        row.update(
            detected_at=_ts(change.detected_at),
            flags=json.dumps([asdict(f) for f in change.flags]),
            ai_related=json.dumps([asdict(f) for f in change.ai_related]),
            ai_training=int(change.ai_training),
            added=json.dumps(change.added, ensure_ascii=False),
            removed=json.dumps(change.removed, ensure_ascii=False),
        )
        for key in ("company", "title", "url"):
            row.pop(key)
        change_id = self._insert("changes", row)
        return self.change(change_id)

    def change(self, change_id: int) -> Change:
        found = self._changes("c.id = ?", [change_id])
        if not found:
            raise KeyError(change_id)
        return found[0]

    def changes(
        self, document: str | None = None, ai_only: bool = False, limit: int | None = None
    ) -> list[Change]:
        """Changes oldest first (the newest ``limit`` of them when a limit is given)."""
        where, args = ["1 = 1"], []
        if document:
            where.append("c.document = ?")
            args.append(document)
        if ai_only:
            where.append("c.ai_training = 1")
        return self._changes(" and ".join(where), args, limit)

    def _changes(self, where: str, args: list[Any], limit: int | None = None) -> list[Change]:
        sql = (
            "select c.*, d.company, d.title, d.url from changes c "
            f"join documents d on d.id = c.document where {where} order by c.id desc"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        cursor = self.db.execute(sql, args)
        names = [col[0] for col in cursor.description]
        return [self._change(dict(zip(names, r, strict=True))) for r in reversed(cursor.fetchall())]

    @staticmethod
    def _change(r: dict[str, Any]) -> Change:
        return Change(
            id=r["id"], document=r["document"], company=r["company"], title=r["title"],
            url=r["url"], detected_at=_dt(r["detected_at"]), kind=r["kind"],
            from_version=r["from_version"], to_version=r["to_version"],
            added_chars=r["added_chars"], removed_chars=r["removed_chars"],
            diff_text=r["diff_text"] or "",
            flags=tuple(Flag(**f) for f in json.loads(r["flags"] or "[]")),
            ai_related=tuple(Flag(**f) for f in json.loads(r["ai_related"] or "[]")),
            added=tuple(json.loads(r["added"] or "[]")),
            removed=tuple(json.loads(r["removed"] or "[]")),
            note=r.get("note") or "", classifier=r.get("classifier") or "",
        )  # fmt: skip

    # status ------------------------------------------------------------------
    def document_ids(self) -> list[str]:
        return [d.id for d in self.documents()]

    def documents(self) -> list[Watch]:
        """Every known document (its names and URL as last synced), in the order added."""
        rows = self.db.table("documents").rows_where(order_by="rowid")
        return [Watch(r["id"], r["company"], r["title"], r["url"]) for r in rows]

    def status(self, doc_id: str) -> DocumentStatus:
        doc = self._document(doc_id)
        if doc is None:
            raise KeyError(doc_id)
        fetches = self.fetches(doc_id, limit=1)
        health = self._latest_health(doc_id)
        count = self.db.table("versions").count_where("document = ?", [doc_id])
        last = self.db.execute(
            "select max(detected_at) from changes where document = ?", [doc_id]
        ).fetchone()[0]
        return DocumentStatus(
            document=doc_id, company=doc["company"], title=doc["title"], url=doc["url"],
            last_fetch=fetches[0] if fetches else None, versions=count,
            current_version=doc["current_version"], last_change=_dt(last) if last else None,
            consecutive_failures=doc["consecutive_failures"] or 0,
            suspect=doc["suspect_reason"] or "",
            failing_since=_dt(health["at"]) if health and health["kind"] == "failing" else None,
        )  # fmt: skip


# Opening the database ----------------------------------------------------------------
# Everything below decides whether a data directory's database may be used at all, and
# words SQLite's failures for operators. It runs before any document is read or written.


def open_database(data_dir: Path, *, read_only: bool) -> sqlite_utils.Database:
    """The database of ``data_dir``, its schema checked; upgraded unless ``read_only``."""
    path = data_dir / DB_NAME
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"data directory {data_dir} is a file: point --data at a directory")
    with database_errors(path):
        db = _connect_read_only(path) if read_only else _connect(data_dir, path)
        try:
            pending = check_schema(db, path)
            if pending and read_only:
                raise ConfigError(
                    f"{path} was made by an older policy-monitor: "
                    "run `policy-monitor check` to upgrade the database"
                )
            if not read_only:
                db.enable_wal()  # only now: a foreign database is never switched to WAL
                db.execute("PRAGMA synchronous = NORMAL")
                migrations.apply(db)
        except BaseException:
            db.close()
            raise
    return db


def _connect(data_dir: Path, path: Path) -> sqlite_utils.Database:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create data directory {data_dir} ({exc.strerror}): "
            "create it, or point --data elsewhere"
        ) from None
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    return db


def _connect_read_only(path: Path) -> sqlite_utils.Database:
    """Opens without writing anything, even where the directory is read-only."""
    if not path.exists():
        raise ConfigError(f"no database in {str(path.parent)!r}: run `policy-monitor check` first")
    # Best first: a read-write connection refusing writes (query_only) still tidies the
    # WAL's -wal and -shm files when it closes; "mode=ro" cannot, so it leaves them
    # behind in a writable directory. A WAL database needs its -shm file: where this user
    # cannot create one, "immutable" reads the file as it is, creating nothing.
    for query in ("mode=rw", "mode=ro", "immutable=1"):
        try:
            return _ro(path, query)
        except sqlite3.OperationalError as exc:
            if query == "immutable=1" or not exc.sqlite_errorname.startswith(
                ("SQLITE_READONLY", "SQLITE_CANTOPEN")
            ):
                raise
    raise AssertionError("unreachable")


def _ro(path: Path, query: str) -> sqlite_utils.Database:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)
    try:
        conn.execute("PRAGMA query_only = 1")  # a reading command never writes, by mistake either
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("select count(*) from sqlite_master").fetchone()  # opens the file now
    except BaseException:
        conn.close()
        raise
    return sqlite_utils.Database(conn)


@cache
def known_migrations() -> tuple[str, ...]:
    """The schema steps this release knows, oldest first."""
    return tuple(m.name for m in migrations.pending(sqlite_utils.Database(memory=True)))


def check_schema(db: sqlite_utils.Database, path: Path) -> list[str]:
    """The schema steps still to apply; ConfigError for a foreign or newer database."""
    tables = set(db.table_names())
    applied = (
        [m.name for m in migrations.applied(db)] if Migrations.migrations_table in tables else []
    )
    if tables - {Migrations.migrations_table} and not applied:
        shown = ", ".join(sorted(tables)[:5])
        raise ConfigError(
            f"{path} is not a policy-monitor database (it holds tables {shown}): "
            "point --data at a directory of its own, or move that file away"
        )
    unknown = [name for name in applied if name not in known_migrations()]
    if unknown:
        raise ConfigError(
            f"{path} was written by a newer policy-monitor (schema step {unknown[0]} is "
            "unknown to this one): upgrade policy-monitor, or point --data elsewhere"
        )
    return [name for name in known_migrations() if name not in applied]


@contextmanager
def opened(data_dir: str | Path, *, read_only: bool = False) -> Iterator[Store]:
    """The store, closed after the block; SQLite failures inside become one-line errors."""
    store = Store(data_dir, read_only=read_only)
    try:
        with database_errors(store.path):
            yield store
    finally:
        store.close()


@contextmanager
def database_errors(path: Path) -> Iterator[None]:
    """Turns SQLite's exceptions raised inside into one-line MonitorErrors naming ``path``."""
    try:
        yield
    except sqlite3.Error as exc:
        raise database_error(exc, path) from exc


def database_error(exc: sqlite3.Error, path: Path) -> MonitorError:
    """What an SQLite failure means for the operator; ConfigError when only they can fix it."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL":
        return MonitorError(
            f"{path}: disk full ({exc}); the check in progress was rolled back, nothing "
            "recorded before it is lost: free space and run it again"
        )
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
        return ConfigError(
            f"{path} is damaged ({exc}): restore it from a backup, or move it away "
            "and `policy-monitor check` starts a new one"
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return ConfigError(
            f"cannot write {path} ({exc}): make the data directory writable by this user, "
            "or point --data elsewhere"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return LockedError(f"{path} is busy ({exc}): another process holds it; try again later")
    return MonitorError(
        f"{path}: database error ({exc}); the check in progress was rolled back: "
        "check the disk (full? quota? failing?) and run it again"
    )
