"""Per-document fetch claims: one process fetches a document at a time.

A cron ``check`` and the daemon fetch without the data lock (held only to record), so
both could fetch one page at once: two requests to its host, two observations recorded
one after the other. A claim is taken just before a document's fetch and released once
what it fetched is recorded (or given up); a process that finds it taken leaves the
document to its holder. No network wait happens under the data lock.

Each claim is ``data/locks/fetch-ID.lock``, locked with ``flock`` (the kernel releases
it when the holder dies, however it dies); the holder writes into it who it is (pid,
host, command, start), read by the process it turns away. A file exists only while its
claim is held: the holder removes it before it lets go, and only ever while it holds the
lock, so no one removes a claim another process holds. A taker that opened the file
before its removal, and got the lock on it after, finds that the path no longer names
the file it locked (another inode, or none) and takes the path again: two holders never
hold two different files. Files left by holders that died, or by releases before ops9
(which kept them), are removed by the next `check` (and daemon start) for the documents
it does not watch, and by the next take and release of the others.
Imports nothing of ours (a stage, as monitor/lock.py is).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

LOCKS_FOLDER = "locks"  # beside the import and check locks (monitor/lock.py)
# Each record is padded with spaces to this length and written over the last one in
# place: truncating the file first cost ~0.15 ms CPU and ~3 ms of I/O wait per document
# (ext4 frees and allocates its block), 0.16x of a bare conditional fetch (bench/sweep.py).
RECORD_BYTES = 512


class Claims:
    """The claims one process holds on the documents of ``data_dir`` (thread-safe: taken
    in fetch threads, released by the writer)."""

    def __init__(self, data_dir: str | Path, command: str) -> None:
        self._folder = Path(data_dir) / LOCKS_FOLDER
        self._folder.mkdir(parents=True, exist_ok=True)
        self._command = command  # "check" or "daemon": named to the process turned away
        self._host = socket.gethostname()
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, document: str) -> str | None:
        """Claims ``document``: None when this process now holds it, else who does."""
        path = self._path(document)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                return holder
            if _names(path, fd):
                break
            os.close(fd)  # its holder removed it as it let go: the path's file is the claim
        record = {"pid": os.getpid(), "host": self._host, "command": self._command,
                  "started": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        try:  # a longer record left behind is read past: _holder reads the first value
            os.pwrite(fd, json.dumps(record).encode().ljust(RECORD_BYTES), 0)
        except OSError:  # a full disk: the claim holds, the other is told less
            pass
        with self._lock:
            self._held[document] = fd
        return None

    def release(self, document: str) -> None:
        """Gives ``document`` up (a no-op when not held), its file removed first."""
        with self._lock:
            fd = self._held.pop(document, None)
        if fd is not None:
            _remove_held(self._path(document))
            os.close(fd)  # closing the descriptor releases the flock

    def tidy(self, watched: set[str] | frozenset[str]) -> int:
        """Removes the claim files of documents not in ``watched`` that nobody holds (left
        by a holder that died, or by a release before ops9): how many it removed. One held
        by another process stays; each is removed only while this process holds it."""
        removed = 0
        for path in self._folder.glob("fetch-*.lock"):
            document = path.name.removeprefix("fetch-").removesuffix(".lock")
            if document in watched:
                continue  # its next take and release removes it, without a race with them
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _names(path, fd):
                    removed += _remove_held(path)
            except BlockingIOError:
                pass  # held: another process's claim
            finally:
                os.close(fd)
        return removed

    def _path(self, document: str) -> Path:
        return self._folder / f"fetch-{document}.lock"

    def release_all(self) -> None:
        with self._lock:
            held = list(self._held)
        for document in held:
            self.release(document)


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not removed, not replaced)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)


def _remove_held(path: Path) -> int:
    """Removes a claim file whose lock this process holds (1), or leaves it (0) when the
    folder cannot be written: a file left over is harmless, the next holder takes it."""
    try:
        path.unlink()
        return 1
    except OSError:
        return 0


def _holder(fd: int) -> str:
    """Who holds a claim, from what it wrote in its file."""
    try:
        record, _ = json.JSONDecoder().raw_decode(os.pread(fd, 4096, 0).decode().lstrip())
        return (f"pid {record['pid']} on {record['host']}: {record['command']}, fetching "
                f"since {record['started']}")  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return "it has not said who it is yet"
