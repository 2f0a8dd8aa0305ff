"""The schema's steps, registered as sqlite-utils migrations are, without sqlite-utils.

``@migrations()`` over a function records it as sqlite-utils' ``Migrations`` does; which
steps a database has applied is read with one plain query of sqlite-utils' own table
(``_sqlite_migrations``), and sqlite-utils is imported only to apply steps that are
missing (a new or older database). A store that is up to date never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.store.connection import Database

if TYPE_CHECKING:
    import sqlite_utils

Step = TypeVar("Step", bound=Callable[..., None])
TABLE = "_sqlite_migrations"  # sqlite-utils' Migrations.migrations_table


class Migrations:
    """An ordered set of schema steps, applied by sqlite-utils' ``Migrations``."""

    migrations_table = TABLE

    def __init__(self, name: str) -> None:
        self.name = name
        self._steps: list[tuple[str, Callable[..., None], bool]] = []

    def __call__(
        self, *, name: str | None = None, transactional: bool = True
    ) -> Callable[[Step], Step]:
        def inner(func: Step) -> Step:
            step = name or func.__name__
            if step in self.names():
                raise ValueError(f"Migration '{step}' is already registered in set '{self.name}'")
            self._steps.append((step, func, transactional))
            return func

        return inner

    def names(self) -> tuple[str, ...]:
        """Every step's name, oldest first."""
        return tuple(name for name, _, _ in self._steps)

    def applied(self, db: Database) -> list[str]:
        """The names of the steps ``db`` has applied, in the order applied."""
        if TABLE not in db.table_names():
            return []
        sql = f"select name from [{TABLE}] where migration_set = ? order by rowid"
        return [str(row[0]) for row in db.execute(sql, [self.name])]

    def apply(
        self,
        db: Database | sqlite_utils.Database,
        *,
        stop_before: str | Iterable[str] | None = None,
    ) -> None:
        """Applies the missing steps with sqlite-utils (each in its own transaction)."""
        from sqlite_utils.migrations import Migrations as Applier

        applier = Applier(self.name)
        for name, func, transactional in self._steps:
            applier(name=name, transactional=transactional)(_as_step(func))
        applier.apply(db.utils if isinstance(db, Database) else db, stop_before=stop_before)


def _as_step(func: Callable[..., None]) -> Any:
    return func
