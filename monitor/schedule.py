"""The daemon's timetable, on APScheduler 3 (the only module importing it).

Each document gets an interval job with jitter, so a fleet of monitors does not hit a
site at the same second. ``max_instances=1`` and ``coalesce=True`` keep a slow check
from overlapping with itself or piling up missed runs after a suspend.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

JITTER_FRACTION = 0.1
MAX_JITTER_SECONDS = 600


@dataclass(frozen=True)
class Job:
    name: str
    interval: float  # seconds
    run: Callable[[], None]


def run_forever(jobs: Sequence[Job], first_run: datetime | None = None) -> None:
    """Runs the jobs (first at ``first_run``, default now) until SIGTERM or SIGINT.

    One worker thread: the checks share one database and a data-directory lock, so
    running them in parallel would only make them wait for each other.
    """
    scheduler = BlockingScheduler(executors={"default": ThreadPoolExecutor(max_workers=1)})
    for job in jobs:
        jitter = min(job.interval * JITTER_FRACTION, MAX_JITTER_SECONDS)
        scheduler.add_job(
            job.run,
            IntervalTrigger(seconds=job.interval, jitter=int(jitter) or None),
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=first_run or datetime.now(UTC),
        )

    def stop(signum: int, frame: FrameType | None) -> None:
        # wait=False: the scheduler's own shutdown still lets the running check finish
        # its transaction before the worker thread exits with the process.
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
