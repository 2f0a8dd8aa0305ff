"""What operators running cron `check`s beside the daemon met (branch ops8): a 304 read
against a version recorded meanwhile, a stopped `check` leaving its lock record and the
feeds unwritten, one page fetched by two processes at once, no line saying when a failure
became an alert, and no way to look at a quarantined page.

Real processes (the CLI as a subprocess), real SQLite files, local servers, bounded waits;
each case once went wrong (see bench/HOSTILE.md, "ops8")."""

from __future__ import annotations

import hashlib
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from monitor.check.decide import Policy
from monitor.check.pipeline import sweep
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.lock import data_lock
from monitor.models import Watch
from monitor.store import Store
from tests.cli_helpers import policy, write_watchlist
from tests.httpserver import LocalServer, Reply, Request
from tests.test_attacks_daemon import stop
from tests.test_daemon import wait_for
from tests.test_daemon_ops import daemon_command, reap
from tests.test_hostile_states import WALL
from tests.test_ops_faults import cli, rows


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(*args), capture_output=True, text=True, timeout=120)


class Gate:
    """A page that answers at once until ``close()``, then waits for ``open()``."""

    def __init__(self) -> None:
        self.asked, self.release = threading.Event(), threading.Event()
        self.release.set()

    def close(self) -> None:
        self.asked.clear()
        self.release.clear()

    def __call__(self, request: Request) -> Reply:
        self.asked.set()
        self.release.wait(60)
        return Reply(body=policy(title="gate"))


class LaggingCache:
    """A page behind a cache that answers 304 to any conditional request (whatever
    validators it names) and the page's current body, with its ETag, to the others."""

    def __init__(self) -> None:
        self.body, self.etag = policy(title="doc"), '"v1"'

    def __call__(self, request: Request) -> Reply:
        if "If-None-Match" in request.headers:
            return Reply(status=304, headers={"ETag": self.etag})
        return Reply(body=self.body, headers={"ETag": self.etag})


@contextmanager
def recorder(data: Path) -> Iterator[partial[object]]:
    """Another process's check of some documents (the daemon's writer, as it records)."""
    settings = FetchSettings(timeout=10, retries=0, host_delay=0)
    with make_client(settings) as client:
        store = Store(data)
        yield partial(sweep, store, Fetcher(client, settings), hold=partial(data_lock, data, 10))


# -- 1. a 304 answering the validators of an older version -------------------------------------
def test_a_304_to_validators_older_than_the_recorded_version_claims_nothing(
    tmp_path: Path,
) -> None:
    # Before: a `check` chose the validators to send when its sweep began; the daemon
    # recorded a newer version (v2, ETag "v2") before this check's turn for the page came;
    # the 304 that answered the older "v1" was read as "unchanged (v2, 304)": v2 seen
    # again on the strength of an answer about v1.
    data = tmp_path / "data"
    gate, doc = Gate(), LaggingCache()
    with LocalServer() as server:
        server.handle("/gate", gate)
        server.handle("/doc", doc)
        urls = {"gate": server.url("/gate"), "doc": server.url("/doc")}
        wl = write_watchlist(tmp_path / "w.yaml", urls)
        first = run("check", "--watchlist", str(wl), "--data", str(data), "--delay", "0")
        assert first.returncode == 0, first
        gate.close()  # the next check's sweep waits on the gate before it asks for /doc
        check = subprocess.Popen(
            cli("check", "--watchlist", str(wl), "--data", str(data), "--delay", "0"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert gate.asked.wait(60), check.stderr
            doc.body, doc.etag = policy(title="doc", extra="<li>We train AI.</li>"), '"v2"'
            with recorder(data) as other:  # a whole fetch: v2 and its ETag recorded
                whole = Policy(full_fetch_every=timedelta(0))
                (outcome,) = other([Watch("doc", "Example", "doc policy", urls["doc"])],
                                   policy=whole)  # fmt: skip
            assert outcome.status == "changed", outcome
            seen = rows(data / "monitor.db", "select last_seen from versions where number = 2")
            gate.release.set()
            out, err = check.communicate(timeout=60)
        finally:
            gate.release.set()
            reap(check)
        db = data / "monitor.db"
        assert rows(db, "select last_seen from versions where number = 2") == seen  # not again
        again = run("check", "--watchlist", str(wl), "--data", str(data), "--delay", "0")
        sent = [r.headers.get("If-None-Match") for r in server.requests("/doc")]
    assert again.returncode == 0, again
    assert sent == [None, None, '"v1"', '"v2"'], sent  # the stale 304 answered "v1"
    assert check.returncode == 0 and "Traceback" not in err, (out, err)
    (line,) = [x for x in out.splitlines() if x.startswith("doc:")]
    assert line.startswith("doc: not compared: the server answered 304 Not Modified to "), line
    assert "v2" in line and "the next check compares it" in line, line
    assert rows(db, "select result, state, version from fetches where document = 'doc' "
                    "order by id desc limit 2") == [("not-modified", "unchanged", 2),
                                                    ("not-modified", "stale", None)]  # fmt: skip
    assert rows(db, "select consecutive_failures from documents where id = 'doc'") == [(0,)]
    assert "doc: unchanged (v2, 304)" in again.stdout, again  # re-checked with "v2"


# -- 3. a cron check and the daemon fetching one page at once ----------------------------------
def test_a_cron_check_leaves_a_page_the_daemon_is_fetching_to_it(tmp_path: Path) -> None:
    # Before: a cron `check` and the daemon each fetched the page (two requests to the
    # host at once, two observations recorded one after the other), the daemon's slow
    # fetch doubled by the check's.
    data, log = tmp_path / "data", tmp_path / "daemon.log"
    slow = Gate()
    slow.close()
    with LocalServer() as server, LocalServer() as other:  # two hosts: 127.0.0.1 and localhost
        server.handle("/slow", slow)
        other.route("/fast", body=policy(title="fast"))
        fast = other.url("/fast").replace("127.0.0.1", "localhost")
        wl = write_watchlist(tmp_path / "w.yaml", {"slow": server.url("/slow"), "fast": fast})
        with log.open("w") as sink:
            daemon = subprocess.Popen(daemon_command(wl, data), stderr=sink)
        try:
            assert slow.asked.wait(60), log.read_text()
            assert wait_for(lambda: "document=fast" in log.read_text(), 60), log.read_text()
            done = run("check", "--watchlist", str(wl), "--data", str(data), "--delay", "0",
                       "--timeout", "5", "--retries", "0")  # fmt: skip
            hits = server.hits("/slow")
            slow.release.set()
            assert wait_for(lambda: "document=slow" in log.read_text(), 60), log.read_text()
            stop(daemon)
        finally:
            slow.release.set()
            reap(daemon)
    assert hits == 1, f"{hits} requests for the page at once"
    assert done.returncode == 0 and "Traceback" not in done.stderr, done
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("slow:")]
    held = f"slow: skipped: being fetched by another process (pid {daemon.pid} on "
    assert line.startswith(held) and ": daemon, fetching since 20" in line, line
    assert "fast: unchanged (v1)" in done.stdout, done.stdout
    assert "document=slow status=first" in log.read_text(), log.read_text()


# -- 2. a stopped cron check -------------------------------------------------------------------
@pytest.mark.parametrize("feeds", ["writable", "a file"])
def test_a_stopped_cron_check_writes_the_feeds_of_what_it_recorded_and_its_lock_record_goes(
    tmp_path: Path, feeds: str
) -> None:
    # Before: SIGTERM ended a `check` at once with os._exit: `data/locks/check.json` (who
    # holds the check lock) stayed behind naming a dead process, and the feeds were left
    # to the next run, hours later under cron: the change it had recorded was in no feed.
    data = tmp_path / "data"
    slow = Gate()
    slow.close()
    with LocalServer() as server, LocalServer() as other:
        server.handle("/slow", slow)
        other.route("/fast", body=policy(title="fast"))
        fast = other.url("/fast").replace("127.0.0.1", "localhost")
        wl = write_watchlist(tmp_path / "w.yaml", {"slow": server.url("/slow"), "fast": fast})
        first = run("check", "--watchlist", str(wl), "--data", str(data), "--only", "fast")
        assert first.returncode == 0, first
        if feeds == "a file":  # the feeds cannot be written: the line says why, in one line
            shutil.rmtree(data / "feeds")
            (data / "feeds").write_text("not a folder")
        other.route("/fast", body=policy(title="fast", extra="<li>We train AI models.</li>"))
        check = subprocess.Popen(
            cli("check", "--watchlist", str(wl), "--data", str(data), "--timeout", "60"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert slow.asked.wait(60), check.stderr
            assert wait_for(lambda: changes(data) == 1, 30)  # the change of `fast` is recorded
            check.send_signal(signal.SIGTERM)
            out, err = check.communicate(timeout=60)
        finally:
            slow.release.set()
            reap(check)
    assert check.returncode == 143, (out, err)
    (line,) = err.splitlines()
    assert not (data / "locks" / "check.json").exists()
    if feeds == "a file":
        assert line.startswith("check stopped by SIGTERM: each document recorded is kept whole, "
                               "the others are checked by the next run; the feeds were not "
                               "written ("), line  # fmt: skip
        assert line.endswith("): the next run writes them"), line
        return
    assert line == ("check stopped by SIGTERM: each document recorded is kept whole, and in "
                    "the feeds; the others are checked by the next run"), line  # fmt: skip
    feed = (data / "feeds" / "document" / "fast.rss").read_text()
    assert "fast" in feed and "<item>" in feed, feed


def changes(data: Path) -> int:
    try:
        return int(rows(data / "monitor.db", "select count(*) from changes")[0][0])  # type: ignore[call-overload]
    except sqlite3.Error:
        return 0


# -- 4. a failure, an alert and a recovery -----------------------------------------------------
def test_check_quiet_prints_the_alert_and_the_recovery_not_every_transient_failure(
    tmp_path: Path,
) -> None:
    # Before: `check --quiet` printed `failed: ...` on every failed check: cron mailed the
    # first transient 503, and every run (every 6 hours) for a page that stayed down; no
    # line told the alert (the failure that reached --alert-after) from the others.
    data = tmp_path / "data"
    with LocalServer() as server:
        server.route("/down", status=503)
        server.route("/up", body=policy(title="up"))
        wl = write_watchlist(tmp_path / "w.yaml", {"down": server.url("/down"),
                                                   "up": server.url("/up")})  # fmt: skip
        args = ("check", "--quiet", "--watchlist", str(wl), "--data", str(data), "--delay", "0",
                "--retries", "0", "--alert-after", "2")  # fmt: skip
        said = [run(*args) for _ in range(3)]
        server.route("/down", body=policy(title="down"))
        said.append(run(*args))
        server.route("/down", status=503)  # down again: with --logfmt, not --quiet
        logged = run(*args[:1], *args[2:-2], "--logfmt", "--alert-after", "1")
    assert [s.returncode for s in said] == [1, 1, 1, 0], said
    assert all(s.stderr == "" for s in said), said
    first, alert, still, back = (s.stdout.splitlines() for s in said)
    assert first == [] and still == [], (first, still)  # a blip, and an alert already given
    (line,) = alert
    assert line.startswith("down: ALERT: monitoring failing: 2 checks in a row failed since "), line
    assert "(--alert-after 2): server error (HTTP 503" in line, line
    assert line.endswith("; `status` and the operations feed show it until it recovers"), line
    assert back == ["down: recovered: monitoring works again after 3 failed checks in a row"]
    lines = [x for x in logged.stdout.splitlines() if "document=down" in x]
    assert len(lines) == 2 and lines[0].startswith("level=WARNING document=down status=failed"), (
        lines
    )
    assert re.fullmatch(r'level=ERROR document=down event=failing failures=1 since=\S+ '
                        r'message="monitoring failing: [^"]+"', lines[1]), lines  # fmt: skip


def test_the_daemon_logs_one_line_when_a_document_starts_failing_and_when_it_recovers(
    tmp_path: Path,
) -> None:
    # Before: the daemon logged the same `status=failed` line for the first transient
    # failure and for the one that raised the alert: a log alert could not tell them apart.
    data, log = tmp_path / "data", tmp_path / "daemon.log"
    with LocalServer() as server:
        server.route("/down", status=503)
        wl = write_watchlist(tmp_path / "w.yaml", {"down": server.url("/down")})
        with log.open("w") as sink:  # a 6 h interval every second
            options = ("--speed", "21600", "--retries", "0", "--alert-after", "2")
            daemon = subprocess.Popen(daemon_command(wl, data, *options), stderr=sink)
        try:
            assert wait_for(lambda: "event=failing" in log.read_text(), 60), log.read_text()
            server.route("/down", body=policy(title="down"))
            assert wait_for(lambda: "event=recovered" in log.read_text(), 60), log.read_text()
            stop(daemon)
        finally:
            reap(daemon)
    lines = [x.split(" ", 1)[1] for x in log.read_text().splitlines() if "document=down" in x]
    failed = [x for x in lines if "status=failed" in x]
    (failing,) = [x for x in lines if "event=failing" in x]
    (recovered,) = [x for x in lines if "event=recovered" in x]
    assert lines.index(failing) == lines.index(failed[1]) + 1, lines  # right after the 2nd
    assert re.fullmatch(r'level=ERROR document=down event=failing failures=2 since=\S+ '
                        r'message="monitoring failing: 2 checks in a row failed since [^"]+"',
                        failing), failing  # fmt: skip
    assert recovered.startswith("level=INFO document=down event=recovered failures="), recovered


# -- 5. a quarantined page, looked at -----------------------------------------------------------
def test_a_quarantined_page_can_be_listed_and_read_without_sql(tmp_path: Path) -> None:
    # Before: a login wall's raw bytes were stored with the failed attempt, but no command
    # showed them (`history` lists versions, `evidence` wants a change): to see what the
    # site sent instead of the policy, an operator queried SQLite and decompressed zstd.
    data = tmp_path / "data"
    with LocalServer() as server:
        server.route("/help", body=WALL)
        server.route("/ok", body=policy())
        wl = write_watchlist(tmp_path / "w.yaml", {"help": server.url("/help"),
                                                   "ok": server.url("/ok")})  # fmt: skip
        checked = run("check", "--watchlist", str(wl), "--data", str(data), "--delay", "0")
    assert "help: quarantined, not recorded: looks like a login wall" in checked.stdout, checked
    listing = run("held", "--data", str(data))
    one = run("held", "help", "--data", str(data))
    none = run("held", "ok", "--data", str(data))
    assert (listing.returncode, listing.stderr) == (0, ""), listing
    assert one.stdout == listing.stdout and none.returncode == 0, (one, none)
    assert none.stdout == "ok: no response held back\n", none.stdout
    lines = listing.stdout.splitlines()
    digest = hashlib.sha256(WALL).hexdigest()
    assert lines[0] == "1 response(s) held back (newest first; `held --fetch N` shows one):"
    (row,) = lines[1:]
    found = re.fullmatch(r"#(\d+) (\S+) help quarantined snapshot ([0-9a-f]{16}) \((\d+) bytes\)"
                         r" HTTP 200: looks like a login wall or error page .*", row)  # fmt: skip
    assert found, row
    fetch_id, when, short, size = found.groups()
    assert (short, int(size)) == (digest[:16], len(WALL)), row
    assert (
        when
        == rows(data / "monitor.db", f"select started_at from fetches where id = {fetch_id}")[0][0]
    )
    shown = run("held", "--fetch", fetch_id, "--data", str(data))
    assert shown.returncode == 0, shown
    assert f"raw snapshot: sha256 {digest}, {len(WALL)} bytes, text/html" in shown.stdout, shown
    assert f"fetched: {when}" in shown.stdout and "Log in to continue" in shown.stdout, shown
    raw = subprocess.run(cli("held", "--fetch", fetch_id, "--raw", "--data", str(data)),
                         capture_output=True, timeout=60)  # fmt: skip
    assert raw.stdout == WALL, raw
    wrong = run("held", "--fetch", "99999", "--data", str(data))
    assert wrong.returncode == 2 and "fetch #99999 is not a response held back" in wrong.stderr
