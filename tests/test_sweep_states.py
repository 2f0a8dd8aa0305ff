"""A sweep chooses every document's validators from one query, and records the documents
fetched by then together (issue 15), on a real SQLite file: the same validators as
loading each document's whole state; a document that raises loses only its own rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.check.decide import Policy, request_validators, validators_for
from monitor.check.pipeline import record_batch
from monitor.errors import FetchError
from monitor.models import CheckOutcome, FetchResult, Validators, Watch
from monitor.store import Store, sha256
from monitor.store.documents import send_states

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
POLICY = Policy()
TAG = Validators('"v1"', "Sun, 01 Nov 2026 10:00:00 GMT")


def watch(doc: str) -> Watch:
    return Watch(id=doc, company="Example", title=doc, url=f"http://x.test/{doc}")


def recorded(store: Store, doc: str, full_fetch_ago: timedelta | None, tag: bool) -> None:
    """A document with a current version, stored validators and a last whole fetch."""
    store.add_version(doc, "text", sha256(doc.encode()), "snap", NOW, extractor="1")
    if tag:
        store.set_validators(doc, TAG)
    if full_fetch_ago is not None:
        store.set_last_full_fetch(doc, NOW - full_fetch_ago)


def test_one_query_chooses_what_each_documents_state_would(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    docs = ["new", "fresh", "stale", "untagged", "never-whole", "validated-no-version"]
    store.sync_documents([watch(d) for d in docs], NOW)
    recorded(store, "fresh", timedelta(hours=1), tag=True)
    recorded(store, "stale", POLICY.full_fetch_every + timedelta(hours=1), tag=True)
    recorded(store, "untagged", timedelta(hours=1), tag=False)
    recorded(store, "never-whole", None, tag=True)
    store.set_validators("validated-no-version", TAG)  # validators but no text to keep
    states = send_states(store)
    assert set(states) == set(docs)
    chosen = {d: validators_for(states[d], NOW, POLICY) for d in docs}
    each = {d: request_validators(store.load_state(d, NOW, False), NOW, POLICY) for d in docs}
    assert chosen == each
    sent = {d for d, v in chosen.items() if v != Validators()}
    assert sent == {"fresh"}  # the others fetch the whole page


class Broken(Exception):
    """A bug in one document's check."""


def test_a_batch_keeps_what_was_checked_before_a_document_that_raises(tmp_path: Path) -> None:
    """An error of the whole disk (OSError) stops the batch, those before it kept."""
    store = Store(tmp_path / "data")
    docs = ["a", "b", "c", "d"]
    store.sync_documents([watch(d) for d in docs], NOW)

    def check(w: Watch, result: FetchResult | FetchError) -> CheckOutcome:
        with store.transaction():  # as check_document: its own savepoint in the batch
            store.set_failures(w.id, 7)
            if w.id == "c":
                raise OSError(28, "No space left on device")
        return CheckOutcome(w.id, "failed", str(result))

    failure = FetchError("down", url="http://x.test/")
    with pytest.raises(OSError):
        record_batch(store, [(watch(d), failure) for d in docs], check)
    # reopened: what is on disk, not what the connection holds
    again = Store(tmp_path / "data")
    counts = {d: again.consecutive_failures(d) for d in docs}
    assert counts == {"a": 7, "b": 7, "c": 0, "d": 0}
    assert not store.db.conn.in_transaction


def test_a_bug_in_one_documents_check_fails_it_alone(tmp_path: Path) -> None:
    """A bug (an unexpected exception) met by one document undoes its savepoint and fails
    it in one line naming the traceback's file; the batch goes on (branch ops7)."""
    store = Store(tmp_path / "data")
    docs = ["a", "b", "c", "d"]
    store.sync_documents([watch(d) for d in docs], NOW)

    def check(w: Watch, result: FetchResult | FetchError) -> CheckOutcome:
        with store.transaction():
            store.set_failures(w.id, 7)
            if w.id == "c":
                raise Broken(w.id)
        return CheckOutcome(w.id, "failed", str(result))

    failure = FetchError("down", url="http://x.test/")
    done = record_batch(store, [(watch(d), failure) for d in docs], check)
    again = Store(tmp_path / "data")
    counts = {d: again.consecutive_failures(d) for d in docs}
    assert counts == {"a": 7, "b": 7, "c": 0, "d": 7}
    assert done["c"].status == "failed" and done["c"].message.startswith("crashed: Broken: c")
    (kept,) = (tmp_path / "data" / "crashes").iterdir()
    assert str(kept) in done["c"].message and "raise Broken(w.id)" in kept.read_text()


def test_a_batch_that_sqlite_undid_whole_keeps_the_first_error(tmp_path: Path) -> None:
    """A full disk can make SQLite roll the whole transaction back: the error that did it
    is what the operator reads, not "cannot commit - no transaction is active"."""
    store = Store(tmp_path / "data")
    store.sync_documents([watch(d) for d in ("a", "b")], NOW)

    def check(w: Watch, result: FetchResult | FetchError) -> CheckOutcome:
        store.set_failures(w.id, 7)
        if w.id == "b":
            store.db.execute("ROLLBACK")  # what SQLite does itself on some SQLITE_FULL
            raise Broken("disk full")
        return CheckOutcome(w.id, "failed", str(result))

    failure = FetchError("down", url="http://x.test/")
    with pytest.raises(Broken, match="disk full"):
        record_batch(store, [(watch(d), failure) for d in ("a", "b")], check)
    assert not store.db.conn.in_transaction
    again = Store(tmp_path / "data")
    assert again.consecutive_failures("a") == 0  # undone with the rest: refetched next run
