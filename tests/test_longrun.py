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

DOCS = 4
MIN_CHECKS = 200
MAX_SECONDS = 120  # a slow machine gets longer to reach MIN_CHECKS
CHANGE_EVERY = 2.5  # seconds between two texts of a page
FAIL_WINDOW = (5.0, 6.5)  # seconds of every 9 during which documents 0 and 1 answer 503


class ChangingPages:
    """Serves each document's text of the moment and remembers every text it served."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.served: dict[str, set[int]] = {f"doc-{i}": set() for i in range(DOCS)}
        self.failures = 0
        self.lock = threading.Lock()

    def reply(self, doc: str, index: int) -> Reply:
        elapsed = time.monotonic() - self.start
        if index < 2 and FAIL_WINDOW[0] <= elapsed % 9 < FAIL_WINDOW[1]:
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
             "--data", str(data), "--speed", "600", "--retries", "0", "--timeout", "2",
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
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            proc.kill()
            log_file.close()
    log = (tmp_path / "daemon.log").read_text()
    assert proc.returncode == 0, log[-2000:]
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
