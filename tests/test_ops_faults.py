"""What operators running imports, cron checks and the daemon met (branch ops7): two
imports of one history at once, an orphaned import worker, a cron `check` stalling the
daemon's recording, a bug in one document's check, SIGTERM to a cron `check`.

Real processes (the CLI as a subprocess), real SQLite files, local servers, bounded waits;
each case once went wrong (see bench/HOSTILE.md, "Operators' faults (branch ops7)")."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.lock import data_lock
from monitor.models import Watch
from monitor.signals import Stopped, held_back, signals_raise
from monitor.store import Store
from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer, Reply, Request
from tests.test_attacks import DOC
from tests.test_attacks_daemon import stop
from tests.test_attacks_import import _long_history
from tests.test_daemon import wait_for
from tests.test_daemon_ops import reap
from tests.test_import import PATH, watchlist


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *args]


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute(sql).fetchall())
    finally:
        conn.close()


# -- 1. two imports of one history at once -----------------------------------------------------
def test_two_imports_of_one_history_at_once_record_each_step_once(tmp_path: Path) -> None:
    # Before: each import read the steps already recorded when it began, then recorded the
    # others one by one: run at once (two cron jobs, a retry while the first still ran),
    # both recorded most steps (83 duplicate rows in 300 steps), though no false change.
    repo = _long_history(tmp_path)
    data = tmp_path / "data"
    args = cli("import", "ota", str(repo), "--document", DOC, "--path", PATH, "--jobs", "0",
               "--watchlist", str(watchlist(tmp_path)), "--data", str(data))  # fmt: skip
    both = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    said = [process.communicate(timeout=300) for process in both]
    assert [p.returncode for p in both] == [0, 0], said
    db = data / "monitor.db"
    twice = rows(db, "select origin_ref, count(*) from fetches group by origin_ref "
                     "having count(*) > 1")  # fmt: skip
    assert twice == [], f"{len(twice)} steps recorded twice"
    assert rows(db, "select count(*) from fetches") == [(120,)]
    assert rows(db, "select count(*) from changes") == [(119,)]
    # one of them imported it all; the other waited for it (one line), then found it done
    out = sorted(out for out, _ in said)
    assert "120 step(s) imported" in out[1] and "120 already imported" in out[0], out
    waited = [err for _, err in said if "waiting" in err]
    if waited:  # it started while the other held the document: it said so in one line
        (line,) = [x for x in waited[0].splitlines() if "waiting" in x]
        assert f"{DOC}: an import of it is running (pid " in line, line
        assert "Traceback" not in waited[0], waited[0]


# -- 2. a worker whose parent died before its lifeline started ---------------------------------
ORPHAN = """
import os, sys, time
from monitor.importer.lifeline import end_with_parent

parent = os.getpid()
if os.fork():
    os._exit(0)  # the importing process dies before its worker's lifeline starts
while os.getppid() == parent:
    time.sleep(0.01)
print(os.getpid(), flush=True)
end_with_parent(parent)  # what the pool's initializer passes: the process that forked it
time.sleep(60)
print("ran on", flush=True)
"""


def test_a_worker_whose_parent_died_before_its_lifeline_started_ends(tmp_path: Path) -> None:
    # Before: the worker's lifeline took the parent it saw when it started: one whose
    # parent had died by then watched its new parent (init) and ran on, an orphan.
    log = tmp_path / "orphan.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(ORPHAN)], stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
        assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while not log.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    orphan = int(log.read_text().split()[0])
    deadline = time.monotonic() + 10
    while _alive(orphan) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(orphan):
        os.kill(orphan, signal.SIGKILL)
        raise AssertionError("the orphaned worker ran on")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# -- 4. a bug in one document's check ----------------------------------------------------------
LOGFMT = re.compile(r'time=\S+ level=[A-Z]+( [a-z_]+=("[^"\n]*"|[^"\s]+))+')


def crash_file(data: Path, line: str) -> Path:
    """The traceback file a crash line names (inside the data directory)."""
    found = re.search(r"traceback in (\S+?\.txt)", line)
    assert found, line
    path = Path(found.group(1))
    assert path.parent == data / "crashes", line
    return path


def test_a_bug_in_one_documents_cron_check_is_one_line_and_the_sweep_goes_on(
    tmp_path: Path,
) -> None:
    # Before: an unexpected exception (a bug) in one document's check ended the whole
    # sweep in a traceback: the documents after it were not checked, nor the feeds written.
    with LocalServer() as server:
        docs = {name: server.url(f"/{name}") for name in ("alpha", "buggy", "omega")}
        for name in docs:
            server.route(f"/{name}", body=policy(title=name))
        wl = write_watchlist(tmp_path / "w.yaml", docs)
        data = tmp_path / "data"
        done = subprocess.run(
            [sys.executable, "-m", "tests.crash_one", "buggy", "check", "--watchlist", str(wl),
             "--data", str(data), "--delay", "0"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    lines = done.stdout.splitlines()
    assert sorted(x.split(":")[0] for x in lines) == ["alpha", "buggy", "omega"], done.stdout
    (line,) = [x for x in lines if x.startswith("buggy:")]
    assert "crashed: RuntimeError: a bug met while deciding on buggy" in line, line
    assert "second line" not in line and "the other documents were checked" in line, line
    kept = crash_file(data, line).read_text()
    assert "Traceback (most recent call last)" in kept and "second line" in kept, kept
    assert rows(data / "monitor.db", "select document from versions order by 1") == [
        ("alpha",), ("omega",)
    ]  # fmt: skip
    assert (data / "feeds" / "index.html").exists()


def test_a_bug_in_one_documents_daemon_check_is_one_logfmt_line(tmp_path: Path) -> None:
    # Before: the daemon logged `document=X status=crashed` and a multi-line traceback,
    # which a log collector splits into lines of no document.
    with LocalServer() as server:
        docs = {name: server.url(f"/{name}") for name in ("alpha", "buggy")}
        for name in docs:
            server.route(f"/{name}", body=policy(title=name))
        wl = write_watchlist(tmp_path / "w.yaml", docs)
        data, log = tmp_path / "data", tmp_path / "daemon.log"
        with log.open("w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.crash_one", "buggy", "daemon", "--watchlist",
                 str(wl), "--data", str(data)], stderr=sink,
            )  # fmt: skip
        try:
            assert wait_for(lambda: "document=buggy" in log.read_text(), 60), log.read_text()
            assert wait_for(lambda: "document=alpha" in log.read_text(), 60), log.read_text()
            stop(proc)
        finally:
            reap(proc)
    text = log.read_text()
    assert proc.returncode == 0 and "Traceback" not in text, text
    (line,) = [x for x in text.splitlines() if "document=buggy" in x]
    assert LOGFMT.fullmatch(line), line
    assert "level=ERROR document=buggy status=failed" in line, line
    assert "crashed: RuntimeError: a bug met while deciding on buggy" in line, line
    assert "Traceback (most recent call last)" in crash_file(data, line).read_text()
    assert "document=alpha status=first" in text, text


SLOW_JOB = """
import time
from monitor.daemonlog import start_logging
from monitor.schedule import Job, run_forever

start_logging()
run_forever([Job("slow-doc", 0.2, lambda: time.sleep(1.5))])
"""


def test_a_run_skipped_because_the_last_is_still_running_is_one_logfmt_line(
    tmp_path: Path,
) -> None:
    # Before: APScheduler's own `Execution of job "..." skipped: maximum number of running
    # instances reached (1)` line, in no key=value form and naming no document.
    log = tmp_path / "daemon.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SLOW_JOB)], stderr=sink)
    try:
        assert wait_for(lambda: "skipped" in log.read_text(), 30), log.read_text()
        stop(proc)
    finally:
        reap(proc)
    lines = [x for x in log.read_text().splitlines() if "skipped" in x]
    assert lines, log.read_text()
    for line in lines:
        assert LOGFMT.fullmatch(line), line
        assert "level=WARNING event=skipped document=slow-doc" in line, line


# -- 3. a cron check waiting for a slow host ---------------------------------------------------
def slow_check(tmp_path: Path, server: LocalServer, *options: str) -> subprocess.Popen[str]:
    """A cron `check` of a fast page and one whose host answers once ``release`` is set."""
    docs = {"fast": server.url("/fast"), "slow": server.url("/slow")}
    wl = write_watchlist(tmp_path / "w.yaml", docs)
    return subprocess.Popen(
        cli("check", "--watchlist", str(wl), "--data", str(tmp_path / "data"), "--delay", "0",
            "--timeout", "60", *options),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def serving(server: LocalServer) -> tuple[threading.Event, threading.Event]:
    asked, release = threading.Event(), threading.Event()

    def slow(_request: Request) -> Reply:
        asked.set()
        release.wait(60)
        return Reply(body=policy(title="slow"))

    server.route("/fast", body=policy(title="fast"))
    server.handle("/slow", slow)
    return asked, release


def test_a_cron_check_waiting_for_a_slow_host_leaves_the_data_lock_free(tmp_path: Path) -> None:
    # Before: a cron `check` held the data directory's lock for its whole sweep, fetches
    # included, so the daemon's writer (or an import's step) waited for the slowest host
    # (up to --wait, 600 s, then "not recorded: locked" lines).
    data = tmp_path / "data"
    with LocalServer() as server:
        asked, release = serving(server)
        proc = slow_check(tmp_path, server)
        try:
            assert asked.wait(60), proc.stderr
            assert wait_for(lambda: versions(data) == 1, 30)  # the fast page is recorded
            took = time.monotonic()
            with data_lock(data, wait=5):  # as the daemon's writer takes it
                took = time.monotonic() - took
            release.set()
            out, err = proc.communicate(timeout=60)
        finally:
            release.set()
            reap(proc)
    assert took < 2, f"the lock was held {took:.1f} s while the check waited for a host"
    assert proc.returncode == 0 and "Traceback" not in err, (out, err)
    assert sorted(out.splitlines()) == ["fast: first version (v1)", "slow: first version (v1)"]
    assert versions(data) == 2


def test_a_second_cron_check_names_the_first_and_waits_for_it(tmp_path: Path) -> None:
    # Two cron checks never overlap (that would double every host's traffic): the second
    # waits for the first, and past --wait says which process runs and since when.
    with LocalServer() as server:
        asked, release = serving(server)
        first = slow_check(tmp_path, server)
        try:
            assert asked.wait(60)
            second = slow_check(tmp_path, server, "--wait", "1")
            out, err = second.communicate(timeout=60)
            release.set()
            first.communicate(timeout=60)
        finally:
            release.set()
            reap(first)
    assert second.returncode == 1 and out == "", (out, err)
    (line,) = err.splitlines()
    assert line.startswith("error: ") and "another `check` is running" in line, line
    assert f"(pid {first.pid} on " in line and ", started 20" in line, line
    assert first.returncode == 0


def versions(data: Path) -> int:
    try:
        return int(rows(data / "monitor.db", "select count(*) from versions")[0][0])  # type: ignore[call-overload]
    except sqlite3.Error:
        return 0


HOLDER = """
import sys, time
from monitor.lock import data_lock
from monitor.models import Watch
from monitor.signals import Stopped, held_back, signals_raise
from monitor.store import Store

with data_lock(sys.argv[1], wait=5):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_check_timed_out_on_the_data_lock_names_who_holds_it(tmp_path: Path) -> None:
    # Before: "locked by another check or the daemon": which one, an operator had to guess.
    data = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLDER), str(data)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        wl = write_watchlist(tmp_path / "w.yaml", {"doc": "http://127.0.0.1:9/p"})
        args = cli("check", "--watchlist", str(wl), "--data", str(data), "--wait", "1")
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    finally:
        reap(holder)
        holder.stdout.close()  # type: ignore[union-attr]
    assert done.returncode == 1, done
    (line,) = done.stderr.splitlines()
    assert (
        f"is locked by another check or the daemon, or an import (held by pid {holder.pid}: "
        in line
    )
    assert "waited 1 s" in line, line


# -- 5. SIGTERM to a cron check ------------------------------------------------------------------
def test_sigterm_to_a_cron_check_mid_sweep_keeps_what_is_recorded_in_one_line(
    tmp_path: Path,
) -> None:
    # Before: a cron `check` had no SIGTERM handling (a service manager's stop, `timeout`,
    # a shutdown): it died by the signal (exit -15), no line said what was kept.
    data = tmp_path / "data"
    with LocalServer() as server:
        asked, release = serving(server)
        proc = slow_check(tmp_path, server)
        try:
            assert asked.wait(60), proc.stderr
            assert wait_for(lambda: versions(data) == 1, 30)  # the fast page is recorded
            proc.send_signal(signal.SIGTERM)
            asked_at = time.monotonic()
            out, err = proc.communicate(timeout=60)
            took = time.monotonic() - asked_at
        finally:
            release.set()
            reap(proc)
        assert proc.returncode == 143, (proc.returncode, out, err)
        assert took < 10, f"the stop took {took:.1f} s (the slow host answers after 60 s)"
        (line,) = err.splitlines()
        assert line == ("check stopped by SIGTERM: each document recorded is kept whole, and "
                        "in the feeds; the others are checked by the next run"), line  # fmt: skip
        db = data / "monitor.db"
        assert rows(db, "pragma integrity_check") == [("ok",)]
        assert rows(db, "select document from versions") == [("fast",)]
        again = slow_check(tmp_path, server)  # the slow host answers now: all is checked
        out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert sorted(out.splitlines()) == ["fast: unchanged (v1)", "slow: first version (v1)"], out


def test_a_stop_signal_during_a_write_lands_after_its_commit(tmp_path: Path) -> None:
    # The cron check's write turn (data lock, held_back(), one transaction): SIGTERM in
    # the middle of a batch's transaction is raised once it committed, never half-way.
    store = Store(tmp_path / "data")
    store.sync_documents([Watch("a", "E", "t", "http://x.test/a"),
                          Watch("b", "E", "t", "http://x.test/b")], datetime.now(UTC))  # fmt: skip
    with signals_raise(Stopped, signal.SIGTERM):
        with pytest.raises(Stopped, match="SIGTERM"):
            with held_back(), store.transaction():
                store.set_failures("a", 7)
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.2)  # the handler has run by now: held back
                store.set_failures("b", 7)
        with pytest.raises(Stopped):  # outside a write: at once
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    again = Store(tmp_path / "data")
    assert [again.consecutive_failures(d) for d in ("a", "b")] == [7, 7]
