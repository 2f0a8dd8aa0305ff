"""Reading an archive's steps ahead of an import, in chunks sent to the worker processes,
and taking back their texts, diffs and verdicts (see monitor/importer/ahead.py)."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from functools import partial

from monitor.check.observe import Extractor, text_key
from monitor.classify import remember as remember_verdict
from monitor.diff import Lengths, remember
from monitor.errors import ArchiveError, ExtractError, FetchError
from monitor.importer.steps import Body, Step
from monitor.importer.work import Done, Extracted, Item, Key, Made, Pairing, make_pair, work_chunk
from monitor.models import Classification, Watch
from monitor.store import sha256

# Steps per chunk (one job of a worker: its texts, and the diff of each with the one before).
CHUNK = 8
# Pairs of texts whose diff and verdict came back last, that a worker is told not to make
# again (a history flipping between two variants has the same pair in many chunks, each
# sent to either worker). Well under what this process remembers of both (1024 diffs in
# monitor/diff.py, 256 verdicts in monitor/classify): a pair skipped is still known here.
KNOWN_PAIRS = 128
# Seconds the importing process waits for a chunk it needs: past it the workers are taken
# as hung (stopped, deadlocked), ended, and this process reads the rest itself. A chunk
# takes well under a second (extraction and diffs have their own bounds); this is slack
# for a loaded machine.
WORKER_DEADLINE = 120.0


class Reader:
    """Reads steps, sends them to the workers in chunks, takes back their texts and diffs."""

    def __init__(
        self, pool: ProcessPoolExecutor, watch: Watch, extractor: Extractor, raw: Extractor,
        abandon: Callable[[], None],
    ) -> None:  # fmt: skip
        self.pool: ProcessPoolExecutor | None = pool
        self.watch, self.base, self.raw, self.abandon = watch, extractor, raw, abandon
        self.batch: list[Item] = []
        self.context: Item | None = None  # the step before the batch
        # Each chunk sent: its keys, its job, the pairs it makes, the pair across it and the
        # chunk before when it went without that context (see send)
        self.chunks: deque[tuple[set[Key], Future[Done], set[Pairing], Pairing | None]] = deque()
        self.across: dict[Pairing, Future[Made]] = {}  # pairs across two chunks, being made
        self.texts: dict[Key, Extracted] = {}
        self.known: OrderedDict[Pairing, None] = OrderedDict()  # see KNOWN_PAIRS
        self.pending: set[Pairing] = set()  # pairs a chunk sent and not taken back will make
        self.then: Callable[[], None] | None = None  # run once every step was read
        self.read_all = False

    def read_step(self, step: Step) -> Step:
        """The step, read now: its ``load`` gives back the body (or the archive's error)."""
        try:
            body = step.load()
        except (ArchiveError, FetchError) as exc:
            return replace(step, load=partial(_raise, exc))
        key = (sha256(body.data), body.content_type)
        # A body whose text came back already (variants recur) is sent as its text.
        self.batch.append((key, self.texts.get(key) or body.data))
        if len(self.batch) == CHUNK:
            self.send()
        self.take(None)
        return replace(step, load=partial(_given, body))

    def send(self) -> None:
        """The batch to a worker, with the step before it when its text came back already
        (it starts the diffs); else the worker would extract that text a second time (the
        last of the chunk before, still being read by the other worker: a tenth of the
        extractions): the pair across the two chunks is sent once both texts are back."""
        if not self.batch or self.pool is None:
            self.batch = []
            return
        self.take(None)
        context = self._context()
        select, remove = self.watch.select, self.watch.remove
        items = context + self.batch
        pairs = {(a, b) for (a, _), (b, _) in zip(items, items[1:], strict=False) if a != b}
        # Pairs whose diff came back, or will with an earlier chunk: not made again.
        skip = {pair for pair in pairs if pair in self.known or pair in self.pending}
        try:
            job = self.pool.submit(work_chunk, self.raw, context, self.batch, select, remove, skip)
        except BrokenProcessPool:  # a worker died: this process reads the rest
            self._give_up()
            return
        self.pending |= pairs - skip
        across = None if context or self.context is None else (self.context[0], self.batch[0][0])
        self.chunks.append(({key for key, _ in self.batch}, job, pairs - skip, across))
        self.context, self.batch = self.batch[-1], []

    def _context(self) -> list[Item]:
        if self.context is None:
            return []
        key, body = self.context
        text = body if isinstance(body, tuple) else self.texts.get(key)
        return [] if text is None else [(key, text)]

    def _give_up(self) -> None:
        """No more work ahead: the workers are ended, this process reads every step left."""
        self.pool, self.batch = None, []
        self.chunks.clear()
        self.pending.clear()
        self.across.clear()
        self.abandon()

    def take(self, key: Key | None) -> None:
        """Takes in the finished chunks, in order; with ``key``, waits for the first chunk
        holding it (if one does: else only the finished ones)."""
        wait = key is not None and any(key in keys for keys, _, _, _ in self.chunks)
        while self.chunks:
            keys, job, mine, across = self.chunks[0]
            if not wait and not job.done():
                return
            try:
                texts, pairs, rules = job.result(timeout=WORKER_DEADLINE)
            except (BrokenProcessPool, WaitedTooLong):  # a worker died (out of memory?) or hung
                self._give_up()
                return
            self.chunks.popleft()
            self.pending -= mine
            self.texts.update(texts)
            for old, new, lengths, verdict in pairs:
                self._remember((old, new), lengths, verdict, rules)
            if across is not None:
                self._send_across(across)
            if wait and key in keys:
                return

    def _remember(
        self, pair: Pairing, lengths: Lengths | None, verdict: Classification, rules: str
    ) -> None:
        """A pair's diff and verdict made by a worker, as this process's own."""
        old, new = self.texts.get(pair[0], (False, "")), self.texts.get(pair[1], (False, ""))
        if old[0] and new[0]:
            if lengths is not None:
                remember(old[1], new[1], lengths)
                self._known(pair)
            remember_verdict(old[1], new[1], verdict, rules)

    def _send_across(self, pair: Pairing) -> None:
        """The diff and verdict of two texts from two chunks, to a worker (unless known)."""
        old, new = self.texts.get(pair[0]), self.texts.get(pair[1])
        if self.pool is None or pair in self.known or pair in self.pending or pair in self.across:
            return
        if not (old and new and old[0] and new[0]) or text_key(old[1]) == text_key(new[1]):
            return
        try:
            self.across[pair] = self.pool.submit(make_pair, old[1], new[1])
        except BrokenProcessPool:
            self._give_up()
            return
        self.pending.add(pair)

    def take_across(self, key: Key) -> None:
        """Takes in the pairs across two chunks that are made; waits for those ending at
        ``key`` (the step this process reads now: it diffs that pair next)."""
        for pair, job in list(self.across.items()):
            if pair[1] != key and not job.done():
                continue
            try:
                lengths, verdict, rules = job.result(timeout=WORKER_DEADLINE)
            except (BrokenProcessPool, WaitedTooLong):
                self._give_up()
                return
            del self.across[pair]
            self.pending.discard(pair)
            self._remember(pair, lengths, verdict, rules)

    def _known(self, pair: Pairing) -> None:
        self.known[pair] = None
        self.known.move_to_end(pair)
        if len(self.known) > KNOWN_PAIRS:
            self.known.popitem(last=False)

    def extractor(self) -> Extractor:
        return Extractor(version=self.base.version, read=self.read)

    def read(self, body: bytes, kind: str, select: tuple[str, ...], remove: tuple[str, ...]) -> str:
        found = None
        if (select, remove) == (self.watch.select, self.watch.remove):
            key = (sha256(body), kind)
            self.take(key)
            self.take_across(key)
            found = self.texts.get(key)
        if found is None:  # not read ahead (a re-read, another content type): here
            return self.base.text(body, kind, select, remove)
        ok, value = found
        if not ok:
            raise ExtractError(value)
        return value


def read_ahead(
    steps: list[Step], wanted: Callable[[Step], bool], reader: Reader, window: int
) -> Iterator[Step]:
    """The steps in order, the wanted ones read up to ``window`` steps before they are asked
    for."""
    queue: deque[Step] = deque()
    for step in steps:
        queue.append(reader.read_step(step) if wanted(step) else step)
        if len(queue) > window:
            yield queue.popleft()
    reader.send()
    reader.read_all = True
    then, reader.then = reader.then, None
    if then is not None:
        then()
    yield from queue


def _given(body: Body) -> Body:
    return body


def _raise(exc: Exception) -> Body:
    raise exc
