"""What a fetched response, or a failed exchange, means for the fetcher.

Content-type and HTML sniffing, bot-challenge detection, Retry-After parsing, a gzip
decoder with a size bound, and the one-line :class:`FetchError` messages that say what to
do. Stdlib only, so that ``monitor.fetch.http`` stays the one module that imports httpx.
"""

from __future__ import annotations

import re
import socket
import ssl
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

from monitor.errors import FetchError, http_status_error

# PDF too: some publishers post their terms only as PDF (monitor/extract/pdf.py reads them).
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", "application/pdf"})
DECODABLE_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})
# Markers of bot-challenge interstitials (Cloudflare, DataDome, PerimeterX, Imperva). Only
# small pages are checked: a real policy may name a vendor, a challenge page is short.
CHALLENGE_MARKERS = (
    b"challenges.cloudflare.com",
    b"<title>just a moment...</title>",
    b"attention required! | cloudflare",
    b"captcha-delivery.com",
    b"px-captcha",
    b"_incapsula_resource",
)
CHALLENGE_MAX_BYTES = 100_000
DECODE_STEP = 1 << 20  # bytes decoded at a time; zlib briefly holds twice this


class RetryLaterError(FetchError):
    """A transient HTTP failure; ``retry_after`` is what the server asked for, if anything."""

    def __init__(
        self, message: str, *, url: str, status: int, blocked: bool, retry_after: float | None
    ) -> None:
        super().__init__(message, url=url, status=status, transient=True, blocked=blocked)
        self.retry_after = retry_after


class BoundedDecoder:
    """Decodes a Content-Encoding, producing at most one byte more than ``limit`` in all.

    The decoded size is what counts, and decoding in steps of ``max_length`` keeps a gzip
    bomb from expanding in memory, even within one network chunk.
    """

    def __init__(self, content_encoding: str, url: str, limit: int) -> None:
        codings = [c.strip() for c in content_encoding.lower().split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in DECODABLE_ENCODINGS):
            raise FetchError(
                f"unsupported content encoding {'+'.join(codings)} from {url}", url=url
            )
        # wbits | 32 accepts both gzip and zlib framing (HTTP's "deflate" is zlib-framed).
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32) if codings else None
        self.limit = limit
        self.size = 0

    @property
    def exceeded(self) -> bool:
        return self.size > self.limit

    def decode(self, raw: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``raw``; stops one byte past the limit (then ``exceeded``)."""
        data = raw
        while data and not self.exceeded:
            room = self.limit - self.size + 1
            if self._zlib is None:
                piece, data = data[:room], b""
            else:
                piece = self._zlib.decompress(data, min(room, DECODE_STEP))
                data = self._zlib.unconsumed_tail
            self.size += len(piece)
            yield piece

    def finish(self) -> Iterator[bytes]:
        """Whatever zlib still holds once the input ended (a few bytes at most)."""
        if self._zlib is not None and not self.exceeded:
            piece = self._zlib.flush()
            self.size += len(piece)
            yield piece


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def check_html(content_type: str, body: bytes | None, url: str) -> None:
    """Raises unless the page is HTML (or text); ``body`` None: not read yet."""
    kind = media_type(content_type)
    if kind and kind not in HTML_TYPES:
        raise FetchError(
            f"not an HTML page: content type {kind} at {url} "
            "(watch the HTML version of the document instead)",
            url=url,
        )
    if not kind and body is not None and not looks_like_html(body):
        raise FetchError(
            f"not an HTML page: {url} sent no content type and its body does not look like "
            "HTML (check the URL in a browser)",
            url=url,
        )


def looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<?xml", b"%pdf-")) or any(
        tag in head for tag in (b"<html", b"<head", b"<body")
    )


def is_challenge(headers: Mapping[str, str], body: bytes) -> bool:
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if len(body) > CHALLENGE_MAX_BYTES:
        return False
    lowered = body.lower()
    return any(marker in lowered for marker in CHALLENGE_MARKERS)


def challenge_error(url: str, status: int) -> FetchError:
    return FetchError(
        f"{url} answered with a bot challenge (HTTP {status}) instead of the page: "
        "the site blocks automated clients",
        url=url,
        status=status,
        blocked=True,
    )


def too_large(url: str, limit: int) -> FetchError:
    return FetchError(
        f"page too large: {url} is over {limit:,} bytes (raise max_bytes if it is really a policy)",
        url=url,
    )


def status_error(
    status: int, reason: str, url: str, headers: Mapping[str, str], sniff: bytes
) -> FetchError:
    """The error for a non-2xx, non-304 final response; ``sniff``: the start of its body."""
    if status in (403, 429, 503) and is_challenge(headers, sniff):
        return challenge_error(url, status)
    error = http_status_error(status, reason, url)
    if not error.transient:
        return error
    # Same wording; the subclass also carries how long the server asked us to wait.
    return RetryLaterError(
        str(error),
        url=url,
        status=status,
        blocked=error.blocked,
        retry_after=retry_after(headers.get("retry-after")),
    )


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def connect_error(exc: BaseException, url: str, host: str) -> FetchError:
    """The error for a connection that could not be set up (DNS, refused, TLS)."""
    cause = os_cause(exc)
    if isinstance(cause, socket.gaierror):
        # Offline resolvers answer "unknown name" too, so this cannot tell a typo from no network.
        reason = cause.strerror or "lookup failed"
        message = f"could not resolve host {host}: {reason} (check the URL and your connection)"
        return FetchError(message, url=url, transient=True)
    if isinstance(cause, ssl.SSLCertVerificationError):
        message = f"TLS certificate of {host} is not trusted: {cause.verify_message}"
        return FetchError(
            f"{message} (check the URL; the site's certificate may be broken)", url=url
        )
    if isinstance(cause, ssl.SSLError):
        message = f"TLS handshake with {host} failed: {cause.reason or cause}"
        return FetchError(f"{message} (does the site really serve https? check the URL)", url=url)
    if isinstance(cause, ConnectionRefusedError):
        message = f"could not connect to {host}: connection refused (is the site up? check the URL)"
        return FetchError(message, url=url, transient=True)
    reason = cause.strerror if cause is not None and cause.strerror else str(exc)
    message = f"could not connect to {host}: {reason} (check your network connection and the URL)"
    return FetchError(message, url=url, transient=True)


def os_cause(exc: BaseException) -> OSError | None:
    """The OS-level error under an HTTP library's wrappers (DNS, refused, TLS)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


# A redirect to one of these is a login wall or consent gate, not the policy.
LOGIN_PATH = re.compile(
    r"/(?:log-?in|sign-?in|signin|sign_in|auth(?:enticate)?|checkpoint|consent|sorry)(?:[/._?]|$)",
    re.IGNORECASE,
)
LOCALE_SEGMENT = re.compile(r"^[a-z]{2}(?:[-_][a-z]{2,4})?$", re.IGNORECASE)
LOCALE_PARAMS = ("hl", "lang", "locale", "language", "gl")


def check_redirect(url: str, final_url: str) -> None:
    """Raises when a redirect led to a login page or to another language's version."""
    if final_url == url:
        return
    final = urlsplit(final_url)
    if LOGIN_PATH.search(final.path) and not LOGIN_PATH.search(urlsplit(url).path):
        raise FetchError(
            f"redirected to a login or consent page ({final_url}): the policy is not public "
            "there, or the site wants a session; check the URL in a browser",
            url=url,
            blocked=True,
        )
    before, after = _locale(url), _locale(final_url)
    if before and after and before != after:
        raise FetchError(
            f"redirected from locale {'/'.join(before)} to {'/'.join(after)} ({final_url}): "
            "the site picked another language or region; put the locale you want in the URL",
            url=url,
        )


def _locale(url: str) -> tuple[str, ...]:
    """Locale markers of a URL: a leading path segment like en-gb, and hl/lang parameters."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    marks = [segments[0].lower()] if segments and LOCALE_SEGMENT.match(segments[0]) else []
    query = parse_qs(parts.query)
    marks += [f"{k}={query[k][0].lower()}" for k in LOCALE_PARAMS if k in query]
    return tuple(marks)
