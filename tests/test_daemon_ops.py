"""What an operator running the daemon meets (branch ops6): its log piped to a pager that
is paused, a stop asked for while it starts.

Each test runs the real daemon in a subprocess against a local server, on a real SQLite
file, bounded in time; each case once went wrong (see bench/HOSTILE.md, "The daemon as
operators run it")."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from monitor.daemonlog import QUEUE_LINES
from monitor.fetch.browser import browser_available
from monitor.lock import data_lock
from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer, Reply, Request
from tests.shared import requires
from tests.test_attacks_daemon import every_second, stop
from tests.test_daemon import wait_for
from tests.test_hostile_ops import fill, small_disk  # noqa: F401 - a fixture

needs_chromium = requires(browser_available())
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ on Linux (Python 3.11 names it only from 3.10 on)


def fetches(data: Path) -> int:
    try:
        db = sqlite3.connect(data / "monitor.db")
        try:
            return int(db.execute("select count(*) from fetches").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def reap(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Kills the daemon if a test left it running (a no-op once it exited) and waits, so
    no daemon outlives its test."""
    proc.kill()
    proc.wait(timeout=30)


def daemon_command(watchlist: Path, data: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "daemon", "--watchlist", str(watchlist),
            "--data", str(data), *options]  # fmt: skip


class Reader:
    """Reads a pipe to its end in a thread, once started."""

    def __init__(self, pipe: object) -> None:
        self.pipe = pipe
        self.chunks: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        for line in self.pipe:  # type: ignore[attr-defined]
            self.chunks.append(line)

    def text(self) -> str:
        return "".join(self.chunks)


def test_a_log_pipe_nobody_reads_does_not_stop_the_checks(tmp_path: Path) -> None:
    # Before: `policy-monitor daemon 2>&1 | less` with the pager paused: once the pipe was
    # full (64 KB, a few hundred lines) the thread logging a check blocked in write(),
    # holding the write turn, and no check was recorded until someone read the pipe.
    with LocalServer() as server:
        docs = {f"doc-{i}": server.url(f"/doc-{i}") for i in range(3)}
        for i in range(3):
            server.route(f"/doc-{i}", body=policy(title=f"doc {i}"))
        watchlist = every_second(write_watchlist(tmp_path / "w.yaml", docs))
        data = tmp_path / "data"
        # 1 min / 600: each document is due every 0.1 s, so the log runs far ahead of a
        # 4 KB pipe (the smallest Linux allows: ~25 lines) within the first second
        read_end, write_end = os.pipe()
        fcntl.fcntl(read_end, F_SETPIPE_SZ, 4096)
        proc = subprocess.Popen(daemon_command(watchlist, data, "--speed", "600"),
                                stderr=write_end)  # fmt: skip
        os.close(write_end)
        reader = Reader(os.fdopen(read_end, errors="replace"))
        try:
            # nobody reads: the checks must go on (the pipe holds ~25 lines, the daemon's
            # queue QUEUE_LINES more: then lines are dropped)
            going_on = wait_for(lambda: fetches(data) >= QUEUE_LINES + 150, 120)
            reader.thread.start()  # the pager resumes
            dropped = going_on and wait_for(lambda: "event=log-dropped" in reader.text(), 30)
            stop(proc)
            reader.thread.join(timeout=30)
        finally:
            reap(proc)
            reader.pipe.close()  # type: ignore[attr-defined]
    text = reader.text()
    assert going_on, f"{fetches(data)} checks recorded while nobody read the log"
    assert dropped, text[-2000:]
    assert proc.returncode == 0 and "Traceback" not in text, text[-2000:]
    (line,) = [x for x in text.splitlines() if "event=log-dropped" in x]
    assert "level=WARNING" in line and int(line.split(" n=")[1].split()[0]) > 0, line
    # the last line: the stop (fetches due every 0.1 s may be in flight: abandoned)
    assert re.search(r"event=stop( abandoned_fetches=\d)?\n$", text), text[-500:]


def test_sigterm_while_the_daemon_starts_is_one_line_and_exit_0(tmp_path: Path) -> None:
    # Before: a stop during start-up (here: waiting for the data lock a `check` holds; a
    # migration or Chromium's launch take time too) killed the process by the signal
    # (exit -15), with no line at all.
    watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": "http://127.0.0.1:9/p"})
    data = tmp_path / "data"
    log = tmp_path / "daemon.log"
    with data_lock(data, wait=1), log.open("w") as sink:
        proc = subprocess.Popen(daemon_command(watchlist, data, "--wait", "60"), stderr=sink)
        try:  # daemon.json is written once it has its own lock: it now waits for the data lock
            assert wait_for(lambda: (data / "daemon.json").exists(), 60), log.read_text()
            time.sleep(0.3)
            stop(proc)
        finally:
            reap(proc)
    text = log.read_text()
    assert proc.returncode == 0, (proc.returncode, text)
    (line,) = text.splitlines()
    assert "level=WARNING event=stop during=start-up" in line and "Traceback" not in text, text
    assert not (data / "daemon.json").exists()


def test_a_page_served_to_the_daemon_is_logged_once(tmp_path: Path) -> None:
    # The queue keeps order and loses nothing while the reader keeps up.
    with LocalServer() as server:
        server.handle("/p", lambda _request: Reply(body=policy()))
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        data = tmp_path / "data"
        proc = subprocess.Popen(daemon_command(watchlist, data), stderr=subprocess.PIPE,
                                text=True)  # fmt: skip
        try:
            assert wait_for(lambda: fetches(data) == 1, 60)
            time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            reap(proc)
    lines = err.splitlines()
    assert proc.returncode == 0, err
    assert [x.split(" level=")[1].split()[1] for x in lines] == [
        "event=start", "document=doc", "event=stop"
    ], err  # fmt: skip


def status_text(data: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "monitor", "status", "--data", str(data)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_status_says_whether_the_daemon_runs_and_when_it_was_killed(tmp_path: Path) -> None:
    # Before: after a kill -9 (the OOM killer, a crash) `status` showed the last fetch
    # times as if all were well; nothing said no daemon ran any more (its `daemon.json`
    # was left behind, naming a dead process).
    with LocalServer() as server:
        server.route("/p", body=policy())
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        data, log = tmp_path / "data", tmp_path / "daemon.log"
        with log.open("w") as sink:
            proc = subprocess.Popen(daemon_command(watchlist, data), stderr=sink)
        try:
            assert wait_for(lambda: fetches(data) == 1, 60), log.read_text()
            running = status_text(data)
            reap(proc)  # kill -9: it dies without stopping
            killed = status_text(data)
        finally:
            reap(proc)
    first = running.splitlines()[0]
    assert first.startswith(f"daemon: running (pid {proc.pid} on "), running
    assert killed.splitlines()[1:] == running.splitlines()[1:]
    first = killed.splitlines()[0]
    assert first.startswith(f"daemon: NOT RUNNING: pid {proc.pid} on "), killed
    assert "ended without stopping" in first and "restart it" in first, first


@needs_chromium
def test_sigterm_while_chromium_renders_a_page_exits_at_once(tmp_path: Path) -> None:
    # Before: the stop dropped the browser's context manager unclosed, and the garbage
    # collector closed it: Chromium's close waited for the page in progress (up to its
    # 30 s navigation timeout, 60 s deadline): SIGTERM took as long as the page.
    asked, release = threading.Event(), threading.Event()

    def hanging(_request: Request) -> Reply:
        asked.set()
        release.wait(60)
        return Reply(body=policy())

    with LocalServer() as server:
        server.handle("/p", hanging)
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        watchlist.write_text(watchlist.read_text() + "    fetcher: browser\n")
        data, log = tmp_path / "data", tmp_path / "daemon.log"
        with log.open("w") as sink:
            proc = subprocess.Popen(daemon_command(watchlist, data), stderr=sink)
        try:
            assert asked.wait(60), log.read_text()  # Chromium is loading the page
            proc.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            proc.wait(timeout=60)
            took = time.monotonic() - stopped
        finally:
            release.set()
            proc.kill()
    text = log.read_text()
    assert proc.returncode == 0 and "Traceback" not in text, text
    assert took < 10, f"SIGTERM took {took:.1f} s"  # the page would take 30 s
    assert text.splitlines()[-1].endswith("event=stop abandoned_fetches=1"), text


def test_a_data_directory_gone_under_the_daemon_is_named_and_nothing_is_made_anew(
    tmp_path: Path,
) -> None:
    # Before: the data directory moved away (a disk unmounted, `rm -rf` by mistake) gave
    # one line per check advising "run `policy-monitor check` first", which would start
    # a new empty history; the daemon had made that database itself.
    with LocalServer() as server:
        server.route("/p", body=policy())
        watchlist = every_second(write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")}))
        data, away, log = tmp_path / "data", tmp_path / "away", tmp_path / "daemon.log"
        with log.open("w") as sink:
            proc = subprocess.Popen(daemon_command(watchlist, data, "--speed", "60"),
                                    stderr=sink)  # fmt: skip
        try:
            assert wait_for(lambda: fetches(data) >= 1, 60), log.read_text()
            data.rename(away)  # the disk is unmounted: its mount point is left, empty
            data.mkdir()
            assert wait_for(lambda: "is gone" in log.read_text(), 30), log.read_text()
            # no database is made there (a check recording as the folder moved keeps its
            # connection to the moved file, and may write that check's feeds here)
            assert not [p.name for p in data.iterdir() if p.name.startswith("monitor.db")]
            shutil.rmtree(data)
            away.rename(data)  # mounted again: the checks are recorded again
            before = fetches(data)
            assert wait_for(lambda: fetches(data) >= before + 2, 30), log.read_text()
            stop(proc)
        finally:
            reap(proc)
    text = log.read_text()
    assert proc.returncode == 0 and "Traceback" not in text, text[-2000:]
    line = next(x for x in text.splitlines() if "is gone" in x)
    assert "level=WARNING document=doc status=failed" in line, line
    assert str(data / "monitor.db") in line and "restore it" in line, line
    assert "run `policy-monitor check` first" not in text, text[-2000:]


def test_a_full_disk_under_the_log_file_loses_lines_counted_never_checks(
    small_disk: tuple[Path, str],  # noqa: F811 - the fixture of test_hostile_ops
    tmp_path: Path,
) -> None:
    # Before: each line that did not fit was a "--- Logging error ---" traceback sent to
    # the same full file, and nothing said afterwards how many lines were lost.
    mount, how = small_disk
    log = mount / "daemon.log" if how == "tmpfs" else Path("/dev/full")  # ENOSPC always
    with LocalServer() as server:
        server.route("/p", body=policy())
        watchlist = every_second(write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")}))
        data = tmp_path / "data"
        with log.open("w") as sink:
            proc = subprocess.Popen(daemon_command(watchlist, data, "--speed", "600"),
                                    stderr=sink)  # fmt: skip
        try:
            assert wait_for(lambda: fetches(data) >= 1, 60)
            fill(mount, how, leave=0)
            full = fetches(data)
            # checks go on, past the log's last page of the disk (~35 lines): lines are lost
            assert wait_for(lambda: fetches(data) >= full + 80, 60)
            if how == "tmpfs":
                (mount / "filler").unlink()  # space comes back: the count is said
                assert wait_for(lambda: "event=log-dropped" in log.read_text(), 30), (
                    log.read_text()[-1500:]
                )
            stop(proc)
        finally:
            reap(proc)
    assert proc.returncode == 0
    if how == "tmpfs":
        text = log.read_text()
        assert "Traceback" not in text and "Logging error" not in text, text[-2000:]
        (line,) = [x for x in text.splitlines() if "event=log-dropped" in x]
        assert int(line.split(" n=")[1].split()[0]) >= 10 and "disk is full" in line, line
