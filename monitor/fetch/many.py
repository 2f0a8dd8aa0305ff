"""Fetching many documents at once, but never two at once from the same host."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from monitor.errors import FetchError
from monitor.models import FetchResult, Validators, Watch

Job = tuple[Watch, Validators]
Outcome = tuple[Watch, FetchResult | FetchError]
FetchOne = Callable[[Watch, Validators], FetchResult]


def fetch_concurrently(
    fetch: FetchOne,
    jobs: Sequence[Job],
    max_workers: int,
    host_delay: float,
    sleep: Callable[[float], None],
) -> Iterator[Outcome]:
    """Runs ``fetch`` on every job, one host per worker, pausing ``host_delay`` between
    two requests to the same host; yields each outcome as it completes."""
    for batch in fetch_in_batches(fetch, jobs, max_workers, host_delay, sleep, most=1):
        yield from batch


def fetch_in_batches(
    fetch: FetchOne,
    jobs: Sequence[Job],
    max_workers: int,
    host_delay: float,
    sleep: Callable[[float], None],
    most: int,
) -> Iterator[list[Outcome]]:
    """As :func:`fetch_concurrently`, but yields the outcomes completed by then (at most
    ``most``) as soon as one is: the consumer may record them together, never waiting
    for a fetch still running."""
    groups = _group_by_host(jobs)
    if not groups:
        return
    workers = max(1, min(max_workers, len(groups)))
    # Bounded: a worker waits while the consumer (which stores and reads each page) is
    # behind, so at most this many fetched bodies are held in memory at once.
    done: queue.Queue[Outcome | None] = queue.Queue(maxsize=workers)
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")

    def put(item: Outcome | None) -> None:
        while not stop.is_set():  # a consumer that stopped early reads nothing more
            try:
                done.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def run(group: list[Job]) -> None:
        try:
            for index, (watch, validators) in enumerate(group):
                if stop.is_set():
                    return
                if index and host_delay > 0:
                    sleep(host_delay)
                try:
                    outcome: FetchResult | FetchError = fetch(watch, validators)
                except FetchError as err:
                    outcome = err
                put((watch, outcome))
        finally:
            put(None)

    try:
        futures = [pool.submit(run, group) for group in groups]
        running = len(futures)
        while running:
            batch, ended = _ready(done, most)
            running -= ended
            if batch:
                yield batch
        for future in futures:
            future.result()  # a bug in a worker surfaces here instead of vanishing
    except BaseException as exc:  # the consumer stopped early, or a stop signal came here
        stop.set()  # no further fetches; those under way end before a consumer's close
        # returns, but a signal (a cron check's SIGTERM) does not wait for a slow host
        pool.shutdown(wait=isinstance(exc, GeneratorExit), cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _ready(done: queue.Queue[Outcome | None], most: int) -> tuple[list[Outcome], int]:
    """The next outcome (waiting for it) and those already queued behind it, up to
    ``most``; and how many workers said they were done (None) meanwhile."""
    batch: list[Outcome] = []
    ended = 0
    item = done.get()
    while True:
        if item is None:
            ended += 1
        else:
            batch.append(item)
        if len(batch) >= most:
            return batch, ended
        try:
            item = done.get_nowait()
        except queue.Empty:
            return batch, ended


def _group_by_host(jobs: Sequence[Job]) -> list[list[Job]]:
    groups: dict[str, list[Job]] = {}
    for watch, validators in jobs:
        groups.setdefault(host_of(watch.url), []).append((watch, validators))
    # Longest queues first, so the slowest host does not start last.
    return sorted(groups.values(), key=len, reverse=True)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or url).lower()
    except ValueError:
        return url
