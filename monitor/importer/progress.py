"""Progress of a long import: a bar with the rate and time left on a terminal, one logfmt
line per step otherwise (cron mail, a log file)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.importer.run import Report
from monitor.importer.steps import Step

Write = Callable[[str], None]
BAR = 30


@dataclass
class Progress:
    """Called after each step (a :data:`monitor.importer.run.Tick`)."""

    total: int
    write: Write
    tty: bool = False
    clock: Callable[[], float] = time.monotonic
    _start: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._start = self.clock()

    def __call__(self, report: Report, step: Step, status: str) -> None:
        done = report.steps
        elapsed = max(self.clock() - self._start, 1e-6)
        rate = done / elapsed
        left = (self.total - done) / rate if rate else 0.0
        if self.tty:
            filled = BAR * done // max(self.total, 1)
            bar = "#" * filled + "-" * (BAR - filled)
            end = "\n" if done >= self.total else ""
            self.write(f"\r{report.document} [{bar}] {done}/{self.total} {rate:.1f}/s "
                       f"{_duration(left)} left, {report.changes} change(s){end}")  # fmt: skip
            return
        level = "WARN" if status == "failed" else "INFO"  # a step the archive could not give
        self.write(f"level={level} document={report.document} archive={report.archive} "
                   f"step={done}/{self.total} ref={_value(step.ref[:60])} status={status} "
                   f"at={step.at.isoformat(timespec='seconds')} rate={rate:.1f}/s "
                   f"eta={left:.0f}s\n")  # fmt: skip


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _value(text: str) -> str:
    """A logfmt value: quoted when it holds spaces, quotes or an equals sign (file names)."""
    if text and not any(c in text for c in ' "=\\'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
