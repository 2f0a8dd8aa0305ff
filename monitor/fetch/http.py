"""Fetches watched pages over HTTP; the only module that talks to the network.

``Fetcher.fetch`` sends one conditional GET per document (ETag / Last-Modified), retries
transient failures with exponential backoff, caps the decoded body size and turns every
failure into a one-line :class:`FetchError` that says what to do. ``Fetcher.fetch_many``
fetches documents concurrently, but never two at once from the same host.
"""

from __future__ import annotations

import queue
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.errors import FetchError
from monitor.fetch.checks import (
    CHALLENGE_MAX_BYTES,
    BoundedDecoder,
    RetryLaterError,
    challenge_error,
    check_html,
    check_redirect,
    connect_error,
    is_challenge,
    status_error,
    too_large,
)
from monitor.fetch.robots import RobotsCache
from monitor.models import FetchResult, Validators, Watch

USER_AGENT = (
    "policy-monitor/0.1"
    " (+https://github.com/policy-monitor/policy-monitor; watches published terms)"
)


def user_agent(contact: str = "") -> str:
    """The honest User-Agent, naming the operator's contact when the watchlist gives one."""
    if not contact:
        return USER_AGENT
    return f"policy-monitor/0.1 (+{contact}; watches published terms)"


ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
ACCEPT_LANGUAGE = "en-US,en;q=0.9"
# Only what _read_body can decode with a size bound: httpx would also offer br and zstd when
# those packages happen to be installed, and decode them without a bound.
ACCEPT_ENCODING = "gzip, deflate"
MAX_REDIRECTS = 10
# Per-read timeouts do not bound a server that drips bytes, so a whole attempt gets this
# many times the timeout.
ATTEMPT_TIME_FACTOR = 3
NO_VALIDATORS = Validators()


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    retries: int = 2  # extra attempts on connect errors, timeouts, 5xx, 429
    backoff: float = 1.0  # seconds, doubled each retry
    max_retry_after: float = 60.0
    max_bytes: int = 15_000_000
    host_delay: float = 1.0  # pause between two requests to the same host
    max_workers: int = 4
    user_agent: str = USER_AGENT
    respect_robots: bool = True


def _base_headers(settings: FetchSettings) -> dict[str, str]:
    return {
        "User-Agent": settings.user_agent,
        "Accept": ACCEPT,
        "Accept-Language": ACCEPT_LANGUAGE,
        "Accept-Encoding": ACCEPT_ENCODING,
    }


def make_client(
    settings: FetchSettings, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The shared client: one connection pool for all fetches (it is thread-safe)."""
    return httpx.Client(
        headers=_base_headers(settings),
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=transport,
    )


class Fetcher:
    """Fetches documents with a shared client; ``sleep`` is injectable for tests."""

    def __init__(
        self,
        client: httpx.Client,
        settings: FetchSettings = FetchSettings(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._settings = settings
        self._sleep = sleep
        self._robots = RobotsCache(self._robots_text)

    def check_robots(self, watch: Watch) -> None:
        """Raises FetchError when robots.txt disallows the page (the browser asks too)."""
        if self._settings.respect_robots and watch.robots and not self._robots.allowed(watch.url):
            message = (
                f"robots.txt of {_host(watch.url)} disallows this page for policy-monitor "
                "(set `robots: false` on the entry if you may fetch it anyway)"
            )
            raise FetchError(message, url=watch.url, blocked=True)

    def fetch(self, watch: Watch, validators: Validators = NO_VALIDATORS) -> FetchResult:
        """GETs ``watch.url``; a 304 is a result with ``not_modified``. Raises FetchError."""
        self.check_robots(watch)
        attempt = 0
        while True:
            try:
                return self._attempt(watch.url, validators)
            except FetchError as err:
                if not err.transient or attempt >= self._settings.retries:
                    raise
                self._sleep(self._retry_delay(err, attempt))
                attempt += 1

    def fetch_many(
        self, jobs: Sequence[tuple[Watch, Validators]]
    ) -> Iterator[tuple[Watch, FetchResult | FetchError]]:
        """Fetches concurrently, one request at a time per host; yields as fetches complete."""
        groups = _group_by_host(jobs)
        if not groups:
            return
        done: queue.Queue[tuple[Watch, FetchResult | FetchError] | None] = queue.Queue()
        stop = threading.Event()
        workers = max(1, min(self._settings.max_workers, len(groups)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
        try:
            futures = [pool.submit(self._fetch_group, group, done, stop) for group in groups]
            finished = 0
            while finished < len(futures):
                item = done.get()
                if item is None:
                    finished += 1
                else:
                    yield item
            for future in futures:
                future.result()  # a bug in a worker surfaces here instead of vanishing
        finally:
            stop.set()  # the consumer may stop early: start no further fetches
            pool.shutdown(wait=True, cancel_futures=True)

    def _fetch_group(
        self,
        group: list[tuple[Watch, Validators]],
        done: queue.Queue[tuple[Watch, FetchResult | FetchError] | None],
        stop: threading.Event,
    ) -> None:
        try:
            for index, (watch, validators) in enumerate(group):
                if stop.is_set():
                    return
                if index and self._settings.host_delay > 0:
                    self._sleep(self._settings.host_delay)
                try:
                    outcome: FetchResult | FetchError = self.fetch(watch, validators)
                except FetchError as err:
                    outcome = err
                done.put((watch, outcome))
        finally:
            done.put(None)

    def _retry_delay(self, err: FetchError, attempt: int) -> float:
        retry_after = err.retry_after if isinstance(err, RetryLaterError) else None
        if retry_after is not None:
            return min(retry_after, self._settings.max_retry_after)
        return float(self._settings.backoff * 2**attempt)

    def _robots_text(self, url: str) -> str | None:
        try:
            response = self._client.get(url, timeout=self._settings.timeout, follow_redirects=True)
        except (httpx.HTTPError, ssl.SSLError, UnicodeError):
            return None
        return response.text if response.status_code == 200 else None

    def _attempt(self, url: str, validators: Validators) -> FetchResult:
        started = time.monotonic()
        try:
            with self._client.stream(
                "GET",
                url,
                headers=self._request_headers(validators),
                follow_redirects=True,
                timeout=self._settings.timeout,
            ) as response:
                body = self._read(response, url, started)
                return FetchResult(
                    url=url,
                    final_url=str(response.url),
                    status=response.status_code,
                    headers=tuple(response.headers.multi_items()),
                    body=body,
                    content_type=response.headers.get("content-type", "") or "text/html",
                    fetched_at=datetime.now(UTC),
                    duration=time.monotonic() - started,
                    not_modified=response.status_code == 304,
                )
        except (httpx.HTTPError, httpx.InvalidURL, ssl.SSLError, UnicodeError, zlib.error) as exc:
            raise _exception_error(exc, url, self._settings.timeout) from exc

    def _request_headers(self, validators: Validators) -> dict[str, str]:
        headers = _base_headers(self._settings)
        # A stored validator that is not plain ASCII cannot be sent; a full GET is the fallback.
        if validators.etag and validators.etag.isascii() and validators.etag.isprintable():
            headers["If-None-Match"] = validators.etag
        modified = validators.last_modified
        if modified and modified.isascii() and modified.isprintable():
            headers["If-Modified-Since"] = modified
        return headers

    def _read(self, response: httpx.Response, url: str, started: float) -> bytes:
        status = response.status_code
        if status == 304:
            return b""
        if not 200 <= status < 300:
            headers = response.headers
            raise status_error(status, response.reason_phrase, url, headers, _sniff(response, url))
        check_redirect(url, str(response.url))
        content_type = response.headers.get("content-type", "")
        check_html(content_type, None, url)
        deadline = started + self._settings.timeout * ATTEMPT_TIME_FACTOR
        body = _read_body(response, url, self._settings.max_bytes, deadline)
        check_html(content_type, body, url)
        if is_challenge(response.headers, body):
            raise challenge_error(url, status)
        return body


def _group_by_host(
    jobs: Sequence[tuple[Watch, Validators]],
) -> list[list[tuple[Watch, Validators]]]:
    groups: dict[str, list[tuple[Watch, Validators]]] = {}
    for watch, validators in jobs:
        groups.setdefault(_host(watch.url), []).append((watch, validators))
    # Longest queues first, so the slowest host does not start last.
    return sorted(groups.values(), key=len, reverse=True)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or url).lower()
    except ValueError:
        return url


def _read_body(response: httpx.Response, url: str, limit: int, deadline: float) -> bytes:
    """Reads and decodes the body; FetchError past ``limit`` bytes or ``deadline``."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(url, limit)
    stream, encoding = _raw_stream(response)
    decoder = BoundedDecoder(encoding, url, limit)
    parts: list[bytes] = []
    for raw in stream:
        parts.extend(decoder.decode(raw))
        if decoder.exceeded:
            raise too_large(url, limit)
        if time.monotonic() > deadline:
            message = f"{url} sent its page too slowly (gave up); try again later"
            raise FetchError(message, url=url, transient=True)
    parts.extend(decoder.finish())
    if decoder.exceeded:
        raise too_large(url, limit)
    return b"".join(parts)


def _raw_stream(response: httpx.Response) -> tuple[Iterable[bytes], str]:
    """The undecoded body and its Content-Encoding, for a bounded decoder."""
    if response.is_stream_consumed:
        # A transport may return a response read in advance (httpx.MockTransport does, for
        # bytes content); httpx has decoded its content already.
        return [response.content], ""
    return response.iter_raw(), response.headers.get("content-encoding", "")


def _sniff(response: httpx.Response, url: str) -> bytes:
    """The start of an error page, to tell a bot challenge from a plain error."""
    parts: list[bytes] = []
    try:
        stream, encoding = _raw_stream(response)
        decoder = BoundedDecoder(encoding, url, CHALLENGE_MAX_BYTES - 1)
        for raw in stream:
            parts.extend(decoder.decode(raw))
            if decoder.exceeded:
                break
    except (FetchError, httpx.HTTPError, zlib.error):
        pass  # an unreadable error page still gets its status's error
    return b"".join(parts)


def _exception_error(exc: Exception, url: str, timeout: float) -> FetchError:
    """One line for a failed exchange, saying whether to retry or to fix the URL."""
    host = _host(url)
    if isinstance(exc, httpx.TooManyRedirects):
        message = f"redirect loop: {url} redirected more than {MAX_REDIRECTS} times"
        return FetchError(f"{message} (open it in a browser and watch the final URL)", url=url)
    if isinstance(exc, httpx.TimeoutException):
        doing = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        message = f"timed out after {timeout:g}s {doing} {host} (the site may be down or slow)"
        return FetchError(message, url=url, transient=True)
    if isinstance(exc, httpx.ConnectError | ssl.SSLError):
        return connect_error(exc, url, host)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | UnicodeError):
        return FetchError(f"invalid URL {url!r}: {exc} (fix it in the watchlist)", url=url)
    if isinstance(exc, httpx.DecodingError | zlib.error):
        return FetchError(f"could not decode the compressed page from {url}: {exc}", url=url)
    if isinstance(exc, httpx.TransportError):
        message = f"connection to {host} broke off: {exc or type(exc).__name__} (try again later)"
        return FetchError(message, url=url, transient=True)
    return FetchError(f"request to {url} failed: {exc or type(exc).__name__}", url=url)
