"""The daemon as operators run it: a real subprocess, a local server, SIGTERM; and the lock."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.lock import data_lock
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer, Reply, Request


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def versions(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return int(sqlite3.connect(db).execute("select count(*) from versions").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_daemon_checks_at_start_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with LocalServer() as server:
        server.route("/p", body=policy())
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        data = tmp_path / "data"
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "daemon", "--watchlist", str(watchlist),
             "--data", str(data)],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert wait_for(lambda: versions(data / "monitor.db") == 1, 60)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 0, err
    assert "document=doc status=first" in err and "event=stop" in err
    assert "Traceback" not in err


def test_check_waits_for_the_lock_then_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": "http://127.0.0.1:9/p"})
    with data_lock(tmp_path / "data", wait=1):
        result = run_cli(
            capsys, "check", "--watchlist", str(watchlist), "--data", str(tmp_path / "data"),
            "--wait", "0.2",
        )  # fmt: skip
    assert result.code == 1
    assert "locked by another check or the daemon" in result.err


def start_daemon(watchlist: Path, data: Path, log: Path, *options: str) -> subprocess.Popen[str]:
    # The log goes to a file: a pipe nobody reads would fill up and stall the daemon.
    with log.open("w") as sink:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "daemon", "--watchlist", str(watchlist),
             "--data", str(data), *options],
            stderr=sink, text=True,
        )  # fmt: skip


def test_a_second_daemon_refuses_naming_the_first_while_cron_checks_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalServer() as server:
        server.route("/p", body=policy())
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        data = tmp_path / "data"
        first = start_daemon(watchlist, data, tmp_path / "first.log")  # 6 h interval
        try:
            assert wait_for(lambda: versions(data / "monitor.db") == 1, 60)
            hits = server.hits("/p")
            second = subprocess.run(
                [sys.executable, "-m", "monitor", "daemon", "--watchlist", str(watchlist),
                 "--data", str(data)],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            # cron's check meanwhile: the daemon holds the data lock only while it writes
            cron = run_cli(capsys, "check", "--watchlist", str(watchlist), "--data", str(data),
                           "--wait", "5", "--delay", "0")  # fmt: skip
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=60)
        assert server.hits("/p") == hits + 1  # the cron check's; none from the second daemon
    assert (second.returncode, second.stdout) == (1, "")
    (line,) = second.stderr.splitlines()
    started = datetime.fromisoformat(
        line.split("started ")[1].split(")")[0]
    )  # the record beside the lock
    assert line.startswith(f"error: another daemon already runs on {data} (pid {first.pid} on ")
    assert f" on {socket.gethostname()}, " in line and "stop it first" in line
    assert abs((datetime.now(UTC) - started).total_seconds()) < 120
    assert (cron.code, cron.out) == (0, "doc: unchanged (v1)\n"), cron
    assert first.returncode == 0 and not (data / "daemon.json").exists()


def test_a_daemon_on_a_foreign_database_stops_at_once_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    sqlite3.connect(data / "monitor.db").execute("create table accounts(id)").connection.close()
    watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": "http://127.0.0.1:9/p"})
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "daemon", "--watchlist", str(watchlist),
         "--data", str(data)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    (line,) = [x for x in done.stderr.splitlines() if "level=INFO" not in x]
    assert line.startswith(f"error: {data / 'monitor.db'} is not a policy-monitor database")


class SilentServer:
    """Accepts connections on 127.0.0.2 (another host than LocalServer's) and never answers:
    the kernel completes the handshake from the listen backlog; nobody ever reads."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.2", 0), backlog=32)

    def url(self, path: str) -> str:
        return f"http://127.0.0.2:{self.socket.getsockname()[1]}{path}"

    def close(self) -> None:
        self.socket.close()


class Timed:
    """Serves a page slowly, remembering when each request to it began and ended."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spans: list[tuple[float, float]] = []

    def __call__(self, _request: Request) -> Reply:
        began = time.monotonic()
        time.sleep(self.seconds)
        self.spans.append((began, time.monotonic()))
        return Reply(body=policy())


STUCK = 120  # seconds the stuck fetch would take to time out


def test_a_stuck_document_delays_nobody_and_sigterm_stops_within_seconds(tmp_path: Path) -> None:
    silent, ok, same_host = SilentServer(), Timed(0.2), Timed(0.2)
    with LocalServer() as server:
        server.handle("/ok", ok)
        server.handle("/same-host", same_host)
        docs = {"stuck": silent.url("/p"), "ok": server.url("/ok"),
                "same-host": server.url("/same-host")}  # fmt: skip
        watchlist = write_watchlist(tmp_path / "w.yaml", docs)
        watchlist.write_text(
            watchlist.read_text().replace("    url:", "    interval: 1m\n    url:")
        )
        data, log = tmp_path / "data", tmp_path / "daemon.log"
        # 1 min / 60 = a check a second; the stuck fetch would take STUCK s to time out
        proc = start_daemon(watchlist, data, log, "--speed", "60", "--timeout", str(STUCK),
                            "--retries", "0")  # fmt: skip
        try:
            # Both pages of the host: one of them may be caught mid-request by SIGTERM and
            # not recorded, so each must have been served at least once more than asserted.
            served = lambda: len(ok.spans) >= 4 and len(same_host.spans) >= 4  # noqa: E731
            assert wait_for(served, 90), log.read_text()
            proc.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            proc.wait(timeout=30)
            took = time.monotonic() - asked
        finally:
            proc.kill()
            silent.close()
    starts = [began for began, _ in ok.spans]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    print(f"\nSIGTERM to exit {took:.2f} s; gaps between the ok document's checks "
          f"{min(gaps):.2f}-{max(gaps):.2f} s while the other was stuck")  # fmt: skip
    text = log.read_text()
    assert proc.returncode == 0 and "Traceback" not in text, text
    # Bounds far below the stuck fetch's STUCK s, far above a loaded machine's delays
    # (load 15 on 2 cores: a write 1-3 s, the stop's 3 s grace for it): a stop that waited
    # for the stuck fetch, or an ok check queued behind it, takes STUCK s.
    assert took < STUCK / 6, f"SIGTERM took {took:.1f} s"
    assert max(gaps) < STUCK / 6, gaps  # each on its 1 s schedule, not behind the fetch
    # the stuck fetch, and maybe one of the slow pages caught mid-request
    assert re.search(r"event=stop abandoned_fetches=[12]\n", text), text[-300:]
    # two documents of one host are never fetched at the same time
    spans = sorted(ok.spans + same_host.spans)
    assert all(end <= began for (_, end), (began, _) in zip(spans, spans[1:], strict=False))
    db = sqlite3.connect(data / "monitor.db")
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    fetched = dict(db.execute("select document, count(*) from fetches group by document"))
    # one host, one request at a time: at most one of its two pages was caught mid-request
    assert fetched.get("stuck") is None
    assert sorted([fetched["ok"], fetched["same-host"]]) >= [3, 4], fetched
