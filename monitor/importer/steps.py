"""One step of an archive: an id there, the archive's time, and how to read its bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


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


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (a naive one is UTC); ValueError when it is not one."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def sniff_type(data: bytes, declared: str = "") -> str:
    """A content type for archived bytes: what was declared, else PDF or HTML by magic."""
    if declared:
        return declared
    return "application/pdf" if data.startswith(b"%PDF-") else "text/html"
