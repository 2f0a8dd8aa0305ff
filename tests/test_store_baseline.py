"""A new database is made from one SQL script (monitor/store/baseline.py): the same schema,
entry for entry, as running every migration, recorded as migrated; a step newer than the
script is still applied; sqlite-utils is not imported to make it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from monitor.store import Store, baseline
from monitor.store.connection import Database
from monitor.store.migrate import Migrations
from monitor.store.schema import DB_NAME, migrations

Schema = tuple[list[tuple[str, str, str, str | None]], list[tuple[int, str, str]], int]


def schema(path: Path) -> Schema:
    """sqlite_master in order, the recorded steps in order, user_version."""
    conn = sqlite3.connect(path)
    try:
        steps = conn.execute("select id, migration_set, name from _sqlite_migrations order by id")
        user_version = conn.execute("pragma user_version").fetchone()[0]
        return baseline.schema_of(conn), [tuple(row) for row in steps], user_version
    finally:
        conn.close()


def migrated(path: Path, steps: Migrations = migrations) -> Path:
    """A database made the old way: every step applied by sqlite-utils."""
    conn = sqlite3.connect(path)
    steps.apply(sqlite_utils.Database(conn, execute_plugins=False))
    conn.close()
    return path


def first_steps(count: int) -> Migrations:
    """The release's first ``count`` steps, as if the later ones did not exist yet."""
    older = Migrations(migrations.name)
    for name, func, transactional in migrations._steps[:count]:
        older(name=name, transactional=transactional)(func)
    return older


def test_a_new_store_has_exactly_the_schema_the_migrations_make(tmp_path: Path) -> None:
    expected = schema(migrated(tmp_path / "old.db"))
    Store(tmp_path / "data").close()
    made = schema(tmp_path / "data" / DB_NAME)
    assert made == expected
    assert [name for _, _, name in made[1]] == list(migrations.names())
    assert len(made[0]) > 30  # tables, indexes, FTS5 and its shadow tables, triggers, views


def test_the_script_is_up_to_date_with_the_newest_migration() -> None:
    """Fails when a schema step was added (or changed) without the script: regenerate it
    with `python -m monitor.store.baseline` (a new store still gets the newest schema
    meanwhile, the test below shows how, only slower)."""
    script = baseline.read_script()
    assert baseline.covered(script, migrations) == list(migrations.names()), (
        "monitor/store/baseline.sql is behind schema.py: run python -m monitor.store.baseline"
    )
    assert script == baseline.generate(migrations), "run python -m monitor.store.baseline"


def test_steps_newer_than_the_script_are_applied_by_the_migrations(tmp_path: Path) -> None:
    older = baseline.generate(first_steps(10))  # a script made before m011 and m012
    assert baseline.covered(older, migrations) == list(migrations.names()[:10])
    db = Database(sqlite3.connect(tmp_path / "new.db"))
    pending = baseline.create(db, migrations, older)
    assert pending == list(migrations.names()[10:])
    migrations.apply(db)
    db.close()
    assert schema(tmp_path / "new.db") == schema(migrated(tmp_path / "old.db"))


def test_a_database_someone_else_made_meanwhile_is_left_to_the_migrations(tmp_path: Path) -> None:
    path = migrated(tmp_path / "made.db", first_steps(11))
    before = schema(path)
    db = Database(sqlite3.connect(path))
    assert baseline.create(db, migrations) == list(migrations.names()[11:])
    db.close()
    assert schema(path) == before


def test_a_script_naming_an_unknown_step_is_refused() -> None:
    for first in ("-- through m999_future\n", "CREATE TABLE x (a);\n"):
        try:
            baseline.covered(first, migrations)
        except ValueError as exc:
            assert "baseline.sql" in str(exc)
        else:
            raise AssertionError(first)


def test_a_script_whose_statement_fails_leaves_no_table(tmp_path: Path) -> None:
    broken = "-- through m001_initial\ncreate table a (x);\ncreate table a (y);\n"
    db = Database(sqlite3.connect(tmp_path / "new.db"))
    try:
        baseline.create(db, migrations, broken)
    except sqlite3.OperationalError as exc:
        assert "already exists" in str(exc)
    else:
        raise AssertionError("no error")
    assert db.table_names() == [] and not db.conn.in_transaction
    db.close()


def test_making_a_store_imports_no_sqlite_utils(tmp_path: Path) -> None:
    code = (
        "import json, sys; from monitor.store import Store; Store(sys.argv[1]).close(); "
        "print(json.dumps('sqlite_utils' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "data")],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert json.loads(out.stdout) is False
    assert (tmp_path / "data" / DB_NAME).exists()
