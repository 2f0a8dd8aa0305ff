"""The data directory's locks (filelock).

``data_lock``: held while a check *writes* (a cron ``check``, or the daemon applying
one fetched document), so writers never interleave; others wait up to ``--wait``.
``daemon_lock``: held for a daemon's whole life, so a second daemon on the same data
directory refuses to start and names the one that runs (from ``daemon.json``).
``import_lock``: held while one document's history is imported, so two imports of it at
once (two cron jobs, a retry while the first runs) never record a step twice: the second
says who imports it and waits, then finds those steps recorded.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import ConfigError, LockedError, data_dir_problem

if TYPE_CHECKING:  # filelock is imported by the commands that lock (start-up of the others)
    from filelock import FileLock

LOCK_NAME = "monitor.lock"
DAEMON_LOCK_NAME = "daemon.lock"
DAEMON_RECORD_NAME = "daemon.json"
LOCKS_FOLDER = "locks"  # the import locks, one per document, and who holds them
CHECK_RECORD_NAME = "check.json"  # who holds the check lock


def forget_check(data_dir: str | Path) -> None:
    """Removes the check lock's record, for a `check` that ends with ``os._exit`` while
    it holds the lock (the lock itself goes with the process)."""
    (Path(data_dir) / LOCKS_FOLDER / CHECK_RECORD_NAME).unlink(missing_ok=True)


def forget_import(data_dir: str | Path, document: str) -> None:
    """Removes the import lock's record of ``document`` if this process wrote it, for an
    import that ends with ``os._exit`` (the lock itself goes with the process)."""
    _, record = _import_files(Path(data_dir) / LOCKS_FOLDER, document)
    try:
        if json.loads(record.read_text()).get("pid") == os.getpid():
            record.unlink()
    except (OSError, ValueError, AttributeError):  # none, another's, or unreadable: left
        return


@contextmanager
def data_lock(data_dir: str | Path, wait: float) -> Iterator[None]:
    """Holds the lock of ``data_dir``; waits up to ``wait`` seconds for it."""
    from filelock import FileLock, Timeout

    path = usable_dir(data_dir) / LOCK_NAME
    lock = FileLock(str(path))
    try:
        _acquire(lock, data_dir, wait)
    except Timeout:
        raise LockedError(
            f"{data_dir} is locked by another check or the daemon, or an import ({_holder(path)}; "
            f"waited {wait:g} s); try again later or raise --wait"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def daemon_lock(data_dir: str | Path) -> Iterator[None]:
    """Holds ``data_dir``'s daemon lock for the block; LockedError when a daemon runs."""
    directory = usable_dir(data_dir)
    with _recorded(data_dir, directory / DAEMON_LOCK_NAME, directory / DAEMON_RECORD_NAME, 0,
                   lambda who: f"another daemon already runs on {data_dir} ({who}); stop it "
                   "first, or give this one its own --data"):  # fmt: skip
        yield


@contextmanager
def check_lock(data_dir: str | Path, wait: float) -> Iterator[None]:
    """Held by a cron ``check`` for its whole sweep (the data lock only while it records):
    two checks never fetch at once, which would double each host's requests."""
    folder = locks_folder(data_dir)
    with _recorded(data_dir, folder / "check.lock", folder / CHECK_RECORD_NAME, wait,
                   lambda who: f"another `check` is running on {data_dir} ({who}) and did not "
                   f"end in {wait:g} s (it waits for its slowest host): try again later or "
                   "raise --wait"):  # fmt: skip
        yield


@contextmanager
def import_lock(
    data_dir: str | Path, document: str, wait: float, waiting: Callable[[str], None]
) -> Iterator[None]:
    """Holds the import lock of ``document`` (a watchlist id: a safe file name); when
    another import holds it, ``waiting`` gets one line naming it, then this waits up to
    ``wait`` seconds (LockedError past that)."""
    lock, record = _import_files(locks_folder(data_dir), document)
    with _recorded(data_dir, lock, record, wait,
                   lambda who: f"{document}: an import of it is still running ({who}) after "
                   f"{wait:g} s: run this again once it ended, or raise --wait",
                   lambda who: waiting(f"{document}: an import of it is running ({who}): "
                                       f"waiting up to {wait:g} s for it to end (what it "
                                       "imported is then skipped)")):  # fmt: skip
        yield


@contextmanager
def _recorded(
    data_dir: str | Path, path: Path, record: Path, wait: float,
    refused: Callable[[str], str], waiting: Callable[[str], None] | None = None,
) -> Iterator[None]:  # fmt: skip
    """Holds the lock ``path`` with a ``record`` beside it saying who holds it: when held
    by another, ``waiting`` is told who (then this waits up to ``wait`` s), and past the
    wait LockedError says ``refused(who)``."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path))
    try:
        _acquire(lock, data_dir, 0 if waiting else wait)
    except Timeout:
        try:
            if waiting is None:
                raise
            waiting(_describe(record))
            _acquire(lock, data_dir, wait)
        except Timeout:
            raise LockedError(refused(_describe(record))) from None
    try:
        _write_record(record)
        yield
    finally:
        record.unlink(missing_ok=True)
        lock.release()


def _import_files(folder: Path, document: str) -> tuple[Path, Path]:
    """The import lock of ``document`` in ``folder``, and its holder's record beside it."""
    return folder / f"import-{document}.lock", folder / f"import-{document}.json"


def locks_folder(data_dir: str | Path) -> Path:
    folder = usable_dir(data_dir) / LOCKS_FOLDER
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise data_dir_problem(data_dir, exc) from None
    return folder


def usable_dir(data_dir: str | Path) -> Path:
    """``data_dir``, created if missing; ConfigError when it is a file or cannot be made."""
    path = Path(data_dir)
    if path.exists() and not path.is_dir():
        raise data_dir_problem(data_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise data_dir_problem(data_dir, exc) from None
    return path


def _acquire(lock: FileLock, data_dir: str | Path, wait: float) -> None:
    from filelock import Timeout

    try:
        lock.acquire(timeout=wait)
    except Timeout:  # an OSError too: the lock is held, which the callers word
        raise
    except OSError as exc:  # a read-only directory or file system: the lock file cannot exist
        raise ConfigError(
            f"cannot write to data directory {data_dir} ({exc.strerror or exc}): make it "
            "writable by this user (read-only commands such as `status` work without it)"
        ) from None


def _write_record(path: Path) -> None:
    # Who holds the lock, for the refusal message of a second daemon. Written beside the
    # lock (not in it: filelock may truncate its file), atomically via a rename.
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)
    except OSError:  # a full disk: the lock still holds; a second daemon is told less
        tmp.unlink(missing_ok=True)


def daemon_state(data_dir: str | Path) -> str | None:
    """One line on the daemon of ``data_dir`` for `status`; None when none has a record
    (none ever ran, or the last one stopped cleanly: it removes its record).

    Reads ``daemon.json`` and never takes the lock (a daemon starting then would refuse):
    a record whose process is gone on this host means the daemon died without stopping.
    """
    try:
        record = json.loads((Path(data_dir) / DAEMON_RECORD_NAME).read_text())
        pid, host, started = int(record["pid"]), str(record["host"]), str(record["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    who = f"pid {pid} on {host}, started {started}"
    if host != socket.gethostname():
        return f"daemon: {who} (on another machine: not checked from here)"
    if _alive(pid):
        return f"daemon: running ({who})"
    return (f"daemon: NOT RUNNING: {who}, ended without stopping (killed, crashed or the "
            "machine restarted; its log's last lines say why): no document is checked "
            "until you restart it")  # fmt: skip


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running policy-monitor daemon (a reused pid is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # no /proc (not Linux): the pid answers, take it as the daemon
        return True
    return b"daemon" in command


def _holder(path: Path) -> str:
    """Who holds the lock file ``path`` now, from the kernel's table of locks (Linux's
    /proc/locks: the holder writes nothing, each of its many short holds costs nothing)."""
    try:
        info = path.stat()
        where = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "->" not in fields and len(fields) > 5 and fields[5] == where:
                pid = int(fields[4])
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                words = command.decode(errors="replace").split()
                return f"held by pid {pid}: {' '.join(words)[:120]}"
    except (OSError, ValueError):
        pass
    return "its holder is not known here"


# Seconds a waiter gives a holder to write its record: it writes it just after it takes
# the lock, and a second import started at once found the lock taken, the record not yet
# there ("it has not said who it is yet", seen in CI).
RECORD_PATIENCE = 0.5


def _describe(path: Path, patience: float = RECORD_PATIENCE) -> str:
    """Who holds a lock, from the record ``path`` its holder wrote beside it (waiting up to
    ``patience`` seconds for a holder that has just taken it)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            record = json.loads(path.read_text())
            return f"pid {record['pid']} on {record['host']}, started {record['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() >= deadline:
                return "it has not said who it is yet"
        time.sleep(0.02)
