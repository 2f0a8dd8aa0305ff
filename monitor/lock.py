"""The data directory's lock, so a cron ``check`` and the daemon never run at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from monitor.errors import LockedError

LOCK_NAME = "monitor.lock"


@contextmanager
def data_lock(data_dir: str | Path, wait: float) -> Iterator[None]:
    """Holds the lock of ``data_dir``; waits up to ``wait`` seconds for it."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(Path(data_dir) / LOCK_NAME))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise LockedError(
            f"{data_dir} is locked by another check or the daemon (waited {wait:g} s); "
            "try again later or raise --wait"
        ) from None
    try:
        yield
    finally:
        lock.release()
