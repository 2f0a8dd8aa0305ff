"""kill -9 at any point of a sweep: the database stays consistent and loses nothing recorded.

A real `check` subprocess is killed again and again at varying moments while the pages it
checks keep changing; after every kill the database must pass SQLite's integrity check and
our own invariants, everything recorded before the kill must still be there, and the next
run must finish the work.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer

DOCS = [f"doc-{i}" for i in range(6)]
TRIALS = 12


def invariants(db_path: Path) -> dict[str, int]:
    """Checks the database; returns row counts per table."""
    db = sqlite3.connect(db_path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    orphans = {
        "change without its new version": "select count(*) from changes c where not exists"
        " (select 1 from versions v where v.document = c.document and v.number = c.to_version)",
        "version without its snapshot": "select count(*) from versions v where not exists"
        " (select 1 from snapshots s where s.sha256 = v.snapshot_sha256)",
        "fetch without its snapshot": "select count(*) from fetches f where f.snapshot_sha256"
        " is not null and not exists"
        " (select 1 from snapshots s where s.sha256 = f.snapshot_sha256)",
        "current version missing": "select count(*) from documents d where d.current_version"
        " is not null and not exists (select 1 from versions v where v.document = d.id"
        " and v.number = d.current_version)",
        "version without a change": "select count(*) from versions v where v.number > 1 and not"
        " exists (select 1 from changes c where c.document = v.document"
        " and c.to_version = v.number)",
    }
    for name, sql in orphans.items():
        assert db.execute(sql).fetchone()[0] == 0, name
    tables = ("snapshots", "fetches", "versions", "changes")
    return {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def fetch_count(db_path: Path) -> int:
    try:
        return int(sqlite3.connect(db_path).execute("select count(*) from fetches").fetchone()[0])
    except sqlite3.Error:
        return 0


def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def documents_on_round(db_path: Path, round_: int) -> int:
    db = sqlite3.connect(db_path)
    rows = db.execute(
        "select v.text from version_texts v join documents d on d.id = v.document"
        " and v.number = d.current_version"
    ).fetchall()
    return sum(f"in round {round_} " in text for (text,) in rows)


def test_kill_9_mid_sweep_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    partial = 0  # kills that landed between two documents' checks
    with LocalServer() as server:
        for round_ in range(TRIALS + 1):
            for i, doc in enumerate(DOCS):
                extra = f"<li>Clause added in round {round_} for {doc}.</li>"
                # Later documents answer later and later (one host: fetched one by one), so
                # their checks stay spread out even when the first one is slow to record
                # (the classifier's rules load then) and a kill lands between two of them.
                server.route(f"/{doc}", body=policy(title=doc, extra=extra), delay=0.2 * (i + 1))
            if round_ == 0:
                watchlist = write_watchlist(
                    tmp_path / "w.yaml", {d: server.url(f"/{d}") for d in DOCS}
                )
                cmd = [sys.executable, "-m", "monitor", "check", "--watchlist", str(watchlist),
                       "--data", str(tmp_path / "data"), "--delay", "0", "--quiet"]  # fmt: skip
            before = invariants(tmp_path / "data" / "monitor.db") if round_ else None
            done_before = fetch_count(tmp_path / "data" / "monitor.db")
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # kill once this sweep has recorded something, at a random moment after that
            db = tmp_path / "data" / "monitor.db"
            wait_until(lambda n=done_before, db=db: fetch_count(db) > n, 15)  # type: ignore[misc]
            time.sleep(rng.uniform(0.0, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if not (tmp_path / "data" / "monitor.db").exists():
                continue
            after = invariants(tmp_path / "data" / "monitor.db")
            partial += 0 < documents_on_round(tmp_path / "data" / "monitor.db", round_) < len(DOCS)
            if before:
                assert all(after[t] >= before[t] for t in after), (before, after)
        final = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert final.returncode == 0, final.stderr
    assert partial >= 3, "the kills did not land mid-sweep; the test proves nothing"
    counts = invariants(tmp_path / "data" / "monitor.db")
    db = sqlite3.connect(tmp_path / "data" / "monitor.db")
    # every document ends on the last round's text, recorded once
    for doc in DOCS:
        (text,) = db.execute(
            "select v.text from version_texts v join documents d on d.id = v.document"
            " and v.number = d.current_version where d.id = ?", [doc]
        ).fetchone()  # fmt: skip
        assert f"round {TRIALS} for {doc}" in text
        dupes = db.execute(
            "select count(*) - count(distinct key_sha256) from versions where document = ?", [doc]
        ).fetchone()[0]
        assert dupes == 0
    assert counts["changes"] == counts["versions"] - len(DOCS)
