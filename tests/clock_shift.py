"""Runs the CLI in a process whose wall clock the test can set back or forward.

``python -m tests.clock_shift OFFSET_FILE ARGS...``: every reading of the wall clock
(``time.time``, ``datetime.now`` / ``utcnow`` in every module, APScheduler's included)
is the real one plus the seconds written in OFFSET_FILE (read again on each reading, so
the test moves the clock while the daemon runs, as `date -s` would). The monotonic clock
is left alone, as the kernel leaves it when the system time is set.
"""

from __future__ import annotations

import datetime as _datetime_module
import sys
import time
from pathlib import Path

_real_time = time.time
_RealDateTime = _datetime_module.datetime


def _offset(path: Path = Path(sys.argv[1])) -> float:
    try:
        return float(path.read_text() or 0)
    except (OSError, ValueError):
        return 0.0


class ShiftedDateTime(_RealDateTime):
    @classmethod
    def now(cls, tz: _datetime_module.tzinfo | None = None) -> ShiftedDateTime:
        return cls.fromtimestamp(time.time(), tz)

    @classmethod
    def utcnow(cls) -> ShiftedDateTime:
        return cls.fromtimestamp(time.time(), _datetime_module.UTC).replace(tzinfo=None)


def main() -> None:
    time.time = lambda: _real_time() + _offset()
    _datetime_module.datetime = ShiftedDateTime  # type: ignore[misc]
    sys.argv = ["policy-monitor", *sys.argv[2:]]
    from monitor.cli import main as cli_main  # imported after the patch: it sees this clock

    cli_main(sys.argv[1:])


if __name__ == "__main__":
    main()
