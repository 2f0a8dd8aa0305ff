"""The long-lived daemon: one scheduled check per document, under the data lock."""

from __future__ import annotations

import logging
from collections.abc import Callable

from monitor.feed import FeedSettings
from monitor.fetch import Fetcher, FetchSettings, make_client
from monitor.lock import data_lock
from monitor.models import Watch
from monitor.pipeline import sweep
from monitor.publish import write_feeds
from monitor.schedule import Job, run_forever
from monitor.store import Store

log = logging.getLogger("policy-monitor")


def run_daemon(watches: list[Watch], data_dir: str, wait: float) -> None:
    """Checks each document on its own interval until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    jobs = [Job(w.id, w.interval, _checker(w, data_dir, wait)) for w in watches]
    log.info("daemon started: %d document(s), data in %s", len(jobs), data_dir)
    run_forever(jobs)
    log.info("daemon stopped")


def _checker(watch: Watch, data_dir: str, wait: float) -> Callable[[], None]:
    def run() -> None:
        try:
            with data_lock(data_dir, wait):
                store = Store(data_dir)
                try:
                    with make_client(FetchSettings()) as client:
                        (outcome,) = sweep(store, Fetcher(client, FetchSettings()), [watch])
                    write_feeds(store, data_dir, FeedSettings())
                finally:
                    store.close()
        except Exception:  # a daemon must outlive any one bad check; the log says why
            log.exception("%s: check crashed", watch.id)
            return
        level = logging.WARNING if outcome.status == "failed" else logging.INFO
        log.log(level, "%s: %s", watch.id, outcome.message)

    return run
