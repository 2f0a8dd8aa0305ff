"""Reading a local archive ahead of the import (issue 14: importing every history in seconds).

Extraction is most of a step's CPU and a pure function of the bytes, so while this process
records step i, worker processes extract the texts of the next steps. This process reads
the archive (in order, never under the data directory's lock: the reads happen between two
steps) and is the only one to write the store, in the order of the steps; a worker only
turns bytes into text, and the text it gives is the one the step's extractor would give
(the same function, the same arguments). Only for archives on this machine (OTA folders and
repositories, snapshot folders): a Wayback capture is fetched when its step comes, politely.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from functools import partial
from types import TracebackType

from monitor.check.observe import Extractor
from monitor.errors import ArchiveError, ExtractError, FetchError
from monitor.importer.steps import Body, Step
from monitor.models import Watch
from monitor.store import sha256

# Steps read ahead per worker: enough to keep every worker busy while this process records,
# few enough that the bodies held (a snapshot is up to a few MB) stay small.
AHEAD_PER_WORKER = 4
# Fewer steps to import than this: no workers (starting them costs more than they save).
MIN_STEPS = 8

Extracted = tuple[bool, str]  # (True, text) or (False, the ExtractError's message)
Key = tuple[str, str]  # the body's sha256 and its content type


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

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def ahead(
        self, steps: Iterable[Step], watch: Watch, extractor: Extractor,
        wanted: Callable[[Step], bool],
    ) -> tuple[Iterator[Step], Extractor]:  # fmt: skip
        """The steps, each already read when the import asks for it (``wanted`` ones only:
        a step recorded by an earlier run is not read again), and the extractor giving the
        texts the workers extracted."""
        steps = list(steps)
        if self.jobs < 1 or sum(map(wanted, steps)) < MIN_STEPS:
            return iter(steps), extractor
        reader = _Reader(self._start(), watch, extractor)
        window = AHEAD_PER_WORKER * self.jobs
        return _read_ahead(steps, wanted, reader.read_step, window), reader.extractor()

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_quiet)
        return self._pool


class _Reader:
    """Reads steps and hands their bodies to the workers; gives back what they extracted."""

    def __init__(self, pool: ProcessPoolExecutor, watch: Watch, extractor: Extractor) -> None:
        self.pool, self.watch, self.base = pool, watch, extractor
        self.pending: dict[Key, Future[Extracted]] = {}
        self.sent: set[Key] = set()  # a body sent once is not sent again (variants recur)

    def read_step(self, step: Step) -> Step:
        """The step, read now: its ``load`` gives back the body (or the archive's error)."""
        try:
            body = step.load()
        except (ArchiveError, FetchError) as exc:
            return replace(step, load=partial(_raise, exc))
        key = (sha256(body.data), body.content_type)
        if key not in self.sent:
            self.sent.add(key)
            select, remove = self.watch.select, self.watch.remove
            self.pending[key] = self.pool.submit(_extract, self.base, body.data, key[1],
                                                 select, remove)  # fmt: skip
        return replace(step, load=partial(_given, body))

    def extractor(self) -> Extractor:
        return Extractor(version=self.base.version, read=self.read)

    def read(self, body: bytes, kind: str, select: tuple[str, ...], remove: tuple[str, ...]) -> str:
        found = None
        if (select, remove) == (self.watch.select, self.watch.remove):
            found = self.pending.pop((sha256(body), kind), None)
        if found is None:  # not read ahead (a re-read, another content type): here
            return self.base.text(body, kind, select, remove)
        try:
            ok, value = found.result()
        except BrokenProcessPool:  # a worker died (out of memory?): this process reads it
            return self.base.text(body, kind, select, remove)
        if not ok:
            raise ExtractError(value)
        return value


def _read_ahead(
    steps: list[Step], wanted: Callable[[Step], bool], read: Callable[[Step], Step], window: int
) -> Iterator[Step]:
    """The steps in order, the wanted ones read up to ``window`` steps before they are asked
    for."""
    queue: deque[Step] = deque()
    upcoming = iter(steps)
    for step in upcoming:
        queue.append(read(step) if wanted(step) else step)
        if len(queue) > window:
            yield queue.popleft()
    yield from queue


def _extract(
    extractor: Extractor, body: bytes, kind: str, select: tuple[str, ...], remove: tuple[str, ...]
) -> Extracted:
    """In a worker: the step's text, or why there is none."""
    try:
        return True, extractor.text(body, kind, select, remove)
    except ExtractError as exc:
        return False, str(exc)


def _quiet() -> None:
    """A worker leaves Ctrl-C to the importing process, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _given(body: Body) -> Body:
    return body


def _raise(exc: Exception) -> Body:
    raise exc
