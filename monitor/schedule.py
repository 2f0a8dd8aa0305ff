"""The daemon's timetable, on APScheduler 3 (the only module importing it).

Each document gets an interval job with jitter, so a fleet of monitors does not hit a
site at the same second. ``max_instances=1`` and ``coalesce=True`` keep a slow check
from overlapping with itself or piling up missed runs after a suspend. APScheduler waits
for wall-clock times, so a step of the wall clock back (``date -s``, a wrong NTP answer)
would stop every check for as long as the step: the main thread watches the wall clock
against the monotonic one and moves the jobs' next run times back with it.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor as Pool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from urllib.parse import urlsplit

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

# One line per check is ours to log (monitor/daemon.py); APScheduler's per-run lines are noise.
logging.getLogger("apscheduler").setLevel(logging.WARNING)
SKIPPED = "maximum number of running instances reached"
logging.getLogger("httpx").setLevel(logging.WARNING)
JITTER_FRACTION = 0.1
MAX_JITTER_SECONDS = 600
WORKERS = 4  # threads that start jobs (the daemon's jobs only queue a check: see HostQueue)
FETCHERS = 4  # hosts fetched from at once; a hanging host holds one of them
CLOCK_LOOK = 1.0  # seconds between two looks at the wall clock
CLOCK_JUMP = 5.0  # seconds the wall clock may step against the monotonic one unremarked
log = logging.getLogger("policy-monitor")


class OneLine(logging.Filter):
    """APScheduler's own lines as one logfmt line each: a run skipped because the last one
    still runs names its document (``event=skipped``), any other says what it said
    (``event=scheduler``), its first line only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if SKIPPED in str(record.msg) and isinstance(record.args, tuple) and record.args:
            name = getattr(record.args[0], "id", record.args[0])
            record.msg = 'event=skipped document=%s message="%s"'
            record.args = (name, "its last check had not ended when this one was due: "
                           "skipped, the next one runs on time")  # fmt: skip
        else:
            text = (record.getMessage().strip().splitlines() or [""])[0]
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            record.msg, record.args = 'event=scheduler message="%s"', (_quoted(text),)
        record.exc_info, record.exc_text = None, None
        return True


def _quoted(text: str) -> str:
    return " ".join(text.split()).replace('"', "'")


for _name in ("apscheduler.scheduler", "apscheduler.executors.default"):
    logging.getLogger(_name).addFilter(OneLine())


class SkipMissed(IntervalTrigger):  # type: ignore[misc]  # APScheduler 3 has no types
    """An interval trigger that steps over the runs a jump of the clock forward (or a
    suspend) missed: APScheduler walks them one by one before the one run it coalesces
    them into, under its lock (a year of 1-minute runs is a second of CPU per job, of
    1-second runs over a minute, during which nothing runs and SIGTERM waits)."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None and previous_fire_time + self.interval < now:
            previous_fire_time = now - self.interval  # the next run is now
        next_time: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        return next_time


@dataclass(frozen=True)
class Job:
    name: str
    interval: float  # seconds
    run: Callable[[], None]


def run_forever(
    jobs: Sequence[Job],
    first_run: datetime | None = None,
    workers: int = WORKERS,
    on_stop: Callable[[], None] = lambda: None,
) -> None:
    """Runs the jobs (first at ``first_run``, default now) until SIGTERM or SIGINT (a
    SIGHUP is logged and ignored).

    Jobs run in ``workers`` threads, so one slow document does not hold up the others
    (the jobs serialise their own writes). On a signal the scheduler stops starting jobs,
    ``on_stop`` runs (to let a write in progress finish), and this returns without
    waiting for running jobs: a fetch stuck on a silent server must not delay the stop.
    """
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(workers)})
    for job in jobs:
        jitter = min(job.interval * JITTER_FRACTION, MAX_JITTER_SECONDS)
        scheduler.add_job(
            job.run,
            SkipMissed(seconds=job.interval, jitter=int(jitter) or None),
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=first_run or datetime.now(UTC),
        )

    stopping, hung_up = threading.Event(), threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        # Only flag it here: a signal handler interrupts whatever the main thread was doing
        # (an exception, as monitor/signals.py raises for a block, could land inside
        # APScheduler's own code). Not a block either: these stay for the rest of the
        # daemon's block (the command's signals_raise), so a second SIGTERM during the stop
        # is flagged again, not a StartupStop in the middle of the clean-up.
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # SIGHUP (sent to reload, or by a closing terminal) killed the daemon without a word
    signal.signal(signal.SIGHUP, lambda signum, frame: hung_up.set())
    scheduler.start()
    offset = time.time() - time.monotonic()
    while not stopping.wait(CLOCK_LOOK):
        offset = _follow_clock(scheduler, offset)
        if hung_up.is_set():
            hung_up.clear()
            log.warning('event=hup message="SIGHUP ignored: the watchlist and options are '
                        'read at start; restart the daemon to apply an edit"')  # fmt: skip
    scheduler.shutdown(wait=False)
    on_stop()


def _follow_clock(scheduler: BackgroundScheduler, offset: float) -> float:
    """Moves the next run times back by a step of the wall clock back; the new offset.

    A step forward needs nothing: the jobs it made overdue run once (``coalesce``), which
    is also right after a suspend (the monotonic clock stops while the machine sleeps).
    """
    now = time.time() - time.monotonic()
    step = now - offset
    if step > CLOCK_JUMP:
        log.info("event=clock-jump seconds=%d the wall clock moved forward (or the machine "
                 "slept): checks now due run once", step)  # fmt: skip
    elif step < -CLOCK_JUMP:
        log.warning("event=clock-jump seconds=%d the wall clock went back: each check keeps "
                    "its interval", step)  # fmt: skip
        for job in scheduler.get_jobs():
            if job.next_run_time is not None:
                scheduler.modify_job(
                    job.id, next_run_time=job.next_run_time + timedelta(seconds=step)
                )
    return now


class HostQueue:
    """Runs tasks one at a time per host, ``delay`` s apart, in a pool of ``workers``.

    A host's tasks wait in its own queue, drained by one pool thread at a time, so a host
    that hangs holds one thread however many documents it has, and the other hosts keep
    their schedule (a task waiting for its host in a thread held them all up).
    """

    def __init__(self, delay: float, workers: int) -> None:
        self._delay = delay
        self._pool = Pool(workers, thread_name_prefix="host")
        self._guard = threading.Lock()
        self._queues: dict[str, deque[Callable[[], None]]] = {}  # the hosts with work
        self._last: dict[str, float] = {}

    def put(self, url: str, task: Callable[[], None]) -> None:
        host = (urlsplit(url).hostname or url).lower()
        with self._guard:
            if host in self._queues:
                self._queues[host].append(task)
                return
            self._queues[host] = deque([task])
        self._pool.submit(self._drain, host)

    def _drain(self, host: str) -> None:
        while True:
            with self._guard:
                if not self._queues[host]:
                    del self._queues[host]
                    return
                task = self._queues[host].popleft()
            pause = self._last.get(host, float("-inf")) + self._delay - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                task()
            except Exception:  # the task logs its own failures; the queue must go on
                log.exception("event=host-queue host=%s", host)
            finally:
                self._last[host] = time.monotonic()
