"""Reading a local archive ahead of the import (issue 14: importing every history in seconds).

Extracting texts, diffing and classifying consecutive ones are most of a step's CPU and
pure functions of the bytes, so while this process records step i, worker processes work
on the next steps in chunks: each worker extracts a chunk's texts, diffs each text with
the one before it (the pair a change of that step compares) and classifies the pair. This
process reads the archive (in order, never under the data directory's lock: the reads
happen between two steps) and is the only one to write the store, in the order of the
steps; it takes a worker's text as the step's text (the same extractor, the same
arguments), its diffs as its own (monitor/diff.py's :func:`remember`) and its verdicts
(monitor/classify's, under the same rules), and does itself whatever was not done ahead (a
diff with a text held as suspect, a re-read). Only for archives on this machine (OTA
folders and repositories, snapshot folders): a Wayback capture is fetched when its step
comes, politely.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

from monitor.check.observe import Extractor
from monitor.importer import reader
from monitor.importer.reader import CHUNK, Reader, read_ahead
from monitor.importer.steps import Step
from monitor.importer.work import quiet
from monitor.models import Watch

# Chunks read ahead per worker: every worker stays busy while this process records, and the
# bodies held (a snapshot is up to a few MB) stay few.
CHUNKS_PER_WORKER = 2
# Fewer steps to import than this: no workers (starting them costs more than they save),
# unless they were started for an earlier history of the same command.
MIN_STEPS = 2 * CHUNK

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Workers:
    """Worker processes extracting texts for the imports of one command (started on the
    first history long enough to need them, ended with the command)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        # Run when the history being imported has had all its steps read (see following)
        self._then: Callable[[], None] | None = None
        self._next: _Started | None = None  # the next history, read ahead (see prefetch)

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:  # interrupted (Ctrl-C, SIGTERM) or failed: no chunk is needed
            self.abandon()
        elif self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abandon(self) -> None:
        """Ends the workers at once (one died, or hung): a later history starts new ones."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor has no public way to end a hung worker before Python 3.14.
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def ahead(
        self, steps: Iterable[Step], watch: Watch, extractor: Extractor, raw: Extractor,
        wanted: Callable[[Step], bool],
    ) -> tuple[Iterator[Step], Extractor]:  # fmt: skip
        """The steps, each already read when the import asks for it (``wanted`` ones only:
        a step recorded by an earlier run is not read again), and an extractor giving the
        texts the workers extracted (else ``extractor``'s). ``raw`` is what the workers run:
        ``extractor`` without this process's memory."""
        steps = list(steps)
        then, self._then = self._then, None
        started = self._prefetched(steps, watch, raw, wanted)
        if started is not None:
            started.reader.base = extractor
            if started.reader.read_all and then is not None:
                then()  # a short history: read whole already
            started.reader.then = then
            return started.steps, started.reader.extractor()
        count = sum(map(wanted, steps))
        # A short history is read here, unless the workers run already (for an earlier one).
        if self.jobs < 1 or raw.read is not None or count < (1 if self.started else MIN_STEPS):
            return iter(steps), extractor
        reader = Reader(self._start(), watch, extractor, raw, self.abandon)
        reader.then = then
        return read_ahead(steps, wanted, reader, self._window()), reader.extractor()

    def following(self, then: Callable[[], None]) -> None:
        """``then`` is run once the next history given to :meth:`ahead` has had all its
        steps read and sent (its last steps are still being recorded): a command importing
        several histories reads the one after there (:meth:`prefetch`), so the workers are
        not idle while this process records the last steps of a history, nor this process
        while they read the first chunks of the next one."""
        self._then = then

    def prefetch(
        self, steps: list[Step], watch: Watch, raw: Extractor, wanted: Callable[[Step], bool]
    ) -> None:
        """Starts reading ``steps`` (the next history of the command) ahead: its first
        chunks go to the workers now; :meth:`ahead` takes them for the same steps, watch,
        extractor and wanted ones (else they are dropped, and the steps read again)."""
        if self._pool is None or raw.read is not None or not any(map(wanted, steps)):
            return
        reader = Reader(self._pool, watch, raw, raw, self.abandon)
        flow = read_ahead(steps, wanted, reader, self._window())
        first = next(flow)  # reads up to a window of steps, sending their chunks
        ahead = itertools.chain([first], flow)
        self._next = _Started(watch, raw, _signature(steps, wanted), ahead, reader)

    def _prefetched(
        self, steps: list[Step], watch: Watch, raw: Extractor, wanted: Callable[[Step], bool]
    ) -> _Started | None:
        """The history read ahead by :meth:`prefetch`, if it is this one."""
        started, self._next = self._next, None
        if started is None or started.reader.pool is None or started.reader.pool is not self._pool:
            return None
        same = (started.watch, started.raw) == (watch, raw)
        return started if same and started.signature == _signature(steps, wanted) else None

    def _window(self) -> int:
        return CHUNK * CHUNKS_PER_WORKER * self.jobs

    def map(self, function: Callable[[T], R], items: list[T]) -> list[R]:
        """``function`` of each item, in order, in the workers when they run (a command's
        last work, e.g. its change pages: the workers are idle by then), else here."""
        if self._pool is None or len(items) < 2:
            return list(map(function, items))
        size = max(1, len(items) // (4 * self.jobs))
        try:
            return list(
                self._pool.map(function, items, chunksize=size, timeout=reader.WORKER_DEADLINE)
            )
        except (BrokenProcessPool, WaitedTooLong):  # a worker died or hung: here
            self.abandon()
            return list(map(function, items))

    @property
    def started(self) -> bool:
        """Whether a history was long enough to start the workers."""
        return self._pool is not None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=context, initializer=quiet,
                                             initargs=(os.getpid(),))  # fmt: skip
        return self._pool


def _signature(steps: list[Step], wanted: Callable[[Step], bool]) -> list[tuple[str, bool]]:
    return [(step.ref, wanted(step)) for step in steps]


@dataclass
class _Started:
    """A history whose first steps were read and sent before its import began."""

    watch: Watch
    raw: Extractor
    signature: list[tuple[str, bool]]
    steps: Iterator[Step]
    reader: Reader
