"""Fetches watched pages over HTTP; the only module that talks to the network.

``Fetcher.fetch`` sends one conditional GET per document (ETag / Last-Modified), retries
transient failures with exponential backoff, caps the decoded body size and turns every
failure into a one-line :class:`FetchError` that says what to do. ``Fetcher.fetch_many``
fetches documents concurrently, but never two at once from the same host.
"""

from __future__ import annotations

import functools
import queue
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.errors import FetchError
from monitor.fetch.addresses import AddressPolicy, AddressRefused
from monitor.fetch.body import read_body, read_prefix
from monitor.fetch.checks import (
    CHALLENGE_MAX_BYTES,
    RetryLaterError,
    challenge_error,
    check_html,
    check_redirect,
    connect_error,
    gave_up,
    is_challenge,
    refused_private,
    sendable_date,
    status_error,
    too_large,
)
from monitor.fetch.netguard import guarded, guarded_pool
from monitor.fetch.robots import MAX_ROBOTS_BYTES, RobotsCache
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
# Per-read timeouts do not bound a server that drips bytes, so a whole attempt (connect,
# headers and body) gets this many times the timeout unless a deadline is set.
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
    deadline: float | None = None  # seconds for one whole attempt; None: 3 x timeout
    # seconds for a document's fetch with its robots.txt, retries and waits; None: every
    # attempt's deadline plus one Retry-After wait
    total_deadline: float | None = None
    # networks treated as public although their addresses are private (see netguard)
    treat_as_public: tuple[str, ...] = ()

    @property
    def attempt_seconds(self) -> float:
        return self.deadline if self.deadline is not None else self.timeout * ATTEMPT_TIME_FACTOR

    @property
    def fetch_seconds(self) -> float:
        if self.total_deadline is not None:
            return self.total_deadline
        return self.attempt_seconds * (self.retries + 1) + self.max_retry_after


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
    if transport is None:
        transport = guarded_transport(settings)
    return httpx.Client(
        headers=_base_headers(settings),
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=transport,
    )


def guarded_transport(settings: FetchSettings) -> httpx.HTTPTransport:
    """httpx's transport on our network backend (deadlines, no private detours)."""
    context = _ssl_context()
    transport = httpx.HTTPTransport(verify=context)
    # httpx takes no network backend, so its pool is replaced by the same pool on ours.
    transport._pool = guarded_pool(context, AddressPolicy(settings.treat_as_public))
    return transport


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context, made once: loading the CA bundle takes a tenth of a
    second, and each client would otherwise load it twice."""
    return httpx.create_ssl_context()


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

    def check_robots(self, watch: Watch, until: float | None = None) -> None:
        """Raises FetchError when robots.txt disallows the page (the browser asks too);
        ``until``: the monotonic time by which the whole fetch must end."""
        if not (self._settings.respect_robots and watch.robots):
            return
        if until is None:
            until = time.monotonic() + self._settings.attempt_seconds
        if not self._robots.allowed(watch.url, until):
            message = (
                f"robots.txt of {_host(watch.url)} disallows this page for policy-monitor "
                "(set `robots: false` on the entry if you may fetch it anyway)"
            )
            raise FetchError(message, url=watch.url, blocked=True)

    def fetch(self, watch: Watch, validators: Validators = NO_VALIDATORS) -> FetchResult:
        """GETs ``watch.url``; a 304 is a result with ``not_modified``. Raises FetchError.

        Empty ``validators`` make an unconditional GET. The whole fetch (robots.txt,
        attempts, waits between them) ends within ``settings.fetch_seconds``."""
        until = time.monotonic() + self._settings.fetch_seconds
        self.check_robots(watch, until)
        attempt = 0
        while True:
            try:
                return self._attempt(watch.url, validators, until)
            except FetchError as err:
                if not err.transient or attempt >= self._settings.retries:
                    raise
                delay = self._retry_delay(err, attempt)
                if time.monotonic() + delay >= until:
                    raise  # no time left to wait for another attempt
                self._sleep(delay)
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

    def _robots_text(self, url: str, until: float) -> str | None:
        """robots.txt's first 500 KiB (RFC 9309), or None: missing, erroring, unreachable,
        too slow or redirected into a private network all allow everything."""
        deadline = min(time.monotonic() + self._settings.attempt_seconds, until)
        headers = _base_headers(self._settings)
        try:
            with guarded(deadline), _exchange(self._client, url, headers, self._settings) as resp:
                if resp.status_code != 200:
                    return None
                stream, encoding = _raw_stream(resp)
                return read_prefix(stream, encoding, url, MAX_ROBOTS_BYTES).decode(
                    "utf-8", "replace"
                )
        except (*EXCHANGE_ERRORS, AddressRefused, FetchError):
            return None

    def _attempt(self, url: str, validators: Validators, until: float) -> FetchResult:
        started = time.monotonic()
        budget = max(0.0, min(self._settings.attempt_seconds, until - started))
        headers = self._request_headers(validators)
        try:
            with (
                guarded(started + budget),
                _exchange(self._client, url, headers, self._settings) as response,
            ):
                body = self._read(response, url, started + budget, budget)
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
        except AddressRefused as exc:
            raise refused_private(url, exc.url or url, exc.address) from exc
        except EXCHANGE_ERRORS as exc:
            if isinstance(exc, httpx.TimeoutException) and time.monotonic() >= started + budget:
                raise gave_up(url, budget) from exc
            raise _exception_error(exc, url, self._settings.timeout) from exc

    def _request_headers(self, validators: Validators) -> dict[str, str]:
        headers = _base_headers(self._settings)
        # A stored validator that is not plain ASCII cannot be sent; a full GET is the fallback.
        if validators.etag and validators.etag.isascii() and validators.etag.isprintable():
            headers["If-None-Match"] = validators.etag
        if sendable_date(validators.last_modified):
            headers["If-Modified-Since"] = str(validators.last_modified)
        return headers

    def _read(self, response: httpx.Response, url: str, deadline: float, budget: float) -> bytes:
        status = response.status_code
        if status == 304:
            return b""
        if not 200 <= status < 300:
            headers = response.headers
            raise status_error(status, response.reason_phrase, url, headers, _sniff(response, url))
        check_redirect(url, str(response.url))
        content_type = response.headers.get("content-type", "")
        check_html(content_type, None, url)
        limit = self._settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(url, limit)
        stream, encoding = _raw_stream(response)
        body = read_body(
            stream,
            encoding,
            url,
            limit,
            deadline,
            too_large=lambda: too_large(url, limit),
            too_slow=lambda: gave_up(url, budget),
        )
        check_html(content_type, body, url)
        if is_challenge(response.headers, body):
            raise challenge_error(url, status)
        return body


EXCHANGE_ERRORS = (httpx.HTTPError, httpx.InvalidURL, ssl.SSLError, UnicodeError, zlib.error)


@contextmanager
def _exchange(
    client: httpx.Client, url: str, headers: dict[str, str], settings: FetchSettings
) -> Iterator[httpx.Response]:
    """GETs ``url`` and follows its redirects one hop at a time, so that a hop the network
    guard refuses is named; yields the final response, streamed."""
    request = client.build_request("GET", url, headers=headers, timeout=settings.timeout)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = client.send(request, stream=True, follow_redirects=False)
        except AddressRefused as exc:
            exc.url = str(request.url)
            raise
        if response.next_request is None:
            break
        response.close()
        request = response.next_request
    else:
        raise httpx.TooManyRedirects("too many redirects", request=request)
    try:
        yield response
    finally:
        response.close()


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


def _raw_stream(response: httpx.Response) -> tuple[Iterable[bytes], str]:
    """The undecoded body and its Content-Encoding, for a bounded decoder."""
    if response.is_stream_consumed:
        # A transport may return a response read in advance (httpx.MockTransport does, for
        # bytes content); httpx has decoded its content already.
        return [response.content], ""
    return response.iter_raw(), response.headers.get("content-encoding", "")


def _sniff(response: httpx.Response, url: str) -> bytes:
    """The start of an error page, to tell a bot challenge from a plain error."""
    try:
        stream, encoding = _raw_stream(response)
        return read_prefix(stream, encoding, url, CHALLENGE_MAX_BYTES)
    except (FetchError, httpx.HTTPError, zlib.error):
        return b""  # an unreadable error page still gets its status's error


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
