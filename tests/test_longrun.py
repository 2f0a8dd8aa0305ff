"""A long daemon run on a compressed clock: pages change, fail and recover for hundreds of
checks; memory stays flat, every version is recorded once, no alert is repeated.
"""

from __future__ import annotations

import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer, Reply
from tests.test_daemon import wait_for

DOCS = 4
MIN_CHECKS = 200
MAX_SECONDS = 300  # the bound to reach MIN_CHECKS (a quiet machine: ~40 s; load 15: more)
SETTLE_SECONDS = 120  # the bound for the last texts served to be recorded before the stop
CHANGE_EVERY = 2.5  # seconds between two texts of a page
FAIL_WINDOW = (5.0, 6.5)  # seconds of every 9 during which documents 0 and 1 answer 503


class ChangingPages:
    """Serves each document's text of the moment and remembers every text it served."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.served: dict[str, set[int]] = {f"doc-{i}": set() for i in range(DOCS)}
        self.failures = 0
        self.lock = threading.Lock()
        self.frozen: float | None = None  # from then on: the same text, no failure

    def freeze(self) -> None:
        self.frozen = time.monotonic() - self.start

    def reply(self, doc: str, index: int) -> Reply:
        elapsed = self.frozen or time.monotonic() - self.start
        if self.frozen is None and index < 2 and FAIL_WINDOW[0] <= elapsed % 9 < FAIL_WINDOW[1]:
            with self.lock:
                self.failures += 1
            return Reply(status=503, body=b"maintenance")
        version = int(elapsed / (CHANGE_EVERY + index * 0.7))
        with self.lock:
            self.served[doc].add(version)
        extra = f"<li>Retention clause number {version} applies to {doc}.</li>"
        return Reply(body=policy(title=doc, extra=extra, token=str(time.time_ns())))

    def handler(self, doc: str, index: int) -> object:
        return lambda _request: self.reply(doc, index)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fetches(data: Path) -> int:
    try:
        return int(
            sqlite3.connect(data / "monitor.db")
            .execute("select count(*) from fetches")
            .fetchone()[0]
        )
    except sqlite3.Error:
        return 0


def recorded(data: Path) -> dict[str, int]:
    """Each document's versions in the store."""
    try:
        db = sqlite3.connect(data / "monitor.db")
        try:
            return dict(db.execute("select document, count(*) from versions group by document"))
        finally:
            db.close()
    except sqlite3.Error:
        return {}


def settled(pages: ChangingPages, data: Path) -> bool:
    """Every text served so far is recorded (the pages no longer change: frozen)."""
    return recorded(data) == {doc: len(served) for doc, served in pages.served.items()}


def test_daemon_runs_hundreds_of_checks_flat_and_exact(tmp_path: Path) -> None:
    pages = ChangingPages()
    samples: list[int] = []
    with LocalServer() as server:
        for i in range(DOCS):
            server.handle(f"/doc-{i}", pages.handler(f"doc-{i}", i))  # type: ignore[arg-type]
        docs = {f"doc-{i}": server.url(f"/doc-{i}") for i in range(DOCS)}
        watchlist = write_watchlist(tmp_path / "w.yaml", docs)
        text = watchlist.read_text().replace("    url:", "    interval: 1m\n    url:")
        watchlist.write_text(text)
        data = tmp_path / "data"
        log_file = (tmp_path / "daemon.log").open(
            "w"
        )  # a pipe nobody reads would fill and stall it
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "daemon", "--watchlist", str(watchlist),
             "--data", str(data), "--speed", "600", "--retries", "0", "--timeout", "20",
             "--alert-after", "3"],
            stderr=log_file, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + MAX_SECONDS
            while time.monotonic() < deadline and proc.poll() is None:
                samples.append(rss_kb(proc.pid))
                if len(samples) % 10 == 0 and fetches(data) >= MIN_CHECKS:
                    break
                time.sleep(0.5)
            # The pages stop changing; once the last texts served are recorded, the stop.
            # (A text served as SIGTERM comes would be a fetch abandoned, not a loss.)
            pages.freeze()
            settled_in_time = wait_for(lambda: settled(pages, data), SETTLE_SECONDS)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            proc.kill()
            log_file.close()
    log = (tmp_path / "daemon.log").read_text()
    assert proc.returncode == 0, log[-2000:]
    assert settled_in_time, (recorded(data), {d: len(s) for d, s in pages.served.items()})
    assert "Traceback" not in log
    db = sqlite3.connect(data / "monitor.db")
    checks = db.execute("select count(*) from fetches").fetchone()[0]
    assert checks >= MIN_CHECKS, f"only {checks} checks"
    for doc, served in pages.served.items():
        versions = db.execute("select count(*), count(distinct key_sha256) from versions"
                              " where document = ?", [doc]).fetchone()  # fmt: skip
        assert versions == (len(served), len(served)), doc  # each text served, recorded once
        changes = db.execute("select count(*), count(distinct to_version) from changes"
                             " where document = ?", [doc]).fetchone()  # fmt: skip
        assert changes == (len(served) - 1, len(served) - 1), doc
    events = db.execute("select document, kind from health_events order by id").fetchall()
    for doc in ("doc-0", "doc-1"):
        kinds = [k for d, k in events if d == doc]
        assert kinds and all(k == ("failing", "recovered")[i % 2] for i, k in enumerate(kinds))
    steady = samples[len(samples) // 4 :]
    assert (
        max(steady[-len(steady) // 3 :])
        < statistics.median(steady[: len(steady) // 3]) * 1.2 + 4096
    )
    print(f"\nchecks={checks} failures served={pages.failures} "
          f"versions={sum(len(s) for s in pages.served.values())} "
          f"rss_kb first={steady[0]} peak={max(samples)} last={samples[-1]}")  # fmt: skip
