"""What a fetched response, or a failed exchange, means for the fetcher.

Content-type and HTML sniffing, bot-challenge detection, Retry-After parsing, which
validators may be sent back, and the one-line :class:`FetchError` messages that say what to
do. Stdlib only, so that ``monitor.fetch.http`` stays the one module that imports httpx.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

from monitor.errors import FetchError, http_status_error

# PDF too: some publishers post their terms only as PDF (monitor/extract/pdf.py reads them).
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", "application/pdf"})
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


class RetryLaterError(FetchError):
    """A transient HTTP failure; ``retry_after`` is what the server asked for, if anything."""

    def __init__(
        self, message: str, *, url: str, status: int, blocked: bool, retry_after: float | None
    ) -> None:
        super().__init__(message, url=url, status=status, transient=True, blocked=blocked)
        self.retry_after = retry_after


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def check_html(
    content_type: str, body: bytes | None, url: str, accept: frozenset[str] | None = None
) -> None:
    """Raises unless the page is HTML (or text); ``body`` None: not read yet. ``accept``:
    other media types wanted instead (an archive's JSON answer), taken as they come."""
    kind = media_type(content_type)
    if accept is not None:
        return
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
    if not same_site(url, final_url):
        raise FetchError(
            f"redirected to another site ({final.hostname}) ({final_url}): the address now "
            "leads elsewhere (the policy moved, or a domain or redirect was taken over); "
            "check it in a browser and put the policy's own URL in the watchlist",
            url=url,
        )
    before, after = locale_marks(url), locale_marks(final_url)
    if before and after and before != after:
        raise FetchError(
            f"redirected from locale {'/'.join(before)} to {'/'.join(after)} ({final_url}): "
            "the site picked another language or region; put the locale you want in the URL",
            url=url,
        )


# Second-level labels under which a country's sites are registered (bbc.co.uk, abc.net.au).
_SECOND_LEVEL = frozenset("co com net org gov edu ac ne or go gv mil nic sch ltd plc".split())


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are of one site: one registered domain (``policies.google.com``
    and ``www.google.com``; ``account.bbc.co.uk`` and ``www.bbc.co.uk``), or one IP
    address. Without the public suffix list, a few country suffixes of two labels are
    known (``_SECOND_LEVEL``): a rarer one reads as the same site (no false refusal)."""
    return _registered(urlsplit(url).hostname or "") == _registered(urlsplit(other).hostname or "")


def _registered(host: str) -> str:
    labels = host.rstrip(".").split(".")
    if len(labels) <= 2 or labels[-1].isdigit() or ":" in host:  # (an IP address)
        return host.rstrip(".")
    keep = 3 if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def locale_marks(url: str) -> tuple[str, ...]:
    """Locale markers of a URL: a leading path segment like en-gb, and hl/lang parameters."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    marks = [segments[0].lower()] if segments and LOCALE_SEGMENT.match(segments[0]) else []
    query = parse_qs(parts.query)
    marks += [f"{k}={query[k][0].lower()}" for k in LOCALE_PARAMS if k in query]
    return tuple(marks)


def locale_swap(url: str, final_url: str, earlier_url: str) -> str | None:
    """The locale a redirect now leads to when the versions so far were read at an address
    of another locale (or of none: ``/p`` -> ``/fr/p``), and the watch URL names neither:
    the site picked another language. None otherwise (the watch URL's own locale, or a
    move within the site that names no other locale)."""
    after = locale_marks(final_url)
    if final_url == url or not after or after in (locale_marks(url), locale_marks(earlier_url)):
        return None
    return "/".join(after)


# A clock this far ahead of ours is still believed; a date beyond it is a server's error.
CLOCK_SKEW_SECONDS = 300


def sendable_date(value: str | None) -> bool:
    """Whether a stored Last-Modified may go back as If-Modified-Since: a plain-ASCII
    HTTP date, not in the future. A future date would make the server answer 304 until
    that day comes, hiding every change before it."""
    if not value or not (value.isascii() and value.isprintable()):
        return False
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds() <= CLOCK_SKEW_SECONDS


def gave_up(url: str, seconds: float) -> FetchError:
    """The error for an attempt that ran out of time, whatever the server was doing."""
    host = urlsplit(url).hostname or url
    message = f"{host} did not answer within {seconds:g} s (gave up; try again later)"
    return FetchError(message, url=url, transient=True)


def refused_private(url: str, hop_url: str, address: str) -> FetchError:
    """The error for a fetch that began at a public address and was led to a private one."""
    return FetchError(
        f"redirected from a public address to private address {address} ({hop_url}); "
        f"refused: a public site may not send the monitor into a private network "
        "(watch that URL directly if it is really meant)",
        url=url,
        blocked=True,
    )


def unsolicited_304(url: str) -> FetchError:
    """A 304 is trusted only as an answer to the validators sent with the request. Not
    retried at once: the same broken cache would answer the same; the next check asks again."""
    host = urlsplit(url).hostname or url
    return FetchError(
        f"{host} answered 304 Not Modified to a request without validators (a broken cache "
        "in front of the site?)",
        url=url,
        status=304,
    )
