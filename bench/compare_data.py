"""Compares two data directories: every row of every table and every file of the site and
feeds (issue 14: an import must store exactly what step-by-step checking stores, whatever
made it faster). Today's times (the documents' ``added_at``, the feeds' build dates) and
the folder's own path are masked; the migrations table is left out.

A diff has a wall-clock budget (monitor/diff.py), so on a busy machine two imports of the
same history can differ in one coarser diff. To compare code, not load, import in both
worktrees through bench/monitor_unbounded.py (the same CLI with a budget no load reaches).

A change's ``body`` (its diff and passages, one zstd frame: monitor/store/change_body.py)
is compared by what it holds, decoded, not by its bytes: the frame's compression level is
the store's choice (import5 packs bodies over 256 KB at level 12, not 19). Run with the
project's python (it reads the bodies with monitor.store).

Run: .venv/bin/python bench/compare_data.py DATA_A DATA_B   (exit 1 when they differ)
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
from pathlib import Path

SKIP_SUFFIXES = (".db", ".lock", ".stamp", ".db-wal", ".db-shm")


def masked(data: bytes, folder: Path, today: bytes) -> bytes:
    """``data`` without the folder's path and today's times."""
    for path in {str(folder), str(folder.resolve())}:
        data = data.replace(path.encode(), b"DATA")
    data = re.sub(today + rb"[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", b"NOW", data)
    rfc = rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w\w\w \d{4} \d\d:\d\d:\d\d [+]0000"
    return re.sub(rfc, b"NOW", data)


def rows(folder: Path, today: bytes) -> dict[str, list[bytes]]:
    db = sqlite3.connect(folder / "monitor.db")
    tables = [name for (name,) in db.execute(
        "select name from sqlite_master where type = 'table' and name not like '%fts%'"
        " and name not like 'sqlite_%' and name != '_sqlite_migrations'")]  # fmt: skip
    return {t: sorted(masked(repr(r).encode(), folder, today)
                      for r in (db.execute(f"select * from [{t}]") if t != "changes"
                                else decoded_changes(folder)))
            for t in tables}  # fmt: skip


def decoded_changes(folder: Path) -> list[tuple[object, ...]]:
    """The rows of ``changes``, each body replaced by the diff and passages it holds."""
    from monitor.store import change_body
    from monitor.store.db import Store

    store = Store(folder, read_only=True)
    cursor = store.db.execute("select * from changes")
    names = [c[0] for c in cursor.description]
    out = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        if row["body"] is not None:
            row["body"] = repr(change_body.unpack(store.db, row))
        out.append(tuple(row.values()))
    store.close()
    return out


def files(folder: Path, today: bytes) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(masked(p.read_bytes(), folder, today))
            .hexdigest() for p in folder.rglob("*")
            if p.is_file() and p.suffix not in SKIP_SUFFIXES}  # fmt: skip


def main() -> int:
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    from datetime import UTC, datetime

    today = datetime.now(UTC).strftime("%Y-%m-%d").encode()
    ra, rb = rows(a, today), rows(b, today)
    bad = 0
    for table in sorted(set(ra) | set(rb)):
        x, y = ra.get(table, []), rb.get(table, [])
        if x != y:
            bad += 1
            only_a, only_b = set(x) - set(y), set(y) - set(x)
            print(f"table {table}: {len(x)} vs {len(y)} rows, {len(only_a)} only in A, "
                  f"{len(only_b)} only in B")  # fmt: skip
            for row in sorted(only_a)[:2] + sorted(only_b)[:2]:
                print("   ", row[:300])
    fa, fb = files(a, today), files(b, today)
    differ = [k for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
    for name in differ[:20]:
        print("  file differs:", name)
    print(f"{len(ra)} tables, {sum(map(len, ra.values()))} rows, {bad} tables differ; "
          f"{len(fa)} vs {len(fb)} files, {len(differ)} differ")  # fmt: skip
    return 1 if bad or differ else 0


if __name__ == "__main__":
    sys.exit(main())
