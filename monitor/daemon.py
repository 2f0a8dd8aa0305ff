"""The long-lived daemon: one scheduled check per document.

A check fetches *outside* the data lock, in one of a few worker threads (one check at a
time per host, ``host_delay`` apart, each host's queue in one thread), then takes the lock
only to record the result (store, extract, diff, classify, feeds), so a stuck or slow
host delays nobody but its own documents, and a cron ``check`` waits only for a write,
never for a fetch. A daemon holds the daemon lock for its life: a second one on the same
data directory refuses to start.

It logs one line per document per check (logfmt: ``key=value`` pairs, easy to grep and
to ship to a log collector), at INFO for results and WARNING for failures.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from monitor.check.crash import crashed, unexpected
from monitor.check.decide import Policy
from monitor.check.observe import Extractor
from monitor.check.pipeline import check_document, utcnow, validators_to_send
from monitor.check.sources import Browser, browser_for, fetch_one
from monitor.claims import Claims
from monitor.errors import FetchError, MonitorError
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.lock import daemon_lock, data_lock
from monitor.models import CheckOutcome, FetchResult, Validators, Watch
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.schedule import FETCHERS, HostQueue, Job, run_forever
from monitor.store import DB_NAME, Store, opened
from monitor.views import alert, log_fields, pointed_to_held

log = logging.getLogger("policy-monitor")
NEXT = "the next check tries again"
STOP_GRACE = 3.0  # seconds a stop waits for a write in progress (a transaction: atomic)


@dataclass(frozen=True)
class DaemonSettings:
    data_dir: str
    wait: float = 600.0
    speed: float = 1.0  # >1 runs the timetable faster (tests, demos): 6 h / 3600 = 6 s
    policy: Policy = field(default_factory=Policy)  # alert threshold, whole fetches, A/B
    extractor: Extractor = field(default_factory=Extractor)  # with its page limits
    fetch: FetchSettings = field(default_factory=FetchSettings)
    feed: FeedSettings = field(default_factory=FeedSettings)


def run_daemon(watches: list[Watch], settings: DaemonSettings) -> None:
    """Checks each document on its own interval until SIGTERM or SIGINT (logging is the
    caller's: see monitor/daemonlog.py)."""
    with daemon_lock(settings.data_dir):
        _prepare(watches, settings)  # a database it cannot use stops it here, in one line
        with ExitStack() as stack:
            browser = stack.enter_context(browser_for(watches, settings.fetch.user_agent))
            if browser.fetcher is None and any(w.fetcher != "http" for w in watches):
                log.warning('event=no-browser reason="%s"', browser.problem)
            client = stack.enter_context(make_client(settings.fetch))
            checker = Checker(settings, Fetcher(client, settings.fetch), browser)
            checker.watched = frozenset(w.id for w in watches)  # feeds of others go
            checker.tidy_claims()
            jobs = [Job(w.id, w.interval / settings.speed, checker.job(w)) for w in watches]
            log.info('event=start documents=%d data="%s"', len(jobs), settings.data_dir)
            run_forever(jobs, on_stop=checker.stop)
            # Closing the client or browser would wait for a stuck fetch: they are left
            # open, and kept referenced, or the garbage collector would close them anyway
            # (a generator's context manager closes on collection: Chromium waited out
            # the page it was rendering).
            abandoned = checker.stuck()
            left_open = stack.pop_all() if abandoned else None
    if left_open is not None:
        # What remains are fetches (they hold only a socket; the interpreter would wait
        # for them at exit) and at worst a write that outlived STOP_GRACE, which SQLite
        # rolls back as the process ends: a transaction is all or nothing.
        log.info("event=stop abandoned_fetches=%d", abandoned)
        logging.shutdown()
        os._exit(0)
    log.info("event=stop")


def _prepare(watches: list[Watch], settings: DaemonSettings) -> None:
    """Creates or upgrades the database and records the watchlist, before any fetch."""
    with data_lock(settings.data_dir, settings.wait), opened(settings.data_dir) as store:
        store.sync_documents(watches, utcnow())


class Checker:
    """Fetches in the host queues' threads, records in one writer thread, logs each check.

    A document is checked once at a time: a run due while its last check is still queued,
    fetching or waiting to be recorded is skipped (as APScheduler's ``max_instances=1``
    did when a run was one job). The writer records while the hosts fetch the next pages.
    """

    def __init__(self, settings: DaemonSettings, fetcher: Fetcher, browser: Browser) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._browser = browser
        # --speed compresses the pauses between two fetches from a host like the timetable
        self._hosts = HostQueue(settings.fetch.host_delay / settings.speed, FETCHERS)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="writer")
        self._writing = threading.Lock()  # held while a result is recorded
        self._stopping = threading.Event()
        self._pending: set[str] = set()  # queued, fetching or waiting to be recorded
        self._running: set[str] = set()  # fetching or waiting to be recorded
        self._running_lock = threading.Lock()
        self._policy = settings.policy
        self._extractor = settings.extractor
        self.watched: frozenset[str] | None = None  # the watchlist's ids (None: all recorded)
        # A document a cron `check` fetches now is left to it (monitor/claims.py)
        self._claims = Claims(settings.data_dir, "daemon")

    def tidy_claims(self) -> None:
        """Claim files of documents no longer watched, that nobody holds, go."""
        self._claims.tidy(self.watched or frozenset())

    def job(self, watch: Watch) -> Callable[[], None]:
        return lambda: self.run(watch)

    def run(self, watch: Watch) -> None:
        """Reads what to send and queues the fetch on its host's queue (then returns)."""
        with self._running_lock:
            if watch.id in self._pending:
                return
            self._pending.add(watch.id)
        started = time.monotonic()
        try:  # read here, in parallel: the host's turn is for its fetch alone
            sent = self._validators(watch)
        except Exception as exc:  # noqa: BLE001 - logged in one line by _log
            self._log(watch, started, exc)
            return self._done(watch.id)
        self._hosts.put(watch.url, lambda: self._fetch(watch, sent, started))
        return None

    def stop(self) -> None:
        """Starts no further write and waits up to STOP_GRACE s for the one in progress."""
        self._stopping.set()
        if self._writing.acquire(timeout=STOP_GRACE):
            return  # held from now on: no thread records anything after this
        log.warning("event=stop-timeout seconds=%g a write is still in progress", STOP_GRACE)

    def stuck(self) -> int:
        """Checks still fetching, or fetched and not recorded, after a stop."""
        with self._running_lock:
            return len(self._running)

    def _fetch(self, watch: Watch, sent: Validators, started: float) -> None:
        """A check's fetch, in its host's turn; the result goes to the writer."""
        with self._running_lock:  # before looking at the flag: stuck() counts it from here
            self._running.add(watch.id)
        if self._stopping.is_set():
            return self._done(watch.id)
        busy = self._claims.take(watch.id)  # released by _done, once recorded
        if busy is not None:
            message = f"skipped: being fetched by another process ({busy}), which records it"
            log.info('document=%s event=busy message="%s"', watch.id, message)
            return self._done(watch.id)
        try:
            result = fetch_one(self._fetcher, self._browser, watch, sent, self._extractor.text)
        except Exception as exc:  # noqa: BLE001 - logged in one line by _log
            self._log(watch, started, exc)
            return self._done(watch.id)
        self._writer.submit(self._finish, watch, result, started)
        return None

    def _finish(self, watch: Watch, result: FetchResult | FetchError, started: float) -> None:
        """Records and logs a fetched page in the write turn: a stop, once it has the turn,
        finds every check logged and done, or not begun (checked again on the next start)."""
        if not self._write_turn():
            return self._done(watch.id)
        try:
            try:
                outcome: CheckOutcome | Exception = self._record(watch, result)
            except Exception as exc:  # noqa: BLE001 - logged in one line by _log
                outcome = exc
            self._done(watch.id)
            self._log(watch, started, outcome)
        finally:
            self._writing.release()
        return None

    def _write_turn(self) -> bool:
        """Takes the write turn; False when stopping (stop() keeps it once it has it)."""
        while not self._writing.acquire(timeout=0.5):
            if self._stopping.is_set():
                return False
        if self._stopping.is_set():
            self._writing.release()
            return False
        return True

    def _done(self, doc_id: str) -> None:
        self._claims.release(doc_id)  # a no-op when this check did not claim it
        with self._running_lock:
            self._pending.discard(doc_id)
            self._running.discard(doc_id)

    def _log(self, watch: Watch, started: float, outcome: CheckOutcome | Exception | None) -> None:
        level = logging.WARNING
        if isinstance(outcome, Exception) and unexpected(outcome):  # a bug: the daemon goes on
            outcome = crashed(watch.id, outcome, self._settings.data_dir, NEXT)
            level = logging.ERROR
        elif isinstance(outcome, Exception):  # the database, its lock, the disk: retried
            outcome = CheckOutcome(watch.id, "failed", f"not recorded: {outcome}")
        if outcome is not None:
            outcome = pointed_to_held(outcome, self._settings.data_dir)
            if outcome.status not in ("failed", "quarantined"):
                level = logging.INFO
            log.log(level, "%s", log_fields(outcome, time.monotonic() - started))
            crossed = alert(outcome, self._policy.alert_after)  # the alert, or the recovery
            if crossed is not None:
                failing = outcome.health == "failing"
                log.log(logging.ERROR if failing else logging.INFO, "%s", crossed[1])

    def _validators(self, watch: Watch) -> Validators:
        """The validators to send, as a sweep chooses them; reads need no lock."""
        self._database_present()
        with opened(self._settings.data_dir, read_only=True) as store:
            return validators_to_send(store, watch.id, utcnow(), self._policy)

    def _record(self, watch: Watch, result: FetchResult | FetchError) -> CheckOutcome:
        settings = self._settings
        self._database_present()  # before the lock, which would make the folder again
        with data_lock(settings.data_dir, settings.wait):
            self._database_present()  # and after its wait, in which it may have gone
            with opened(settings.data_dir) as store:
                return self._apply(store, watch, result)

    def _apply(self, store: Store, watch: Watch, result: FetchResult | FetchError) -> CheckOutcome:
        store.sync_documents([watch], utcnow())
        outcome = check_document(store, watch, result, policy=self._policy,
                                 extractor=self._extractor)  # fmt: skip
        self._publish(store, watch)
        return outcome

    def _database_present(self) -> None:
        """MonitorError when the database this daemon made at start is gone: a history
        begun anew in its place (or in an unmounted disk's mount point) would hide it."""
        database = Path(self._settings.data_dir) / DB_NAME
        if not database.exists():
            raise MonitorError(f"the database {database} is gone (moved, deleted, or its "
                               "disk unmounted?): nothing is recorded until it is back; "
                               "restore it, or restart the daemon to begin a new one")  # fmt: skip

    def _publish(self, store: Store, watch: Watch) -> None:
        """Writes the feeds (a no-op if nothing is new); the check is recorded either way,
        so a folder it cannot write is one line, and the next check writes them."""
        try:
            write_feeds(store, self._settings.data_dir, self._settings.feed, self.watched)
        except (OSError, MonitorError) as exc:
            problem = str(exc).replace('"', "'")
            log.warning('document=%s event=not-published message="feeds not written: %s; '
                        'the next check writes them"', watch.id, problem)  # fmt: skip
