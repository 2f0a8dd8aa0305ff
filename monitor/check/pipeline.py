"""Checks documents: the only module that calls several stages.

One document's check is fetch -> store the raw snapshot -> extract from the *stored*
snapshot -> compare with the current version -> diff + classify -> record the change,
all recorded in one transaction. A failure is recorded for that document (never as a
change) and the sweep goes on with the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from monitor.check.suspect import suspect_reason
from monitor.classify import classify
from monitor.diff import diff_texts, words_key
from monitor.errors import ExtractError, FetchError
from monitor.extract.html import extract_text
from monitor.fetch.browser import BrowserFetcher, BrowserSettings, browser_available, needs_browser
from monitor.fetch.http import Fetcher
from monitor.models import Change, CheckOutcome, FetchResult, Validators, Version, Watch
from monitor.store import Store, sha256

Clock = Callable[[], datetime]
# Failures in a row before an operator is told that monitoring of a document is failing;
# one failure is often a blip the next check heals.
ALERT_AFTER = 3
# A text coming back within this many versions is an A/B or regional variant flipping,
# recorded as a return to that version without an alert.
REVERT_WINDOW = 10


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Browser:
    """The browser for script-built pages, or why there is none."""

    fetcher: BrowserFetcher | None = None
    problem: str = "no browser configured"

    def fetch(self, watch: Watch) -> FetchResult | FetchError:
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


def sweep(
    store: Store,
    fetcher: Fetcher,
    watches: Sequence[Watch],
    clock: Clock = utcnow,
    alert_after: int = ALERT_AFTER,
    browser: Browser = Browser(),
) -> list[CheckOutcome]:
    """Checks every watch once; outcomes in watchlist order.

    ``http`` and ``auto`` pages are fetched over HTTP, concurrently; an ``auto`` page that
    turns out to be a script shell, and every ``browser`` page, is rendered in the browser.
    """
    store.sync_documents(list(watches), clock())
    jobs = [(w, store.validators(w.id)) for w in watches if w.fetcher != "browser"]
    outcomes: dict[str, CheckOutcome] = {}
    for watch, result in fetcher.fetch_many(jobs):
        if watch.fetcher == "auto" and browser.fetcher is not None and _is_shell(watch, result):
            result = browser.fetch(watch)
        outcomes[watch.id] = check_document(store, watch, result, clock, alert_after)
    for watch in (w for w in watches if w.fetcher == "browser"):
        try:
            fetcher.check_robots(watch)
            result = browser.fetch(watch)
        except FetchError as err:
            result = err
        outcomes[watch.id] = check_document(store, watch, result, clock, alert_after)
    return [outcomes[w.id] for w in watches]


@lru_cache(maxsize=1)  # the page just checked for a shell; holds one body, not many
def _extract(
    body: bytes, content_type: str, select: tuple[str, ...], remove: tuple[str, ...]
) -> str:
    # An `auto` page is extracted to tell whether it is a script shell, then again from
    # its stored snapshot (the same bytes): extraction is pure, so the second is a lookup.
    return extract_text(body, content_type, select=select, remove=remove)


def _is_shell(watch: Watch, result: FetchResult | FetchError) -> bool:
    """Whether an HTTP response is a page whose text only scripts would build."""
    if isinstance(result, FetchError) or result.not_modified:
        return False
    try:
        text = _extract(result.body, result.content_type, watch.select, watch.remove)
    except ExtractError:
        return needs_browser(result.body, 0)
    return needs_browser(result.body, len(text.split()))


def check_document(
    store: Store,
    watch: Watch,
    result: FetchResult | FetchError,
    clock: Clock = utcnow,
    alert_after: int = ALERT_AFTER,
) -> CheckOutcome:
    """Records one fetch of a document and whatever it changed, in one transaction."""
    with store.transaction():
        before = store.consecutive_failures(watch.id)
        outcome = _check(store, watch, result, clock)
        _record_health(store, watch, outcome, before, alert_after, clock())
        return outcome


def _record_health(
    store: Store, watch: Watch, outcome: CheckOutcome, before: int, alert_after: int, now: datetime
) -> None:
    """One "failing" event when failures reach the threshold, one "recovered" after."""
    after = store.consecutive_failures(watch.id)
    if before < alert_after <= after:
        store.record_health(watch.id, "failing", now, after, outcome.message)
    elif after == 0 and before >= alert_after:
        store.record_health(watch.id, "recovered", now, before, "")


def _check(
    store: Store, watch: Watch, result: FetchResult | FetchError, clock: Clock
) -> CheckOutcome:
    if isinstance(result, FetchError):
        return _failed(store, watch, _attempt(result, clock(), error=str(result)))
    if result.not_modified:
        return _not_modified(store, watch, result)
    digest = store.save_snapshot(result.body, result.content_type, result.fetched_at)
    body, content_type = store.snapshot(digest)
    try:
        text = _extract(body, content_type, watch.select, watch.remove)
    except ExtractError as exc:
        attempt = _attempt(result, clock(), error=f"no policy text: {exc}", snapshot=digest)
        return _failed(store, watch, attempt)
    store.record_fetch(watch.id, _attempt(result, clock(), snapshot=digest))
    store.set_validators(watch.id, _validators(result))
    return record_text(store, watch, text, digest, result.fetched_at)


def record_text(
    store: Store, watch: Watch, text: str, snapshot: str, seen_at: datetime
) -> CheckOutcome:
    """Compares an extracted text with the current version and records what it is."""
    current = store.current_version(watch.id)
    key = sha256(words_key(text).encode())
    if current is None:
        number = store.add_version(watch.id, text, key, snapshot, seen_at)
        return CheckOutcome(watch.id, "first", f"first version (v{number})")
    if current.key_sha256 == key:
        store.set_current(watch.id, current.number, seen_at)
        store.set_suspect(watch.id, None)
        return CheckOutcome(watch.id, "unchanged", f"unchanged (v{current.number})")
    reason = suspect_reason(current.text, text)
    if reason and store.suspect(watch.id) != key:
        store.set_suspect(watch.id, key, reason, seen_at)
        message = f"held as suspect, not recorded until seen again: {reason}"
        return CheckOutcome(watch.id, "suspect", message)
    store.set_suspect(watch.id, None)
    earlier = store.version_with_key(watch.id, key)
    if earlier is not None and current.number - earlier.number <= REVERT_WINDOW:
        store.set_current(watch.id, earlier.number, seen_at)
        return CheckOutcome(watch.id, "reverted", f"back to v{earlier.number}, no alert")
    number = store.add_version(watch.id, text, key, snapshot, seen_at)
    change = store.add_change(_change(watch, current, text, number, seen_at))
    label = f" (AI-training language {change.direction})" if change.flags else ""
    message = f"changed: v{current.number} -> v{number}{label}"
    return CheckOutcome(watch.id, "changed", message, change.id, change.ai_training)


def _change(watch: Watch, old: Version, text: str, number: int, seen_at: datetime) -> Change:
    diff = diff_texts(old.text, text)
    verdict = classify(old.text, text)
    return Change(
        id=0, document=watch.id, company=watch.company, title=watch.title, url=watch.url,
        detected_at=seen_at, kind="changed", from_version=old.number, to_version=number,
        added=diff.added, removed=diff.removed,
        added_chars=sum(len(p) for p in diff.added),
        removed_chars=sum(len(p) for p in diff.removed),
        diff_text=diff.rendered, flags=verdict.flags, ai_related=verdict.ai_related,
    )  # fmt: skip


def _not_modified(store: Store, watch: Watch, result: FetchResult) -> CheckOutcome:
    current = store.current_version(watch.id)
    if current is None:
        # A 304 with nothing stored to fall back on: forget the validators, refetch next time.
        store.set_validators(watch.id, Validators())
        error = "server said 304 Not Modified but no version is stored; will refetch"
        return _failed(store, watch, _attempt(result, result.fetched_at, error=error))
    store.record_fetch(watch.id, _attempt(result, result.fetched_at))
    store.set_current(watch.id, current.number, result.fetched_at)
    return CheckOutcome(watch.id, "unchanged", f"unchanged (v{current.number}, 304)")


def _failed(store: Store, watch: Watch, attempt: dict[str, Any]) -> CheckOutcome:
    store.record_fetch(watch.id, attempt)
    return CheckOutcome(watch.id, "failed", f"failed: {attempt['error']}")


def _validators(result: FetchResult) -> Validators:
    return Validators(etag=result.header("etag"), last_modified=result.header("last-modified"))


def _attempt(
    result: FetchResult | FetchError, now: datetime, error: str = "", snapshot: str | None = None
) -> dict[str, Any]:
    if isinstance(result, FetchError):
        return {"started_at": now, "duration": 0.0, "result": "failed", "error": error,
                "http_status": result.status, "url": result.url}  # fmt: skip
    outcome = "failed" if error else "not-modified" if result.not_modified else "ok"
    return {"started_at": result.fetched_at, "duration": result.duration, "result": outcome,
            "http_status": result.status, "error": error, "url": result.url,
            "final_url": result.final_url, "headers": list(result.headers),
            "snapshot_sha256": snapshot}  # fmt: skip
