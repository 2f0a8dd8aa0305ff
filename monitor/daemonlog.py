"""The daemon's log and its start-up stop: what an operator sees of a long-lived process.

Log lines go through a bounded queue to one writer thread, so a stderr nobody reads (a
pager paused, a full pipe to a stuck log shipper) never holds up a check: the thread that
logs only queues its line. When the queue is full, lines are dropped and counted, and
one ``event=log-dropped n=N`` line says so once the writer can write again. The writer
writes with ``os.write`` on its own copy of the descriptor (no Python lock held while
it waits: the interpreter can always exit); at exit it gets ``DRAIN`` seconds to write
what is queued.

A SIGTERM or SIGINT before the scheduler takes the signals over (imports, the data lock,
a migration, Chromium's launch) raises ``StartupStop`` (the daemon command runs in
monitor/signals.py's ``signals_raise(StartupStop, ...)``): the daemon logs
``event=stop during=start-up`` and exits 0, as a stop once running does.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import warnings
from pathlib import Path
from typing import TextIO

QUEUE_LINES = 256  # lines waiting for the writer (past a pipe's 64 KB); then dropped, counted
DRAIN = 2.0  # seconds the exit waits for queued lines (a pipe nobody reads gets no more)
FORMAT = "time=%(asctime)s level=%(levelname)s %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
LOGGER = "policy-monitor"


class StartupStop(BaseException):  # noqa: N818 - a stop asked for, like KeyboardInterrupt
    """SIGTERM or SIGINT during start-up (a BaseException: no ``except Exception`` takes it)."""


class QueuedLines(logging.Handler):
    """Formats a record in the thread that logs it, queues the line, never waits."""

    def __init__(self, fd: int, size: int = QUEUE_LINES) -> None:
        super().__init__()
        self._fd = os.dup(fd)  # its own copy: closing or replacing sys.stderr leaves it
        self._lines: queue.Queue[bytes | None] = queue.Queue(size)
        self._dropped = 0
        self._count_lock = threading.Lock()
        self._drained = threading.Event()
        threading.Thread(target=self._write_all, name="log", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
            self._lines.put_nowait(line)
        except queue.Full:
            with self._count_lock:
                self._dropped += 1
        except Exception:  # noqa: BLE001 - a record that does not format: logging's way
            self.handleError(record)

    def close(self) -> None:
        """Waits up to ``DRAIN`` s for the queued lines (logging.shutdown calls it at exit)."""
        deadline = time.monotonic() + DRAIN
        try:
            self._lines.put(None, timeout=DRAIN)  # all lines before it are written first
            self._drained.wait(max(0.0, deadline - time.monotonic()))
        except queue.Full:  # a pipe nobody reads: the rest is lost, the exit is not held
            pass
        super().close()

    def _write_all(self) -> None:
        while (line := self._lines.get()) is not None:
            if not self._write(line):
                self._count(1)
                continue
            with self._count_lock:
                dropped, self._dropped = self._dropped, 0
            if dropped and not self._write(self._dropped_line(dropped)):
                self._count(dropped)
        self._drained.set()

    def _count(self, lines: int) -> None:
        with self._count_lock:
            self._dropped += lines

    def _write(self, data: bytes) -> bool:
        """Writes it all; False when it cannot (a full disk under a log file, EPIPE)."""
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError:
            return False
        return True

    def _dropped_line(self, dropped: int) -> bytes:
        message = (f'event=log-dropped n={dropped} message="the log could not be written '
                   '(its reader fell behind, or its disk is full): lines were dropped, the '
                   'checks went on"')  # fmt: skip
        record = logging.LogRecord(LOGGER, logging.WARNING, __file__, 0, message, None, None)
        return (self.format(record) + "\n").encode()


def start_logging(fd: int = 2) -> None:
    """Logs INFO and above as logfmt lines on ``fd`` (stderr) through the queue."""
    handler = QueuedLines(fd)
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    warnings.showwarning = _warning_line  # a warning in a check's thread is a queued line too


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:  # fmt: skip
    first = (str(message).strip().splitlines() or [""])[0].replace('"', "'")
    logging.getLogger(LOGGER).warning(
        'event=warning message="%s: %s (%s:%d)"',
        category.__name__,
        first,
        Path(filename).name,
        lineno,
    )


def log_startup_stop(stop: StartupStop) -> None:
    """The one line of a daemon stopped before its first check."""
    logging.getLogger(LOGGER).warning(
        'event=stop during=start-up signal=%s message="stopped before the first check; '
        'nothing was checked"', stop)  # fmt: skip
