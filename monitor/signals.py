"""Signals turned into an exception for the length of a block.

``with signals_raise(KeyboardInterrupt, signal.SIGTERM): ...``: inside the block each of
the signals raises the exception (the signal's name as its argument) in the main thread,
where Python runs handlers; the handlers before the block are back after it. It serves
the imports (SIGTERM stops one as Ctrl-C does), the daemon's start-up (``StartupStop``
until the scheduler sets its own handlers, which only flag a stop) and a cron ``check``.
``held_back()`` keeps such a signal from landing inside a write: one arriving in the
block is raised as the block ends (a transaction commits whole first). Imports nothing
of ours.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Stopped(BaseException):  # noqa: N818 - a stop asked for, like KeyboardInterrupt
    """A signal asking a command to stop (its name the argument; no ``except Exception``
    takes it)."""


_held = 0  # blocks of held_back() the main thread is in
_pending: list[BaseException] = []  # a signal's exception, raised as they end


@contextmanager
def signals_raise(error: type[BaseException], *signals: signal.Signals) -> Iterator[None]:
    """Inside the block, each of ``signals`` raises ``error(name)`` (a no-op outside the
    main thread: signals are the main thread's)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(number: int, frame: FrameType | None) -> None:
        exc = error(signal.Signals(number).name)
        if _held:  # a write is under way: raised once it is done
            _pending.append(exc)
            return
        raise exc

    previous = {number: signal.signal(number, handler) for number in signals}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@contextmanager
def held_back() -> Iterator[None]:
    """A signal of :func:`signals_raise` coming inside this block raises as it ends
    (when it ends normally; an error ending it goes on as it is)."""
    global _held
    _held += 1
    try:
        yield
    finally:
        _held -= 1
    if not _held and _pending:
        exc = _pending.pop()
        _pending.clear()
        raise exc
