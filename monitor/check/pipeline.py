"""Checks documents: the only module that composes several stages.

A sweep loads what every document's validators need in one query, fetches every page
(monitor/check/sources.py chooses HTTP, browser or both; per-host queues start at once)
and checks each document as its fetch completes, in its own savepoint (the documents
fetched by then share a transaction): load its state, store the raw snapshot and read it
back into text (observe), decide over the table in monitor/check/decide.py, apply the
decision. A failure is recorded for that document (never as a change) and the sweep goes on;
so is a database error confined to one document's rows (a damaged text: that document's
check is rolled back and fails in one line naming it, the others are recorded), and a bug
met by one document's check (monitor/check/crash.py: one line, the traceback in a file). An error of
the whole database (disk full, read-only, busy) stops the sweep, those before it kept.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime

from monitor.check.apply import apply
from monitor.check.crash import crashed, unexpected
from monitor.check.decide import Policy, decide, prepare, request_validators, validators_for
from monitor.check.observe import Extractor, observe, text_key
from monitor.check.sources import Browser, browser_for, fetch_all
from monitor.claims import Claims
from monitor.errors import BusyError, ExtractError, FetchError
from monitor.fetch.http import Fetcher
from monitor.models import CheckOutcome, DocState, FetchResult, Validators, Watch
from monitor.store import Store
from monitor.store.documents import send_states

__all__ = ["ALERT_AFTER", "Browser", "browser_for", "check_document", "sweep", "Policy"]

Clock = Callable[[], datetime]
# Held around each write (a cron check: the data directory's lock, never while it fetches)
Hold = Callable[[], AbstractContextManager[object]]
# Fetched documents recorded in one transaction: those ready together, up to this many,
# for at most about this long (a kill loses no more than that, and only what is refetched).
BATCH_MOST, BATCH_SECONDS = 64, 0.25
# Failures in a row before an operator is told that monitoring of a document is failing;
# one failure is often a blip the next check heals.
ALERT_AFTER = Policy().alert_after
OTHERS = "the other documents were checked"


def utcnow() -> datetime:
    return datetime.now(UTC)


def sweep(
    store: Store,
    fetcher: Fetcher,
    watches: Sequence[Watch],
    clock: Clock = utcnow,
    alert_after: int = ALERT_AFTER,
    browser: Browser | None = None,
    policy: Policy | None = None,
    extractor: Extractor | None = None,
    hold: Hold = nullcontext,
    claims: Claims | None = None,
) -> list[CheckOutcome]:
    """Checks every watch once; outcomes in watchlist order. ``hold`` is held around each
    transaction (none while fetching); ``claims``: each document is claimed in its host's
    turn and released once recorded, one another process fetches is skipped."""
    policy = policy or Policy(alert_after=alert_after)
    extractor = extractor or Extractor()
    browser = browser or Browser()
    now = clock()
    with hold():
        store.sync_documents(list(watches), now)
    sendable = send_states(store)  # one query: the first requests go out at once
    jobs = [(w, validators_for(sendable[w.id], now, policy)) for w in watches]
    outcomes: dict[str, CheckOutcome] = {}

    def check(watch: Watch, result: FetchResult | FetchError) -> CheckOutcome:
        if isinstance(result, BusyError):  # its holder records what it fetches
            return CheckOutcome(watch.id, "skipped", str(result), state="skipped")
        return check_document(store, watch, result, clock, policy=policy, extractor=extractor)

    claim = claims.take if claims is not None else None
    for batch in fetch_all(fetcher, browser, jobs, extractor.text, BATCH_MOST, claim):
        try:
            outcomes.update(record_batch(store, batch, check, hold))
        finally:
            _release(claims, batch)
    return [outcomes[w.id] for w in watches]


def _release(claims: Claims | None, batch: Sequence[tuple[Watch, object]]) -> None:
    """The batch's documents are recorded (or their transaction undone): others may fetch."""
    if claims is not None:
        for watch, _ in batch:
            claims.release(watch.id)  # a no-op for one another process held


def record_batch(
    store: Store,
    batch: Sequence[tuple[Watch, FetchResult | FetchError]],
    check: Callable[[Watch, FetchResult | FetchError], CheckOutcome],
    hold: Hold = nullcontext,
) -> dict[str, CheckOutcome]:
    """Checks fetched documents several to a transaction (each in its own savepoint, so
    its decision and rows stay its own), committing at least every ``BATCH_SECONDS``;
    when one raises, those checked before it are committed before the error goes on."""
    done: dict[str, CheckOutcome] = {}
    pending = list(batch)
    while pending:
        started, failure = time.monotonic(), None
        with hold(), store.transaction():
            while pending and time.monotonic() - started < BATCH_SECONDS:
                watch, result = pending.pop(0)
                try:
                    done[watch.id] = check(watch, result)
                except BaseException as exc:  # noqa: BLE001 - re-raised once the rest is saved
                    if not store.db.conn.in_transaction:
                        raise  # SQLite undid the whole transaction (a full disk): keep its error
                    if isinstance(exc, sqlite3.DatabaseError) and document_error(exc):
                        done[watch.id] = not_recorded(watch, exc)  # its savepoint undone
                        continue
                    if unexpected(exc):  # a bug, met by this document: one line, go on
                        done[watch.id] = crashed(watch.id, exc, store.path.parent, OTHERS)
                        continue
                    failure = exc
                    break
        if failure is not None:
            raise failure
    return done


# SQLite errors of the whole file or its disk: every other document would fail alike.
_STORAGE = (
    "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_BUSY", "SQLITE_LOCKED",
    "SQLITE_NOMEM", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_NOTADB", "SQLITE_INTERRUPT",
)  # fmt: skip


def document_error(exc: sqlite3.DatabaseError) -> bool:
    """Whether the error is one of a document's rows (a damaged text or snapshot, a row
    that breaks a constraint), not of the whole database."""
    return not (getattr(exc, "sqlite_errorname", "") or "").startswith(_STORAGE)


def not_recorded(watch: Watch, exc: sqlite3.DatabaseError) -> CheckOutcome:
    what = "are damaged" if getattr(exc, "sqlite_errorname", "") == "SQLITE_CORRUPT" else "failed"
    return CheckOutcome(
        watch.id, "failed",
        f"not recorded: its rows in the database {what} ({exc}); the other documents were "
        "checked: restore the database from a backup if this repeats",
    )  # fmt: skip


def validators_to_send(store: Store, doc_id: str, now: datetime, policy: Policy) -> Validators:
    """The validators a fetch of the document sends now (none for a daily whole fetch)."""
    state = store.load_state(doc_id, now - policy.ab_window, with_text=False)
    return request_validators(state, now, policy)


def check_document(
    store: Store,
    watch: Watch,
    result: FetchResult | FetchError,
    clock: Clock = utcnow,
    alert_after: int = ALERT_AFTER,
    policy: Policy | None = None,
    extractor: Extractor | None = None,
) -> CheckOutcome:
    """Records one fetch of a document and whatever it changed, in one transaction."""
    policy = policy or Policy(alert_after=alert_after)
    extractor = extractor or Extractor()
    now = clock()
    _prepare(store, watch, result, now - policy.ab_window, extractor)
    with store.transaction():
        # The current text is read only for a page to compare: a 304 or a failure needs
        # none of it (a text stored as a delta is rebuilt and checked when read).
        state = _state(store, watch.id, result, now - policy.ab_window, extractor)
        obs = observe(store, watch, result, state, now, extractor)
        if obs.kind == "page" and state.current is not None:
            state = replace(state, current=store.current_version(watch.id))
        decision = decide(state, obs, watch, policy)
        return apply(store, watch, state, obs, decision)


def _state(
    store: Store, doc_id: str, result: FetchResult | FetchError, window_start: datetime,
    extractor: Extractor,
) -> DocState:  # fmt: skip
    """The document's state, without its versions' keys and recent fetches for a 304 that
    its current version answers (most checks); a 304 on a version an older extractor read
    (an upgrade numbers a new version) and every other result read them."""
    not_modified = isinstance(result, FetchResult) and result.not_modified
    state = store.load_state(doc_id, window_start, with_text=False, with_history=not not_modified)
    current = state.current
    if not_modified and current is not None and current.extractor != extractor.version:
        state = store.load_state(doc_id, window_start, with_text=False)
    return state


def _prepare(
    store: Store, watch: Watch, result: FetchResult | FetchError, window_start: datetime,
    extractor: Extractor,
) -> None:  # fmt: skip
    """The pure work of a check done before its transaction, so the transaction (and the
    data directory's lock around it) is held for the writes only: the page read into text
    and, when its words are new, diffed and classified against the current text. Both
    stages cache their last results (observe.py, decide.py), and the transaction reads
    the same bytes back from the store and compares the same texts, so it finds them."""
    if isinstance(result, FetchError) or result.not_modified:
        return
    try:
        text = extractor.text(result.body, result.content_type, watch.select, watch.remove)
    except ExtractError:
        return  # the transaction reads it again and records why it has no text
    state = store.load_state(watch.id, window_start, with_text=False)
    current = state.current
    if current is None or current.extractor != extractor.version:
        prepare(text, None)
        return
    key = text_key(text)
    version = None
    if key != current.key_sha256 and state.version_with_key(key) is None:
        version = store.current_version(watch.id)
    prepare(text, version.text if version is not None else None)
