"""Fetches watched pages over HTTP (the one module using httpx).

``Fetcher.fetch`` sends one conditional GET per document (ETag / Last-Modified), follows
redirects one hop at a time, retries transient failures with exponential backoff, caps
the decoded body size and turns every failure into a one-line :class:`FetchError` that
says what to do. Under the client, ``netguard`` bounds every attempt by one deadline and
keeps a public page from leading into a private network. ``Fetcher.fetch_many`` fetches
documents concurrently, but never two at once from the same host.
"""

from __future__ import annotations

import functools
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

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
    unsolicited_304,
)
from monitor.fetch.many import fetch_concurrently, fetch_in_batches, host_of
from monitor.fetch.netguard import guarded, guarded_pool
from monitor.fetch.robots import MAX_ROBOTS_BYTES, RobotsCache
from monitor.fetch.settings import (
    ACCEPT,
    ACCEPT_ENCODING,
    ACCEPT_LANGUAGE,
    MAX_REDIRECTS,
    USER_AGENT,
    FetchSettings,
    user_agent,
)
from monitor.models import FetchResult, Validators, Watch

__all__ = ["USER_AGENT", "Fetcher", "FetchSettings", "make_client", "user_agent"]

NO_VALIDATORS = Validators()
ANY_TYPE: frozenset[str] = frozenset()  # `data` fetches keep whatever type comes back
DEFAULT_SETTINGS = FetchSettings()


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
    policy = AddressPolicy(settings.treat_as_public)
    transport._pool = guarded_pool(context, policy, keepalive=settings.max_workers)
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
        settings: FetchSettings = DEFAULT_SETTINGS,
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
                f"robots.txt of {host_of(watch.url)} disallows this page for policy-monitor "
                "(set `robots: false` on the entry if you may fetch it anyway)"
            )
            raise FetchError(message, url=watch.url, blocked=True)

    def fetch(
        self, watch: Watch, validators: Validators = NO_VALIDATORS, *, data: bool = False
    ) -> FetchResult:
        """GETs ``watch.url``; a 304 is a result with ``not_modified``. Raises FetchError.

        Empty ``validators`` make an unconditional GET. The whole fetch (robots.txt,
        attempts, waits between them) ends within ``settings.fetch_seconds``. ``data``: the
        answer is data (an archive's JSON index), not a page, so any content type is kept."""
        until = time.monotonic() + self._settings.fetch_seconds
        self.check_robots(watch, until)
        attempt = 0
        while True:
            try:
                return self._attempt(watch.url, validators, until, data)
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
        settings = self._settings
        return fetch_concurrently(
            self.fetch, jobs, settings.max_workers, settings.host_delay, self._sleep
        )

    def fetch_batches(
        self,
        jobs: Sequence[tuple[Watch, Validators]],
        most: int,
        fetch: Callable[[Watch, Validators], FetchResult] | None = None,
    ) -> Iterator[list[tuple[Watch, FetchResult | FetchError]]]:
        """As :meth:`fetch_many`, yielding the fetches completed by then (up to ``most``);
        ``fetch``: :meth:`fetch` wrapped (a document claimed first), in the host's turn."""
        settings = self._settings
        return fetch_in_batches(
            fetch or self.fetch, jobs, settings.max_workers, settings.host_delay,
            self._sleep, most,
        )  # fmt: skip

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

    def _attempt(
        self, url: str, validators: Validators, until: float, data: bool = False
    ) -> FetchResult:
        started = time.monotonic()
        budget = min(self._settings.attempt_seconds, until - started)
        if budget <= 0:
            raise gave_up(url, self._settings.fetch_seconds)
        headers = self._request_headers(validators)
        try:
            with (
                guarded(started + budget),
                _exchange(self._client, url, headers, self._settings) as response,
            ):
                conditional = "If-None-Match" in headers or "If-Modified-Since" in headers
                body = self._read(response, url, started + budget, budget, conditional, data)
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
                    sent=validators,
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

    def _read(
        self, response: httpx.Response, url: str, deadline: float, budget: float,
        conditional: bool, data: bool = False,
    ) -> bytes:  # fmt: skip
        status = response.status_code
        if status == 304:
            if not conditional:  # "not modified" since what? Nothing was named.
                raise unsolicited_304(url)
            return b""
        if not 200 <= status < 300:
            headers = response.headers
            raise status_error(status, response.reason_phrase, url, headers, _sniff(response, url))
        check_redirect(url, str(response.url))
        content_type = response.headers.get("content-type", "")
        accept = ANY_TYPE if data else None
        check_html(content_type, None, url, accept)
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
        check_html(content_type, body, url, accept)
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
    host = host_of(url)
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
