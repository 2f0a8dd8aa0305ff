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
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from monitor.check.decide import Policy
from monitor.check.observe import Extractor
from monitor.check.pipeline import check_document, utcnow, validators_to_send
from monitor.check.sources import Browser, browser_for, fetch_one
from monitor.errors import FetchError, MonitorError
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.lock import daemon_lock, data_lock
from monitor.models import CheckOutcome, FetchResult, Validators, Watch
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.schedule import Job, run_forever
from monitor.store import Store, opened
from monitor.views import log_fields

log = logging.getLogger("policy-monitor")
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
    """Checks each document on its own interval until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=logging.INFO,
        format="time=%(asctime)s level=%(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
    with daemon_lock(settings.data_dir):
        _prepare(watches, settings)  # a database it cannot use stops it here, in one line
        with ExitStack() as stack:
            browser = stack.enter_context(browser_for(watches, settings.fetch.user_agent))
            if browser.fetcher is None and any(w.fetcher != "http" for w in watches):
                log.warning('event=no-browser reason="%s"', browser.problem)
            client = stack.enter_context(make_client(settings.fetch))
            checker = Checker(settings, Fetcher(client, settings.fetch), browser)
            checker.watched = frozenset(w.id for w in watches)  # feeds of others go
            jobs = [Job(w.id, w.interval / settings.speed, checker.job(w)) for w in watches]
            log.info('event=start documents=%d data="%s"', len(jobs), settings.data_dir)
            run_forever(jobs, on_stop=checker.stop)
            if checker.stuck():
                stack.pop_all()  # closing the client or browser would wait for the stuck fetch
    if checker.stuck():
        # What remains are fetches (they hold only a socket; the interpreter would wait
        # for them at exit) and at worst a write that outlived STOP_GRACE, which SQLite
        # rolls back as the process ends: a transaction is all or nothing.
        log.info("event=stop abandoned_fetches=%d", checker.stuck())
        logging.shutdown()
        os._exit(0)
    log.info("event=stop")


def _prepare(watches: list[Watch], settings: DaemonSettings) -> None:
    """Creates or upgrades the database and records the watchlist, before any fetch."""
    with data_lock(settings.data_dir, settings.wait), opened(settings.data_dir) as store:
        store.sync_documents(watches, utcnow())


class HostQueue:
    """One check at a time per host, ``delay`` s apart, each host in one worker thread.

    A check whose host is busy is queued (once) and its worker returns at once: a host
    that hangs holds one of the scheduler's threads, never all of them, however many
    documents it has, so the other hosts keep their schedule.
    """

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._guard = threading.Lock()
        self._queued: dict[str, list[tuple[str, Callable[[], None]]]] = {}  # busy hosts
        self._last: dict[str, float] = {}

    def run(self, url: str, key: str, task: Callable[[], None]) -> None:
        host = (urlsplit(url).hostname or url).lower()
        with self._guard:
            if host in self._queued:  # its thread runs this after the checks before it
                if all(queued != key for queued, _ in self._queued[host]):
                    self._queued[host].append((key, task))
                return
            self._queued[host] = []
        next_task: Callable[[], None] | None = task
        while next_task is not None:
            self._take_turn(host, next_task)
            with self._guard:
                if self._queued[host]:
                    next_task = self._queued[host].pop(0)[1]
                else:
                    del self._queued[host]
                    next_task = None

    def _take_turn(self, host: str, task: Callable[[], None]) -> None:
        pause = self._last.get(host, float("-inf")) + self._delay - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        try:
            task()
        finally:
            self._last[host] = time.monotonic()


class Checker:
    """Checks one document at a time per call; shared by the scheduler's threads."""

    def __init__(self, settings: DaemonSettings, fetcher: Fetcher, browser: Browser) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._browser = browser
        # --speed compresses the pauses between two fetches from a host like the timetable
        self._hosts = HostQueue(settings.fetch.host_delay / settings.speed)
        self._writing = threading.Lock()  # held while a result is recorded
        self._stopping = threading.Event()
        self._running: set[str] = set()
        self._running_lock = threading.Lock()
        self._policy = settings.policy
        self._extractor = settings.extractor
        self.watched: frozenset[str] | None = None  # the watchlist's ids (None: all recorded)

    def job(self, watch: Watch) -> Callable[[], None]:
        return lambda: self._hosts.run(watch.url, watch.id, lambda: self.run(watch))

    def run(self, watch: Watch) -> None:
        started = time.monotonic()
        with self._running_lock:
            self._running.add(watch.id)
        try:
            outcome = self._check(watch)
        except MonitorError as exc:  # the database or its lock: one line, the next run retries
            outcome = CheckOutcome(watch.id, "failed", f"not recorded: {exc}")
        except Exception:  # a daemon must outlive any one bad check; the log says why
            log.exception("document=%s status=crashed", watch.id)
            return
        finally:
            with self._running_lock:
                self._running.discard(watch.id)
        if outcome is not None:
            level = logging.WARNING if outcome.status in ("failed", "quarantined") else logging.INFO
            log.log(level, "%s", log_fields(outcome, time.monotonic() - started))

    def stop(self) -> None:
        """Starts no further write and waits up to STOP_GRACE s for the one in progress."""
        self._stopping.set()
        if self._writing.acquire(timeout=STOP_GRACE):
            return  # held from now on: no thread records anything after this
        log.warning("event=stop-timeout seconds=%g a write is still in progress", STOP_GRACE)

    def stuck(self) -> int:
        """Checks still running (fetching) after a stop."""
        with self._running_lock:
            return len(self._running)

    def _check(self, watch: Watch) -> CheckOutcome | None:
        if self._stopping.is_set():
            return None
        sent = self._validators(watch)
        result = fetch_one(self._fetcher, self._browser, watch, sent, self._extractor.text)
        return self._record(watch, result)

    def _validators(self, watch: Watch) -> Validators:
        """The validators to send, as a sweep chooses them; reads need no lock."""
        with opened(self._settings.data_dir, read_only=True) as store:
            return validators_to_send(store, watch.id, utcnow(), self._policy)

    def _record(self, watch: Watch, result: FetchResult | FetchError) -> CheckOutcome | None:
        settings = self._settings
        with self._writing:
            if self._stopping.is_set():
                return None  # stopping: this document is checked again on the next start
            with data_lock(settings.data_dir, settings.wait), opened(settings.data_dir) as store:
                store.sync_documents([watch], utcnow())
                outcome = check_document(store, watch, result, policy=self._policy,
                                         extractor=self._extractor)  # fmt: skip
                self._publish(store, watch)
                return outcome

    def _publish(self, store: Store, watch: Watch) -> None:
        """Writes the feeds (a no-op if nothing is new); the check is recorded either way,
        so a folder it cannot write is one line, and the next check writes them."""
        try:
            write_feeds(store, self._settings.data_dir, self._settings.feed, self.watched)
        except (OSError, MonitorError) as exc:
            problem = str(exc).replace('"', "'")
            log.warning('document=%s event=not-published message="feeds not written: %s; '
                        'the next check writes them"', watch.id, problem)  # fmt: skip
