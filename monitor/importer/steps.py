"""One step of an archive: an id there, the archive's time, and how to read its bytes."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import ArchiveError, FetchError


@dataclass(frozen=True)
class Body:
    data: bytes
    content_type: str
    url: str = ""  # where the archive got it (a capture's original URL)


@dataclass(frozen=True)
class Step:
    """``load`` reads the bytes (lazily: a capture is fetched only when it is imported);
    it raises ArchiveError for a step that is not a page, FetchError when unreachable."""

    ref: str  # the commit, the file name or the capture's timestamp
    at: datetime  # when the archive saw the page
    load: Callable[[], Body]
    skip: str = ""  # why this step is not a version of the page (e.g. a technical commit)
    source: str = ""  # the repository (remote URL or folder name), folder or archive's address
    path: str = ""  # the file in the repository or folder, or the capture's URL


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (a naive one is UTC); ValueError when it is not one."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise ValueError(f"{text.strip()[:40]!r} is out of the range of dates") from None


def sniff_type(data: bytes, declared: str = "") -> str:
    """A content type for archived bytes: what was declared, else PDF or HTML by magic."""
    if declared:
        return declared
    return "application/pdf" if data.startswith(b"%PDF-") else "text/html"


# A listed file missing or unreadable (a copy still running, permissions): the import
# stops at its step and resumes there, as at a capture the archive cannot give now.
_NOT_NOW = (errno.ENOENT, errno.EACCES, errno.EPERM, errno.EIO)


def read_inside(folder: Path, name: str, cap: int) -> bytes:
    """The bytes of the regular file ``name`` in ``folder`` (an archive's manifest names
    it): ArchiveError for a name or symlink leading out of the folder, a device or FIFO
    (which would block or never end), or a file over ``cap`` bytes, all before reading."""
    path = folder / name
    try:
        if not path.resolve().is_relative_to(folder.resolve()):
            raise ArchiveError(f"{name} is outside {folder}: not read")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in _NOT_NOW:  # not recorded: once the file is there, the step is read
            raise FetchError(f"cannot read {name} now ({exc.strerror}): put it in {folder} "
                             "(or take it out of the manifest)", url=str(path),
                             transient=True) from None  # fmt: skip
        raise ArchiveError(f"cannot read {name}: {exc.strerror or exc}") from None
    except RuntimeError as exc:  # a symlink loop
        raise ArchiveError(f"cannot read {name}: {getattr(exc, 'strerror', exc)}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArchiveError(f"{name} is not a regular file: not read")
        if info.st_size > cap:
            raise ArchiveError(f"{name} is over {cap // 1_000_000} MB")
        # As much as the file holds, and one byte more to see it grew: read(cap + 1) would
        # allocate the whole cap (50 MB) for every snapshot (3 ms each).
        data = file.read(min(info.st_size, cap) + 1)
        if len(data) > info.st_size:  # it grew while read: read on, up to the cap
            data += file.read(cap + 1 - len(data))
    if len(data) > cap:
        raise ArchiveError(f"{name} is over {cap // 1_000_000} MB")
    return data
