"""The store's connection: plain ``sqlite3`` with sqlite-utils' transaction rules.

Importing sqlite-utils costs 0.05-0.08 s (it brings dateutil, pluggy and a large module
of its own), more than a whole unchanged check's SQL. The store's hot paths use plain
statements anyway, so a connection is this thin class: ``execute`` and ``atomic`` behave
exactly as sqlite-utils 4's (a write outside a transaction commits at once; nested
blocks are savepoints), and sqlite-utils itself is imported only for what still uses
its table helpers (``table``, ``db[name]``: the schema's migrations, rarer commands).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import sqlite_utils

# sqlite-utils' _TRANSACTION_CONTROL_KEYWORDS: statements execute() never commits after.
_CONTROL = {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}
_KEYWORD = re.compile(r"[\s;\ufeff]*([A-Za-z_]*)")


class Connection(Protocol):
    """What the store's helper modules need of a database: this module's
    :class:`Database`, or sqlite-utils' own (the migrations hand them that one)."""

    conn: sqlite3.Connection

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor: ...

    def atomic(self) -> AbstractContextManager[Any]: ...


class Database:
    """One SQLite connection, with sqlite-utils' ``execute`` and ``atomic``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._utils: sqlite_utils.Database | None = None
        conn.execute("PRAGMA recursive_triggers=on;")  # as sqlite-utils sets it

    def close(self) -> None:
        self.conn.close()

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        """Runs one statement; a write that opened a transaction is committed at once."""
        was_in_transaction = self.conn.in_transaction
        try:
            if parameters is not None:
                cursor = self.conn.execute(sql, parameters)
            else:
                cursor = self.conn.execute(sql)
        except Exception:
            if not was_in_transaction and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        if (
            not was_in_transaction
            and self.conn.in_transaction
            and cursor.description is None
            and _first_keyword(sql) not in _CONTROL
        ):
            self.conn.execute("COMMIT")
        return cursor

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        """A transaction; inside one, a savepoint (rolled back alone on an error)."""
        if self.conn.in_transaction:
            savepoint = f"sqlite_utils_{os.urandom(16).hex()}"
            self.conn.execute(f"SAVEPOINT {savepoint};")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:  # an error may have ended the transaction
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint};")
                    self.conn.execute(f"RELEASE SAVEPOINT {savepoint};")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {savepoint};")
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def enable_wal(self) -> None:
        """Write-ahead logging (outside any transaction, as sqlite-utils does it)."""
        if self.execute("PRAGMA journal_mode;").fetchone()[0] == "wal":
            return
        level = self.conn.isolation_level
        self.conn.isolation_level = None
        try:
            self.execute("PRAGMA journal_mode=wal;")
        finally:
            self.conn.isolation_level = level

    def table_names(self) -> list[str]:
        sql = "select name from sqlite_master where type = 'table'"
        return [str(row[0]) for row in self.execute(sql)]

    def rows(self, sql: str, parameters: Any = None) -> list[dict[str, Any]]:
        """Every row of a query, as column name -> value."""
        cursor = self.execute(sql, parameters)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Inserts one row (plain values); its rowid."""
        columns = ", ".join(f"[{name}]" for name in row)
        marks = ", ".join("?" for _ in row)
        sql = f"insert into [{table}] ({columns}) values ({marks})"
        cursor = self.execute(sql, list(row.values()))
        return int(cursor.lastrowid or 0)

    # sqlite-utils, on the same connection, for what still uses its table helpers
    @property
    def utils(self) -> sqlite_utils.Database:
        if self._utils is None:
            import sqlite_utils

            self._utils = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._utils

    def table(self, name: str) -> sqlite_utils.db.Table:
        return self.utils.table(name)

    def __getitem__(self, name: str) -> sqlite_utils.db.Table:
        return self.utils.table(name)


def _first_keyword(sql: str) -> str:
    found = _KEYWORD.match(sql)
    return found.group(1).upper() if found else ""
