"""Renders pages whose text is built by scripts, in Debian's Chromium driven by Playwright.

``BrowserFetcher.fetch`` loads a page in a fresh browser context, waits until its text stops
changing and the network is quiet, and returns the rendered DOM as a :class:`FetchResult`;
every failure becomes a one-line :class:`FetchError`. ``needs_browser`` tells, from a page
fetched over plain HTTP, whether it is a script shell worth rendering.

Playwright is an optional extra: it is imported only when a browser is started, through
importlib so that type-checking does not depend on it being installed. Its sync API is bound
to the thread that started it, so all browser work runs on one worker thread owned by the
fetcher; ``fetch`` may then be called from any thread (calls are served one at a time).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import FetchError, http_status_error
from monitor.fetch.addresses import AddressPolicy
from monitor.fetch.browserguard import RequestGuard, Watchdog, browser_pid, gave_up, kill_browser
from monitor.fetch.checks import check_redirect
from monitor.fetch.shell import needs_browser
from monitor.models import FetchResult, Watch

# needs_browser lives in shell.py; the pipeline asks this module for it.
__all__ = ["BrowserFetcher", "BrowserSettings", "browser_available", "needs_browser"]

# The same honest identity as the HTTP fetcher; defined here so no stage imports another.
BROWSER_USER_AGENT = (
    "policy-monitor/0.1"
    " (+https://github.com/policy-monitor/policy-monitor; watches published terms)"
)
# As root Chromium needs --no-sandbox; without the background-networking flags it keeps
# dialling Google's services, which a closed network refuses and which slows every page.
LAUNCH_ARGS = ("--no-sandbox", "--headless", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync")  # fmt: skip
INSTALL_PLAYWRIGHT = "pip install 'policy-monitor[browser]'"
POLL_MS = 100
BODY_TEXT_JS = "() => document.body ? document.body.innerText : ''"
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
BACKSTOP_SECONDS = 30
DEADLINE_MARGIN = 0.25  # seconds: a timeout this close to the deadline is the deadline


@dataclass(frozen=True)
class BrowserSettings:
    executable: str = "/usr/bin/chromium"  # Debian's chromium; never download a browser
    timeout: float = 30.0  # seconds for the navigation (up to the DOM being parsed)
    # seconds for Chromium to start: a cold start on a busy machine takes seconds, whatever
    # a page's own timeout (a 1 s navigation timeout made a loaded machine's launch fail)
    launch_timeout: float = 30.0
    settle_ms: int = 500  # the text must stay unchanged this long before we take the DOM
    max_wait_ms: int = 15000  # cap on waiting for the page to settle after navigation
    max_bytes: int = 15_000_000  # of rendered HTML, as the HTTP fetcher caps bodies
    user_agent: str = BROWSER_USER_AGENT
    # seconds for navigation, settling and taking the DOM together; a page still busy then
    # (a looping script) has its browser killed, and the next page gets a new one
    deadline: float = 60.0
    # networks treated as public although their addresses are private (see addresses.py)
    treat_as_public: tuple[str, ...] = ()


def browser_available(settings: BrowserSettings = BrowserSettings()) -> str | None:
    """None when pages can be rendered, else a one-line reason saying what to install."""
    # find_spec, not an import: importing Playwright costs a quarter of a second, and
    # every check asks this whether or not a page turns out to need the browser.
    try:
        found = importlib.util.find_spec("playwright.sync_api") is not None
    except ImportError:  # raised when the parent package itself is missing
        found = False
    if not found:
        return f"playwright is not installed: {INSTALL_PLAYWRIGHT}"
    if not (os.path.isfile(settings.executable) and os.access(settings.executable, os.X_OK)):
        return f"no browser at {settings.executable}: apt-get install chromium"
    return None


class BrowserFetcher:
    """Starts Chromium once, on the first fetch, and renders each page in a new context."""

    def __init__(self, settings: BrowserSettings = BrowserSettings()) -> None:
        self._settings = settings
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser")
        self._playwright: Any = None
        self._browser: Any = None
        self._pid: int | None = None
        self._policy = AddressPolicy(settings.treat_as_public)
        self._launches = 0
        self._closed = False

    @property
    def launches(self) -> int:
        """How many times Chromium was started (again only after it crashed)."""
        return self._launches

    def fetch(self, watch: Watch) -> FetchResult:
        """Renders ``watch.url``. Raises FetchError (transient for timeouts and crashes)."""
        future = self._worker.submit(self._render, watch.url)
        # The watchdog ends a render at its deadline; this is the last resort should the
        # worker stay stuck even so (it is then abandoned, with its browser).
        backstop = self._settings.timeout * 2 + self._settings.deadline + BACKSTOP_SECONDS
        try:
            return future.result(timeout=backstop)
        except FuturesTimeout:
            self._abandon()
            raise gave_up(watch.url, self._settings.deadline) from None

    def close(self) -> None:
        """Stops Chromium; the fetcher cannot be used afterwards. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        self._worker.submit(self._stop).result()
        self._worker.shutdown(wait=True)

    def __enter__(self) -> BrowserFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _render(self, url: str) -> FetchResult:
        browser = self._start(url)
        fetched_at, started = datetime.now(UTC), time.monotonic()
        guard = RequestGuard(self._policy, url)
        ends = started + self._settings.deadline
        with Watchdog(self._pid, self._settings.deadline) as watchdog:
            try:
                context = browser.new_context(user_agent=self._settings.user_agent)
                try:
                    page = context.new_page()
                    guard.attach(context, page)
                    body, final_url, status, headers = self._load(page, url, guard, ends)
                finally:
                    _release(context.close)
            except Exception as exc:  # Playwright's errors carry no stable types to import
                refused = guard.refusal(url)
                if refused is not None:
                    raise refused from exc
                # The watchdog, or a navigation timeout cut short to end by the deadline.
                if watchdog.fired or time.monotonic() >= ends - DEADLINE_MARGIN:
                    raise gave_up(url, self._settings.deadline) from exc
                if isinstance(exc, FetchError):
                    raise
                raise self._failure(exc, url) from exc
        check_redirect(url, final_url)  # (a script's navigation too) as the HTTP fetcher
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            headers=headers,
            body=body,
            content_type="text/html; charset=utf-8",
            fetched_at=fetched_at,
            duration=time.monotonic() - started,
        )

    def _load(
        self, page: Any, url: str, guard: RequestGuard, ends: float
    ) -> tuple[bytes, str, int, tuple[tuple[str, str], ...]]:
        """Navigates, waits for the page to settle (by ``ends``, a monotonic time): the
        rendered HTML, final URL, the main response's status and headers."""
        pending = _track_requests(page)
        timeout = min(self._settings.timeout, max(0.1, ends - time.monotonic()))
        response = page.goto(url, timeout=timeout * 1000, wait_until="domcontentloaded")
        if response is None:
            raise FetchError(f"the browser got no response for {url} (check the URL)", url=url)
        guard.check_response(response, url)
        status = int(response.status)
        if status >= 400:
            raise status_error(status, str(response.status_text), url)
        kind = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
        if kind not in HTML_TYPES:
            raise FetchError(f"not an HTML page: content type {kind} at {url}", url=url)
        self._settle(page, pending, ends, guard)
        refused = guard.refusal(url)  # a script navigated away after the load
        if refused is not None:
            raise refused
        body = str(page.content()).encode("utf-8")
        if len(body) > self._settings.max_bytes:
            limit = self._settings.max_bytes
            raise FetchError(f"page too large: {url} renders to over {limit:,} bytes", url=url)
        headers = tuple((str(h["name"]), str(h["value"])) for h in response.headers_array())
        return body, str(page.url), status, headers

    def _settle(self, page: Any, pending: list[int], ends: float, guard: RequestGuard) -> None:
        """Polls until the text is non-empty and unchanged, with no request in flight,
        for ``settle_ms``; gives up at ``max_wait_ms`` and keeps what is there."""
        # Some time is kept for taking the DOM before the render's deadline.
        deadline = min(time.monotonic() + self._settings.max_wait_ms / 1000, ends - 0.5)
        quiet_needed = self._settings.settle_ms / 1000
        last, quiet_since = None, time.monotonic()
        while time.monotonic() < deadline and not guard.refused:
            text = str(page.evaluate(BODY_TEXT_JS))
            if text != last or pending[0] > 0 or not text.strip():
                last, quiet_since = text, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_needed:
                return
            page.wait_for_timeout(POLL_MS)  # also delivers the request events

    def _start(self, url: str) -> Any:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        if self._browser is not None:
            # Crashed or killed at a deadline: a new Chromium, on the same Playwright driver.
            _release(self._browser.close)
            self._browser = None
        reason = browser_available(self._settings)
        if reason is not None:
            raise FetchError(f"cannot render {url} in a browser: {reason}", url=url)
        try:
            if self._playwright is None:
                sync_api = importlib.import_module("playwright.sync_api")
                self._playwright = sync_api.sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=self._settings.executable,
                args=list(LAUNCH_ARGS),
                timeout=self._settings.launch_timeout * 1000,
            )
        except Exception as exc:
            self._stop()
            first = _first_line(exc)
            message = f"could not start the browser {self._settings.executable}: {first}"
            raise FetchError(f"{message} (does `chromium --headless` run here?)", url=url) from exc
        self._pid = browser_pid(self._browser)
        self._launches += 1
        return self._browser

    def _abandon(self) -> None:
        """Leaves a stuck worker and its browser behind; the next fetch starts afresh."""
        kill_browser(self._pid)
        self._worker.shutdown(wait=False, cancel_futures=True)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser")
        self._browser = self._playwright = None

    def _stop(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        if browser is not None:
            _release(browser.close)
        if playwright is not None:
            _release(playwright.stop)

    def _failure(self, exc: Exception, url: str) -> FetchError:
        if type(exc).__name__ == "TimeoutError":
            host = urlsplit(url).hostname or url
            message = f"timed out after {self._settings.timeout:g}s loading {host} in the browser"
            return FetchError(f"{message} (the site may be down or slow)", url=url, transient=True)
        if self._browser is None or not self._browser.is_connected():
            message = f"the browser crashed while rendering {url}: {_first_line(exc)}"
            return FetchError(f"{message} (try again later)", url=url, transient=True)
        return navigation_error(_first_line(exc), url)


def _track_requests(page: Any) -> list[int]:
    """A one-element counter of the page's requests in flight, kept up by its events."""
    pending = [0]

    def started(_request: Any) -> None:
        pending[0] += 1

    def ended(_request: Any) -> None:
        pending[0] = max(0, pending[0] - 1)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    return pending


def _release(close: Any) -> None:
    """Closes a browser, context or driver; after a crash that fails, and nothing is left."""
    try:
        close()
    except Exception:
        pass  # its error must not hide the one that says why the page failed


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def status_error(status: int, reason: str, url: str) -> FetchError:
    """The error for a main response of HTTP 400 or more, worded as the HTTP fetcher's."""
    return http_status_error(status, reason, url)


# Chromium's net:: error codes, read from Playwright's message: (advice, transient).
NET_ERRORS = {
    "ERR_NAME_NOT_RESOLVED": ("could not resolve the host (check the URL and your connection)",
                              True),
    "ERR_CONNECTION_REFUSED": ("connection refused (is the site up? check the URL)", True),
    "ERR_TOO_MANY_REDIRECTS": ("redirect loop (check the URL in a browser)", False),
    "ERR_INVALID_URL": ("invalid URL (fix it in the watchlist)", False),
    "ERR_UNSAFE_PORT": ("the browser refuses this port (fix the URL in the watchlist)", False),
    "ERR_CERT_": ("TLS certificate not trusted (the site's certificate may be broken)", False),
    "ERR_SSL_": ("TLS handshake failed (does the site really serve https?)", False),
    "ERR_ABORTED": ("navigation aborted, maybe a download rather than a page (check the URL)",
                    False),
}  # fmt: skip


def navigation_error(detail: str, url: str) -> FetchError:
    """The error for a failed navigation, from the first line of Playwright's message."""
    host = urlsplit(url).hostname or url
    if "Download is starting" in detail:
        return FetchError(f"not an HTML page: {url} is a download", url=url)
    if "invalid URL" in detail:
        return FetchError(f"invalid URL {url!r} (fix it in the watchlist)", url=url)
    code = re.search(r"net::(ERR_[A-Z_]+)", detail)
    if code is not None:
        for prefix, (advice, transient) in NET_ERRORS.items():
            if code.group(1).startswith(prefix):
                message = f"browser could not load {host}: {code.group(1)}, {advice}"
                return FetchError(message, url=url, transient=transient)
        message = f"browser could not load {host}: {code.group(1)} (try again later)"
        return FetchError(message, url=url, transient=True)
    return FetchError(f"browser could not load {url}: {detail}", url=url, transient=True)
