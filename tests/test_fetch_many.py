"""fetch_concurrently holds few fetched bodies and stops cleanly (issue 15).

The fetch function is a plain function standing in for the network (what it returns is
the test's own data, not a result of ours): the queue between fetch workers and a slow
consumer is bounded, and a consumer that stops early leaves no worker blocked.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from monitor.fetch.many import fetch_concurrently, fetch_in_batches
from monitor.models import FetchResult, Validators, Watch

WATCHES = [Watch(f"d{i}", "C", "T", f"http://h{i % 20}.test/{i}") for i in range(200)]
NOW = datetime(2026, 11, 1, tzinfo=UTC)
JOBS = [(w, Validators()) for w in WATCHES]


def test_a_slow_consumer_holds_at_most_a_few_fetched_bodies() -> None:
    fetched, lock = [0], threading.Lock()

    def fetch(watch: Watch, validators: Validators) -> FetchResult:
        with lock:
            fetched[0] += 1
        return FetchResult(watch.url, watch.url, 200, (), b"x" * 1000, "text/html", NOW, 0.0)

    workers, most_ahead, consumed = 8, 0, 0
    for _ in fetch_concurrently(fetch, JOBS, workers, 0.0, time.sleep):
        consumed += 1
        time.sleep(0.002)  # the store and the extractor take their time
        with lock:
            most_ahead = max(most_ahead, fetched[0] - consumed)
    assert consumed == len(JOBS)
    # in the queue (workers) + one being put by each worker: never the whole watchlist
    assert most_ahead <= 2 * workers + 1, most_ahead


def test_a_consumer_that_stops_early_leaves_no_worker_waiting() -> None:
    def fetch(watch: Watch, validators: Validators) -> FetchResult:
        return FetchResult(watch.url, watch.url, 200, (), b"x", "text/html", NOW, 0.0)

    before = threading.active_count()
    outcomes = fetch_concurrently(fetch, JOBS, 8, 0.0, time.sleep)
    start = time.monotonic()
    for count, _ in enumerate(outcomes):
        if count == 3:
            break
    outcomes.close()  # what leaving the sweep does: the generator's finally runs
    assert time.monotonic() - start < 5
    assert threading.active_count() <= before


def test_batches_hold_what_is_ready_and_never_wait_for_a_running_fetch() -> None:
    release = threading.Event()
    slow = Watch("slow", "C", "T", "http://slow.test/1")

    def fetch(watch: Watch, validators: Validators) -> FetchResult:
        if watch is slow:
            assert release.wait(10), "the consumer never got the fast host's pages"
        return FetchResult(watch.url, watch.url, 304, (), b"", "text/html", NOW, 0.0, True)

    jobs = [*JOBS, (slow, Validators())]
    seen: list[str] = []
    for batch in fetch_in_batches(fetch, jobs, 8, 0.0, time.sleep, most=16):
        assert 1 <= len(batch) <= 16
        seen += [w.id for w, _ in batch]
        if len(seen) == len(JOBS):  # every other host done while one fetch still runs
            release.set()
    assert sorted(seen) == sorted(w.id for w, _ in jobs)
