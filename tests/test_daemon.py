"""The daemon as operators run it: a real subprocess, a local server, SIGTERM; and the lock."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.lock import data_lock
from tests.cli_helpers import policy, run_cli, write_watchlist
from tests.httpserver import LocalServer


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
            assert wait_for(lambda: versions(data / "monitor.db") == 1, 20)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=20)
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
