"""Captures of a document in the Wayback Machine: the CDX index, then each raw capture.

The CDX API (``/cdx/search/cdx?url=...&output=json``) answers a JSON array of arrays whose
first row names the fields, or ``[]`` when it has nothing; errors come as plain text. The
captures are collapsed by digest (one per distinct body) and fetched in their raw ``id_``
form (the bytes as archived, without the archive's banner), one request at a time with a
pause between two, through the monitor's HTTP client (retries with backoff on 429 and 5xx,
honouring Retry-After; deadlines; size caps). A capture that turns out to be the archive's
own error page is refused (an ArchiveError), never read as a version.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from urllib.parse import urlencode, urlsplit

from monitor.errors import ArchiveError, FetchError
from monitor.fetch.http import Fetcher
from monitor.importer import DEFAULT_ARCHIVE
from monitor.importer.steps import Body, Step
from monitor.models import FetchResult, Watch

FIELDS = ("timestamp", "original", "statuscode", "digest", "mimetype")
# What the Wayback Machine's own pages say where a capture should be (small pages only).
ERROR_MARKERS = (
    b"wayback machine has not archived that url", b"hrm.", b"this url has been excluded",
    b"is not available on the wayback machine", b"got an http 30", b"page cannot be displayed",
    b"wayback machine doesn't have that page archived", b"this snapshot cannot be displayed",
)  # fmt: skip
ERROR_PAGE_MAX_BYTES = 100_000


@dataclass(frozen=True)
class Capture:
    timestamp: str  # 14 digits, UTC
    original: str
    mimetype: str = ""

    @property
    def at(self) -> datetime:
        return datetime.strptime(self.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


@dataclass
class Wayback:
    """The archive's address, the client, and the pause between two requests."""

    fetcher: Fetcher
    base: str = DEFAULT_ARCHIVE
    delay: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    _last: float = field(default=0.0, repr=False)

    def get(self, watch: Watch, url: str, *, data: bool = False) -> FetchResult:
        """One polite request (after the pause since the previous one); FetchError."""
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        try:
            target = Watch(watch.id, watch.company, watch.title, url)
            return self.fetcher.fetch(target, data=data)
        finally:
            self._last = time.monotonic()


def cdx_url(base: str, url: str, since: date | None = None, until: date | None = None) -> str:
    query = [("url", url), ("output", "json"), ("fl", ",".join(FIELDS)),
             ("filter", "statuscode:200"), ("collapse", "digest")]  # fmt: skip
    if since:
        query.append(("from", since.strftime("%Y%m%d")))
    if until:
        query.append(("to", until.strftime("%Y%m%d") + "235959"))
    return f"{base.rstrip('/')}/cdx/search/cdx?{urlencode(query)}"


def wayback_steps(
    archive: Wayback, watch: Watch, since: date | None = None, until: date | None = None
) -> list[Step]:
    """The document's captures, oldest first, each fetched only when imported."""
    url = cdx_url(archive.base, watch.url, since, until)
    try:
        answer = archive.get(watch, url, data=True).body
    except FetchError as exc:
        if str(exc).startswith("page too large"):  # thousands of distinct captures
            advice = "ask for fewer with --since and --until"
            raise ArchiveError("the CDX index's answer is too large (too many distinct "
                               f"captures at once): {advice}") from None  # fmt: skip
        raise ArchiveError(f"the Wayback Machine's CDX index did not answer: {exc}") from None
    captures = parse_cdx(answer)
    for capture in captures:
        _same_page(watch, capture)
    return [Step(ref=c.timestamp, at=c.at, load=partial(load_capture, archive, watch, c),
                 source=archive.base.rstrip("/"), path=capture_url(archive.base, c))
            for c in sorted(captures, key=lambda c: c.timestamp)]  # fmt: skip


def parse_cdx(answer: bytes) -> list[Capture]:
    """The captures a CDX JSON answer lists; ArchiveError when it is not such an answer."""
    text = answer.decode("utf-8", "replace").strip()
    if not text:
        return []
    try:
        rows = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise ArchiveError(f"the CDX answer is not JSON: {_first_line(text)!r}") from None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ArchiveError("the CDX answer is not a JSON array of rows")
    if not rows:
        return []
    header = rows[0]
    if not all(isinstance(name, str) for name in header):
        raise ArchiveError("the CDX answer's first row is not a list of field names")
    missing = [name for name in ("timestamp", "original") if name not in header]
    if missing:
        raise ArchiveError(f"the CDX answer's first row names no {', '.join(missing)} field")
    return [_capture(header, row) for row in rows[1:] if _is_ok(header, row)]


def _is_ok(header: list[object], row: list[object]) -> bool:
    if len(row) != len(header):
        raise ArchiveError(f"a CDX row has {len(row)} fields, its header {len(header)}")
    status = dict(zip(header, row, strict=True)).get("statuscode", "200")
    return status in ("200", "-")


def _capture(header: list[object], row: list[object]) -> Capture:
    fields = dict(zip(header, row, strict=True))
    stamp, original = str(fields["timestamp"]), str(fields["original"])
    if len(stamp) != 14 or not stamp.isdigit():
        raise ArchiveError(f"a CDX row's timestamp is not 14 digits: {stamp[:40]!r}")
    try:
        datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        raise ArchiveError(f"a CDX row's timestamp is not a time: {stamp!r}") from None
    if urlsplit(original).scheme not in ("http", "https"):
        raise ArchiveError(f"a CDX row's URL is not http(s): {original[:80]!r}")
    return Capture(stamp, original, str(fields.get("mimetype") or ""))


def _same_page(watch: Watch, capture: Capture) -> None:
    """A capture of another site, or of another page of the site, is never imported as
    this document's history (the CDX index is asked for this URL only: a row for another
    address, as the archive folds them, means a wrong answer)."""
    if not _same_address(capture.original, watch.url):
        seen = capture.original[:80]
        other = "site" if _site(capture.original) != _site(watch.url) else "page"
        raise ArchiveError(
            f"the CDX answer lists a capture of another {other} ({seen!r}, not "
            f"{watch.url!r}): not imported"
        )


def _site(url: str) -> str:
    """The host, without ``www.`` or a port: how the archive and the watchlist may differ."""
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def capture_url(base: str, capture: Capture) -> str:
    """The raw bytes of a capture, as archived (``id_``: no banner, no rewritten links)."""
    return f"{base.rstrip('/')}/web/{capture.timestamp}id_/{capture.original}"


def load_capture(archive: Wayback, watch: Watch, capture: Capture) -> Body:
    url = capture_url(archive.base, capture)
    try:
        result = archive.get(watch, url)
    except FetchError as exc:
        if exc.transient:
            raise
        raise ArchiveError(f"capture not available: {exc}") from None
    _same_capture(url, result.final_url, capture)
    body = result.body
    if is_error_page(body):
        raise ArchiveError("the capture is the Wayback Machine's own error page, not the "
                           "document (not recorded)")  # fmt: skip
    return Body(body, result.content_type or "text/html", capture.original)


def _same_capture(url: str, final_url: str, capture: Capture) -> None:
    """A redirect to another capture (the archive's nearest one: months away, maybe), its
    calendar or a page of its own is refused: its bytes would be recorded under this
    capture's time. The same capture under a normalised address (``https``, ``www.``) or
    one a few minutes away (how the archive resolves one capture of two addresses) is it."""
    if final_url == url:
        return
    found = _CAPTURE_PATH.match(urlsplit(final_url).path)
    if _site(url) == _site(final_url) and found and _near(found.group(1), capture.at) \
            and _same_address(final_url.split("id_/", 1)[1], capture.original):  # fmt: skip
        return
    raise ArchiveError(f"the archive redirected this capture to {final_url[:120]!r}, another "
                       "capture or page (not recorded under this capture's time)")  # fmt: skip


_CAPTURE_PATH = re.compile(r"/web/(\d{14})id_/")
SAME_CAPTURE = timedelta(hours=1)


def _same_address(found: str, original: str) -> bool:
    """Whether a capture's address is the listed one's as the archive folds addresses
    (scheme, ``www.``, case, a trailing slash), not another page of the site (its terms
    captured the same second: they were once recorded as this page's version)."""

    def page(address: str) -> tuple[str, str]:
        return _site(address), urlsplit(address).path.rstrip("/").lower()

    return page(found) == page(original)


def _near(stamp: str, at: datetime) -> bool:
    try:
        other = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return False
    return abs(other - at) <= SAME_CAPTURE


def is_error_page(body: bytes) -> bool:
    if len(body) > ERROR_PAGE_MAX_BYTES:
        return False
    lowered = body.lower()
    return b"wayback machine" in lowered and any(m in lowered for m in ERROR_MARKERS)


def _first_line(text: str) -> str:
    return (text.splitlines() or [""])[0][:120]
