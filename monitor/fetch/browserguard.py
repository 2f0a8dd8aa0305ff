"""What keeps a rendered page in bounds: one deadline, and no detours into private networks.

A page can busy-loop a script (``while(true){}``): Chromium's main thread then never
answers, and Playwright calls such as ``page.evaluate`` or ``page.content`` wait forever.
Playwright's sync API cannot be called from another thread, so :class:`Watchdog` ends a
render that outlives its deadline the only way that always works: it kills the browser's
process group; the blocked call then fails, and the next page gets a fresh browser.

:class:`RequestGuard` intercepts every request of a page (Chrome DevTools' Fetch domain,
which, unlike Playwright's routes, also sees each redirect hop) and fails those to private
addresses when the page's own address is public: a redirect, a script navigation
(``location.replace``), a frame, an image or an XHR.

Objects from Playwright are passed in untyped, so this module does not import it.
"""

from __future__ import annotations

import os
import signal
import threading
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import FetchError
from monitor.fetch.addresses import AddressPolicy

LOOKUP_SECONDS = 5.0  # at most, per host name a page asks for


def browser_pid(browser: Any) -> int | None:
    """The process id of a launched Chromium (it leads its own process group); None if
    DevTools will not say (the watchdog then cannot kill it, the fetcher's backstop can
    still give up on it)."""
    try:
        session = browser.new_browser_cdp_session()
        info = session.send("SystemInfo.getProcessInfo")
        session.detach()
    except Exception:  # Playwright's errors have no stable types worth importing
        return None
    pids = [int(p["id"]) for p in info.get("processInfo", []) if p.get("type") == "browser"]
    return pids[0] if pids else None


class Watchdog:
    """Kills the browser (``pid``'s process group) if the block lasts over ``seconds``."""

    def __init__(self, pid: int | None, seconds: float) -> None:
        self._pid = pid
        self._timer = threading.Timer(seconds, self._kill)
        self._timer.daemon = True
        self.fired = False

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()

    def _kill(self) -> None:
        self.fired = True
        kill_browser(self._pid)


def kill_browser(pid: int | None) -> None:
    """SIGKILL to Chromium and its renderers (Playwright starts it as a group leader)."""
    if pid is None:
        return
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it is gone already


def gave_up(url: str, seconds: float) -> FetchError:
    host = urlsplit(url).hostname or url
    return FetchError(
        f"{host} did not answer within {seconds:g} s in the browser (gave up; a script may "
        "be looping or the site is slow, try again later)",
        url=url,
        transient=True,
    )


class RequestGuard:
    """Fails a page's requests to private addresses once its start URL is public."""

    def __init__(self, policy: AddressPolicy, url: str) -> None:
        self._policy = policy
        host = urlsplit(url).hostname or ""
        self.public_only = bool(host) and not policy.host_is_private(host, LOOKUP_SECONDS)
        self._private: dict[str, str | None] = {}  # host -> a private address, or None
        self.refused: list[tuple[str, str]] = []  # (url, address) of the page itself
        self._session: Any = None
        self._main_frame = ""

    def attach(self, context: Any, page: Any) -> None:
        """Starts intercepting ``page``'s requests (nothing to do for a private start)."""
        if not self.public_only:
            return
        self._session = context.new_cdp_session(page)
        tree = self._session.send("Page.getFrameTree")
        self._main_frame = str(tree["frameTree"]["frame"]["id"])
        self._session.on("Fetch.requestPaused", self._paused)
        pattern = {"urlPattern": "*", "requestStage": "Request"}
        self._session.send("Fetch.enable", {"patterns": [pattern]})

    def check_response(self, response: Any, url: str) -> None:
        """The address the main document really came from (a name may resolve anew)."""
        if not self.public_only:
            return
        server = response.server_addr()
        address = str(server.get("ipAddress", "")) if server else ""
        if address and self._policy.is_private(address):
            self.refused.append((url, address))

    def refusal(self, url: str) -> FetchError | None:
        """The error for the page when its own document was sent to a private address (a
        redirect, a script navigation); blocked images and frames leave the page as is."""
        if not self.refused:
            return None
        hop_url, address = self.refused[0]
        return FetchError(
            f"redirected from a public address to private address {address} ({hop_url}); "
            "refused: a public site may not send the monitor into a private network "
            "(watch that URL directly if it is really meant)",
            url=url,
            blocked=True,
        )

    def _paused(self, event: dict[str, Any]) -> None:
        request_url = str(event.get("request", {}).get("url", ""))
        address = self._private_address(request_url)
        if address is None:
            self._session.send("Fetch.continueRequest", {"requestId": event["requestId"]})
            return
        if event.get("resourceType") == "Document" and event.get("frameId") == self._main_frame:
            self.refused.append((request_url, address))
        failed = {"requestId": event["requestId"], "errorReason": "BlockedByClient"}
        self._session.send("Fetch.failRequest", failed)

    def _private_address(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
            return None
        host = parts.hostname
        if host not in self._private:
            # A name that does not resolve in time counts as public: Chromium fails on it too.
            self._private[host] = self._policy.first_private(host, LOOKUP_SECONDS)
        return self._private[host]
