"""Where a page comes from: the one place that chooses HTTP, the browser, or both.

Every source answers ``FetchResult | FetchError`` for a watch. ``http`` and ``auto`` pages
are fetched over HTTP, concurrently across hosts; an ``auto`` page that turns out to be a
script shell, and every ``browser`` page (after robots.txt), is rendered in Chromium.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from monitor.errors import BusyError, ExtractError, FetchError
from monitor.fetch.browser import BrowserFetcher, BrowserSettings, browser_available, needs_browser
from monitor.fetch.http import Fetcher
from monitor.models import FetchResult, Validators, Watch

ReadText = Callable[[bytes, str, tuple[str, ...], tuple[str, ...]], str]
Outcome = FetchResult | FetchError
# Claims a document before its fetch: None when claimed, else who fetches it (claims.py)
Claim = Callable[[str], str | None]


@dataclass(frozen=True)
class Browser:
    """The browser for script-built pages, or why there is none."""

    fetcher: BrowserFetcher | None = None
    problem: str = "no browser configured"

    def fetch(self, watch: Watch) -> Outcome:
        if self.fetcher is None:
            return FetchError(f"page needs a browser: {self.problem}", url=watch.url)
        try:
            return self.fetcher.fetch(watch)
        except FetchError as err:
            return err


@contextmanager
def browser_for(watches: Sequence[Watch], agent: str = "") -> Iterator[Browser]:
    """A browser when some watch may need one and Chromium is installed; closed after."""
    if all(w.fetcher == "http" for w in watches):
        yield Browser(problem="no watch needs one")
        return
    problem = browser_available()
    if problem:
        yield Browser(problem=problem)
        return
    settings = BrowserSettings(user_agent=agent) if agent else BrowserSettings()
    with BrowserFetcher(settings) as fetcher:
        yield Browser(fetcher)


def fetch_all(
    fetcher: Fetcher,
    browser: Browser,
    jobs: Sequence[tuple[Watch, Validators]],
    read: ReadText,
    most: int = 1,
    claim: Claim | None = None,
) -> Iterator[list[tuple[Watch, Outcome]]]:
    """Each watch with what its source answered, as fetches complete: those completed by
    then together (up to ``most``), never waiting for a fetch still running. ``claim``
    is asked for each document in its host's turn: one another process fetches is a
    :class:`BusyError`, not fetched."""

    def fetch(watch: Watch, validators: Validators) -> FetchResult:
        busy = claim(watch.id) if claim is not None else None
        if busy is not None:
            raise BusyError(busy, watch.url)
        return fetcher.fetch(watch, validators)

    over_http = [(w, v) for w, v in jobs if w.fetcher != "browser"]
    for batch in fetcher.fetch_batches(over_http, most, fetch):
        yield [(watch, _render_if_shell(browser, watch, result, read)) for watch, result in batch]
    for watch in (w for w, _ in jobs if w.fetcher == "browser"):
        busy = claim(watch.id) if claim is not None else None
        yield [(watch, BusyError(busy, watch.url) if busy else _rendered(fetcher, browser, watch))]


def fetch_one(
    fetcher: Fetcher, browser: Browser, watch: Watch, validators: Validators, read: ReadText
) -> Outcome:
    """What the watch's source answers, chosen as in :func:`fetch_all` (the daemon's way)."""
    if watch.fetcher == "browser":
        return _rendered(fetcher, browser, watch)
    try:
        result: Outcome = fetcher.fetch(watch, validators)
    except FetchError as err:
        result = err
    return _render_if_shell(browser, watch, result, read)


def _render_if_shell(browser: Browser, watch: Watch, result: Outcome, read: ReadText) -> Outcome:
    """An ``auto`` page that only scripts would fill is rendered in the browser instead."""
    if watch.fetcher == "auto" and browser.fetcher is not None and _is_shell(watch, result, read):
        return browser.fetch(watch)
    return result


def _rendered(fetcher: Fetcher, browser: Browser, watch: Watch) -> Outcome:
    try:
        fetcher.check_robots(watch)
    except FetchError as err:
        return err
    return browser.fetch(watch)


def _is_shell(watch: Watch, result: Outcome, read: ReadText) -> bool:
    """Whether an HTTP response is a page whose text only scripts would build."""
    if isinstance(result, FetchError) or result.not_modified:
        return False
    try:
        text = read(result.body, result.content_type, watch.select, watch.remove)
    except ExtractError:
        return needs_browser(result.body, 0)
    return needs_browser(result.body, len(text.split()))
