"""Attacks on the daemon (branch attack5): a hostile host with many documents, the wall
clock set back, a whole fetch recorded in the future, an unwritable feeds folder.

Each test runs the real daemon (or `check`) in a subprocess against servers on 127.0.0.1
and 127.0.0.2, on a real SQLite file, bounded in time; each attack once worked (see
bench/HOSTILE.md, "Attacks on the daemon")."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.check.decide import Policy, validators_for
from monitor.models import Validators
from tests.cli_helpers import policy, write_watchlist
from tests.hostile_server import (
    HostileServer,
    drip_body,
    drip_headers,
    endless_chunked,
    gzip_bomb,
    redirect,
    silent,
)
from tests.httpserver import LocalServer, Reply, Request
from tests.test_daemon import wait_for
from tests.test_hostile_ops import counts, fill, noise_page, small_disk  # noqa: F401

EVERY_SECOND = "    interval: 1m\n    url:"  # with --speed 60: a check a second


def every_second(watchlist: Path) -> Path:
    watchlist.write_text(watchlist.read_text().replace("    url:", EVERY_SECOND))
    return watchlist


def daemon(watchlist: Path, data: Path, log: Path, *options: str, clock: Path | None = None,
           preexec: Callable[[], None] | None = None) -> subprocess.Popen[str]:  # fmt: skip
    """The daemon at --speed 60; under tests/clock_shift.py when ``clock`` is given."""
    runner = ["-m", "tests.clock_shift", str(clock)] if clock else ["-m", "monitor"]
    with log.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, *runner, "daemon", "--watchlist", str(watchlist), "--data",
             str(data), "--speed", "60", *options],
            stderr=sink, text=True, preexec_fn=preexec,
        )  # fmt: skip


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> float:
    """SIGTERM; the seconds the daemon took to exit."""
    proc.send_signal(signal.SIGTERM)
    asked = time.monotonic()
    proc.wait(timeout=30)
    return time.monotonic() - asked


class Served:
    """A page of the well-behaved host, remembering when each request came."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, _request: Request) -> Reply:
        self.times.append(time.monotonic())
        return Reply(body=policy())

    def gaps(self, since: float = 0.0) -> list[float]:
        times = [t for t in self.times if t >= since]
        return [b - a for a, b in zip(times, times[1:], strict=False)]


def four_gigabytes_then_silence(conn: socket.socket, stop_event: threading.Event) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4294967296\r\n\r\n"
    conn.sendall(head + b"<html><body><p>" + b"a" * 1000)
    stop_event.wait()


def failed_lines(text: str) -> set[str]:
    """The documents with a ``status=failed`` line in the daemon's log."""
    return {line.split("document=")[1].split()[0] for line in text.splitlines()
            if "status=failed" in line}  # fmt: skip


def test_a_hostile_host_with_many_documents_does_not_stall_the_other_hosts(
    tmp_path: Path,
) -> None:
    # Before: each document waited for its host in a worker thread, so six documents of
    # one hostile host took all four workers and the good host's page, due every second,
    # was checked every 4-6 s (every few minutes at the default 20 s timeout).
    ok = Served()
    with HostileServer("127.0.0.2") as hostile, LocalServer() as good:
        behaviours: dict[str, Callable[..., object]] = {
            "/silent": silent(), "/silent-too": silent(), "/drip-headers": drip_headers(0.5),
            "/drip-body": drip_body(0.2), "/endless": endless_chunked(),
            "/bomb": gzip_bomb(200), "/loop": redirect("/loop"),
            "/four-gb": four_gigabytes_then_silence,
        }  # fmt: skip
        for path, behaviour in behaviours.items():
            hostile.route(path, behaviour)  # type: ignore[arg-type]
        good.handle("/ok", ok)
        docs = {path.strip("/"): hostile.url(path) for path in behaviours}
        watchlist = every_second(
            write_watchlist(tmp_path / "w.yaml", docs | {"ok": good.url("/ok")})
        )
        data, log = tmp_path / "data", tmp_path / "daemon.log"
        proc = daemon(watchlist, data, log, "--timeout", "2", "--retries", "0")
        try:
            assert wait_for(lambda: len(ok.times) >= 2, 20), log.read_text()
            since = ok.times[-1]
            time.sleep(9)  # the hostile documents' attempts run out their 6 s deadlines
            # a loaded machine may need longer for the second one: wait for it, bounded
            assert wait_for(lambda: len(failed_lines(log.read_text())) >= 2, 20), log.read_text()
            took = stop(proc)
        finally:
            proc.kill()
    text = log.read_text()
    gaps = ok.gaps(since)
    low, high = min(gaps, default=0), max(gaps, default=0)
    print(f"\ngood host's page: {len(gaps) + 1} checks in 9 s, gaps {low:.2f}-{high:.2f} s; "
          f"SIGTERM took {took:.2f} s")  # fmt: skip
    assert proc.returncode == 0 and "Traceback" not in text, text[-2000:]
    assert len(gaps) >= 5 and max(gaps) < 3.5, gaps
    assert took < 6
    db = sqlite3.connect(data / "monitor.db")
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    versions = dict(db.execute("select document, count(*) from versions group by document"))
    assert versions == {"ok": 1}  # no hostile page ever became a version
    failed = failed_lines(text)
    # one check at a time on the hostile host (each up to its 6 s deadline), one line each
    assert len(failed) >= 2 and failed <= set(docs), text[-2000:]


def test_the_wall_clock_set_back_a_day_or_on_a_year_does_not_stop_the_checks(
    tmp_path: Path,
) -> None:
    # Before: APScheduler waits for wall-clock times, so `date -s` a day back (a wrong
    # NTP answer, an operator) left the daemon silent for a whole day.
    ok, offset = Served(), tmp_path / "offset"
    offset.write_text("0")
    with LocalServer() as good:
        good.handle("/ok", ok)
        watchlist = every_second(write_watchlist(tmp_path / "w.yaml", {"ok": good.url("/ok")}))
        log = tmp_path / "daemon.log"
        proc = daemon(watchlist, tmp_path / "data", log, clock=offset)
        try:
            assert wait_for(lambda: len(ok.times) >= 2, 20), log.read_text()
            offset.write_text(str(-86400))
            moved = time.monotonic()
            back = wait_for(lambda: len([t for t in ok.times if t > moved + 2]) >= 3, 15)
            # Then a year ahead: APScheduler walked every missed run one by one before
            # running the job once (31 million steps of 1 s: over a minute of no checks).
            offset.write_text(str(86400 * 365))
            ahead = time.monotonic()
            time.sleep(4)
            stop(proc)
        finally:
            proc.kill()
    text = log.read_text()
    assert back, text[-1500:]
    assert "event=clock-jump" in text and "Traceback" not in text, text[-1500:]
    assert 2 <= len([t for t in ok.times if t > ahead]) <= 6, text[-1500:]  # no pile-up


def test_a_whole_fetch_recorded_in_the_future_does_not_stop_the_daily_whole_fetch() -> None:
    # Before: a machine that ran a year ahead (a dead RTC battery before NTP) recorded its
    # whole fetches a year ahead; once the clock was right, `now - last` was negative for a
    # year, so a server keeping one ETag for a new body hid every change for that year.
    now = datetime(2026, 12, 3, tzinfo=UTC)
    kept = Validators(etag='"v1"', last_modified=None)
    policy_ = Policy()
    for last, sent in [(now - timedelta(hours=1), kept),
                       (now + timedelta(minutes=4), kept),  # skew of a few minutes: kept
                       (now + timedelta(days=365), Validators(None, None)),
                       (now - timedelta(days=2), Validators(None, None))]:  # fmt: skip
        assert validators_for((True, last, kept), now, policy_) == sent, last


def test_a_check_recorded_a_year_ahead_then_on_time_fetches_whole(tmp_path: Path) -> None:
    # The same through `check` and a real store: a year ahead, then the clock put right.
    sent: list[str | None] = []

    def answer(request: Request) -> Reply:
        etag = {k.lower(): v for k, v in request.headers.items()}.get("if-none-match")
        sent.append(etag)
        if etag:
            return Reply(status=304, headers={"ETag": '"same"'})
        return Reply(body=policy(extra=f"<li>version {len(sent)}</li>"), headers={"ETag": '"same"'})

    offset = tmp_path / "offset"
    with LocalServer() as server:
        server.handle("/p", answer)
        watchlist = write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")})
        for ahead in (86400 * 365, 0):
            offset.write_text(str(ahead))
            done = subprocess.run(
                [sys.executable, "-m", "tests.clock_shift", str(offset), "check", "--watchlist",
                 str(watchlist), "--data", str(tmp_path / "data"), "--delay", "0"],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert "Traceback" not in done.stderr, done.stderr
    assert sent == [None, None], sent  # the second fetch was whole: the change is seen
    assert "doc: changed" in done.stdout, done.stdout


def test_an_unwritable_feeds_folder_costs_one_line_per_check_not_a_traceback(
    tmp_path: Path,
) -> None:
    # Before: `data/feeds` a file (or unwritable) made every check end in a 20-line
    # FileExistsError traceback, logged as "crashed" although the check was recorded.
    ok = Served()
    data = tmp_path / "data"
    data.mkdir()
    (data / "feeds").write_text("not a folder")
    with LocalServer() as good:
        good.handle("/ok", ok)
        watchlist = every_second(write_watchlist(tmp_path / "w.yaml", {"ok": good.url("/ok")}))
        log = tmp_path / "daemon.log"
        proc = daemon(watchlist, data, log)
        try:
            assert wait_for(lambda: "event=not-published" in log.read_text(), 20), log.read_text()
            (data / "feeds").unlink()  # the operator fixes it: the next check publishes
            assert wait_for(lambda: (data / "feeds" / "index.html").exists(), 20)
            stop(proc)
        finally:
            proc.kill()
    text = log.read_text()
    assert "Traceback" not in text and "crashed" not in text, text[-2000:]
    assert "document=ok status=first" in text
    line = next(x for x in text.splitlines() if "event=not-published" in x)
    assert "level=WARNING" in line and str(data / "feeds") in line, line


def test_a_full_disk_under_the_daemon_costs_one_line_per_check_and_loses_nothing(
    small_disk: tuple[Path, str],  # noqa: F811 - the fixture of test_hostile_ops
    tmp_path: Path,
) -> None:
    # Tried: sound already (each check one transaction, rolled back); kept as a guard.
    mount, how = small_disk
    data, log = mount / "data", tmp_path / "daemon.log"
    page = {"body": policy()}
    with LocalServer() as server:
        server.handle("/p", lambda _request: Reply(body=page["body"]))
        watchlist = every_second(write_watchlist(tmp_path / "w.yaml", {"doc": server.url("/p")}))
        proc = None
        try:
            if how == "tmpfs":  # the limit is the disk's: the daemon runs throughout
                proc = daemon(watchlist, data, log)
                assert wait_for(lambda: "status=first" in log.read_text(), 20), log.read_text()
            else:  # RLIMIT_FSIZE holds for a process's life: v1 first, by `check`
                first = ["check", "--watchlist", str(watchlist), "--data", str(data)]
                subprocess.run([sys.executable, "-m", "monitor", *first], check=True, timeout=60)
            before = counts(data / "monitor.db")
            page["body"] = noise_page(1, 200_000)
            limit = fill(mount, how, leave=32 * 1024)
            if proc is None:
                proc = daemon(watchlist, data, log, preexec=limit)
            assert wait_for(lambda: log.read_text().count("was rolled back") >= 2, 20), (
                log.read_text()
            )
            assert counts(data / "monitor.db")[2] == before[2]  # no half version
            if how == "tmpfs":
                (mount / "filler").unlink()  # space comes back: the next check records
                assert wait_for(lambda: "changed: v1 -> v2" in log.read_text(), 20)
            stop(proc)
        finally:
            if proc is not None:
                proc.kill()
    text = log.read_text()
    assert "Traceback" not in text and "crashed" not in text, text[-2000:]
    full = [line for line in text.splitlines() if "rolled back" in line]
    assert all("status=failed" in line or "event=not-published" in line for line in full), full
    assert counts(data / "monitor.db")[2] == before[2] + (how == "tmpfs")


def test_sighup_after_editing_the_watchlist_neither_kills_the_daemon_nor_loads_a_bad_file(
    tmp_path: Path,
) -> None:
    # Before: an operator who edited the watchlist (here into invalid YAML) and sent SIGHUP,
    # as to many daemons, or whose terminal closed, killed it: no line, no `event=stop`.
    ok = Served()
    with LocalServer() as good:
        good.handle("/ok", ok)
        watchlist = every_second(write_watchlist(tmp_path / "w.yaml", {"ok": good.url("/ok")}))
        log = tmp_path / "daemon.log"
        proc = daemon(watchlist, tmp_path / "data", log)
        try:
            assert wait_for(lambda: len(ok.times) >= 1, 20), log.read_text()
            watchlist.write_text("documents: [unclosed\n")
            proc.send_signal(signal.SIGHUP)
            hupped = time.monotonic()
            assert wait_for(lambda: len([t for t in ok.times if t > hupped]) >= 2, 10)
            assert proc.poll() is None, log.read_text()
            stop(proc)
        finally:
            proc.kill()
    text = log.read_text()
    assert proc.returncode == 0 and "Traceback" not in text, text[-1500:]
    (line,) = [x for x in text.splitlines() if "event=hup" in x]
    assert "level=WARNING" in line and "restart the daemon" in line, line
