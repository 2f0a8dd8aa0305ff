"""The long-lived daemon: one scheduled check per document, under the data lock.

It logs one line per document per check (logfmt: ``key=value`` pairs, easy to grep and
to ship to a log collector), at INFO for results and WARNING for failures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.check.pipeline import ALERT_AFTER, Browser, browser_for, sweep
from monitor.fetch.http import Fetcher, FetchSettings, make_client
from monitor.lock import data_lock
from monitor.models import CheckOutcome, Watch
from monitor.publish.feed import FeedSettings
from monitor.publish.write import write_feeds
from monitor.schedule import Job, run_forever
from monitor.store import Store
from monitor.views import log_fields

log = logging.getLogger("policy-monitor")


@dataclass(frozen=True)
class DaemonSettings:
    data_dir: str
    wait: float = 600.0
    speed: float = 1.0  # >1 runs the timetable faster (tests, demos): 6 h / 3600 = 6 s
    alert_after: int = ALERT_AFTER
    fetch: FetchSettings = field(default_factory=FetchSettings)
    feed: FeedSettings = field(default_factory=FeedSettings)


def run_daemon(watches: list[Watch], settings: DaemonSettings) -> None:
    """Checks each document on its own interval until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=logging.INFO,
        format="time=%(asctime)s level=%(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
    # One browser for the daemon's life: Chromium takes a second or two to start.
    with browser_for(watches, settings.fetch.user_agent) as browser:
        if browser.fetcher is None and any(w.fetcher != "http" for w in watches):
            log.warning('event=no-browser reason="%s"', browser.problem)
        jobs = [
            Job(w.id, w.interval / settings.speed, _checker(w, settings, browser)) for w in watches
        ]
        log.info('event=start documents=%d data="%s"', len(jobs), settings.data_dir)
        run_forever(jobs)
    log.info("event=stop")


def _checker(watch: Watch, settings: DaemonSettings, browser: Browser) -> Callable[[], None]:
    def run() -> None:
        started = time.monotonic()
        try:
            outcome = _check(watch, settings, browser)
        except Exception:  # a daemon must outlive any one bad check; the log says why
            log.exception("document=%s status=crashed", watch.id)
            return
        level = logging.WARNING if outcome.status == "failed" else logging.INFO
        log.log(level, "%s", log_fields(outcome, time.monotonic() - started))

    return run


def _check(watch: Watch, settings: DaemonSettings, browser: Browser) -> CheckOutcome:
    with data_lock(settings.data_dir, settings.wait):
        store = Store(settings.data_dir)

        try:
            with make_client(settings.fetch) as client:
                fetcher = Fetcher(client, settings.fetch)
                (outcome,) = sweep(
                    store, fetcher, [watch], alert_after=settings.alert_after, browser=browser
                )
            write_feeds(store, settings.data_dir, settings.feed)  # a no-op when nothing is new
        finally:
            store.close()
    return outcome
