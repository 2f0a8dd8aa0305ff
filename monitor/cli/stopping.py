"""How a command asked to stop (SIGTERM, Ctrl-C) ends: in bounded time, whatever it was in.

A stopped `check` or import keeps what it recorded (each step or batch is one
transaction), writes the feeds of it within STOP_PUBLISH_SECONDS, says so in one line and
ends with ``os._exit``: the ordinary exit would wait for threads and child processes
(a pool's manager thread, a queue's feeder, a fetch waiting for a slow host) that a
stop may have caught in any state. Once, an import stopped by SIGTERM was still running
a minute later (issue 14); a service manager's stop (systemd: 90 s) outlasts this.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from typing import NoReturn

import click

# Seconds a stopped command gives itself to write the feeds of what it recorded (the data
# lock's wait included).
STOP_PUBLISH_SECONDS = 10.0


class _Late(BaseException):
    """The deadline of a stopped command's feeds passed (SIGALRM)."""


def publish_in_time(
    data_dir: str, wait: float, publish: Callable[[], object],
    stops: tuple[type[BaseException], ...],
) -> str:  # fmt: skip
    """The feeds of what a stopped command recorded, within STOP_PUBLISH_SECONDS (the data
    lock's wait included): "" when written, else why not. A second stop (one of ``stops``),
    or the deadline, ends it at once: each file is replaced whole, the stamp last, so the
    next run finds what is missing."""
    from monitor.errors import MonitorError
    from monitor.lock import data_lock
    from monitor.signals import signals_raise

    started = time.monotonic()
    with signals_raise(_Late, signal.SIGALRM):
        signal.setitimer(signal.ITIMER_REAL, STOP_PUBLISH_SECONDS)
        try:
            with data_lock(data_dir, min(wait, STOP_PUBLISH_SECONDS)):
                publish()
            return ""
        except _Late:
            return f"they took over {STOP_PUBLISH_SECONDS:g} s"
        except stops as again:
            return f"stopped again by {again} after {time.monotonic() - started:.1f} s"
        except (OSError, MonitorError) as exc:
            return str(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def end_now(lines: Iterable[str], code: int, forget: Callable[[], None] | None = None) -> NoReturn:
    """Prints ``lines`` on stderr, runs ``forget`` (removes the records of the locks this
    process holds: the locks themselves go with it) and ends the process at once."""
    for line in lines:
        click.echo(line, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if forget is not None:
        forget()
    os._exit(code)
