"""Whether a data directory's database may be used at all, and SQLite's failures in words.

It runs before any document is read or written: a foreign, newer, damaged or read-only
database gets one line naming the file and what to do, and is left as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.errors import ConfigError, LockedError, MonitorError, data_dir_problem
from monitor.store.connection import Database
from monitor.store.schema import DB_NAME, migrations


def open_database(data_dir: Path, *, read_only: bool) -> Database:
    """The database of ``data_dir``, its schema checked; upgraded unless ``read_only``.

    A plain connection (monitor/store/connection.py). A new database is made from one
    script (monitor/store/baseline.py); sqlite-utils is imported only when an older one
    misses a schema step, and then without its plugins (they run no code of ours, and
    finding them scans every installed package's entry points)."""
    path = data_dir / DB_NAME
    if data_dir.exists() and not data_dir.is_dir():
        raise data_dir_problem(data_dir)
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
                if pending and not db.table_names():  # a new database: made in one step
                    from monitor.store import baseline

                    pending = baseline.create(db, migrations)
                if pending:
                    migrations.apply(db)
        except BaseException:
            db.close()
            raise
    return db


def _connect(data_dir: Path, path: Path) -> Database:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise data_dir_problem(data_dir, exc) from None
    db = Database(sqlite3.connect(str(path)))
    db.execute("PRAGMA busy_timeout = 10000")
    return db


def _connect_read_only(path: Path) -> Database:
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


def _ro(path: Path, query: str) -> Database:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)
    try:
        conn.execute("PRAGMA query_only = 1")  # a reading command never writes, by mistake either
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("select count(*) from sqlite_master").fetchone()  # opens the file now
    except BaseException:
        conn.close()
        raise
    try:
        return Database(conn)
    except BaseException:
        conn.close()
        raise


def known_migrations() -> tuple[str, ...]:
    """The schema steps this release knows, oldest first."""
    return migrations.names()


def check_schema(db: Database, path: Path) -> list[str]:
    """The schema steps still to apply; ConfigError for a foreign or newer database."""
    tables = set(db.table_names())
    applied = migrations.applied(db) if migrations.migrations_table in tables else []
    if tables - {migrations.migrations_table} and not applied:
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
