"""The store on a real SQLite file: snapshots once by hash, versions, changes, rollback."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.models import Change, Flag, Validators, Watch
from monitor.store import Store, sha256

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WATCH = Watch(id="doc", company="Example", title="Privacy Policy", url="http://x.test/")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "data")
    s.sync_documents([WATCH], NOW)
    return s


def change(**kw: object) -> Change:
    base: dict[str, object] = dict(
        id=0, document="doc", company="", title="", url="", detected_at=NOW, kind="changed",
        from_version=1, to_version=2, added_chars=5, removed_chars=0, diff_text="{+x+}",
    )  # fmt: skip
    base.update(kw)
    return Change(**base)  # type: ignore[arg-type]


def test_snapshots_are_stored_once_and_compressed(store: Store) -> None:
    body = b"<html>" + b"policy text " * 1000 + b"</html>"
    first = store.save_snapshot(body, "text/html", NOW)
    again = store.save_snapshot(body, "text/html", NOW)
    assert first == again == sha256(body)
    assert store.db.table("snapshots").count == 1
    assert store.snapshot(first) == (body, "text/html")
    stored = store.db.execute("select length(content) from snapshots").fetchone()[0]
    assert stored < len(body) / 10


def test_versions_are_numbered_and_current_moves(store: Store) -> None:
    assert store.current_version("doc") is None
    assert store.add_version("doc", "one", sha256(b"one"), "s1", NOW, extractor="1") == 1
    assert store.add_version("doc", "two", sha256(b"two"), "s2", NOW, extractor="2") == 2
    current = store.current_version("doc")
    assert current is not None and (current.number, current.text) == (2, "two")
    assert current.extractor == "2"
    found = store.version_with_key("doc", sha256(b"one"))
    assert found is not None and found.number == 1
    store.set_current("doc", 1, NOW)
    assert [v.number for v in store.versions("doc")] == [1, 2]
    assert store.current_version("doc").number == 1  # type: ignore[union-attr]


def test_changes_keep_flags_and_order(store: Store) -> None:
    flag = Flag("We train AI on posts.", "added", "train AI", "user-content-training", "r1")
    store.add_change(change(detected_at=NOW))
    saved = store.add_change(change(flags=(flag,)))
    assert saved.flags == (flag,) and saved.ai_training and saved.company == "Example"
    assert [c.id for c in store.changes()] == [1, 2]
    assert [c.id for c in store.changes(ai_only=True)] == [2]
    assert [c.id for c in store.changes(limit=1)] == [2]


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_version("doc", "half", sha256(b"half"), "s", NOW, extractor="1")
        raise RuntimeError("killed mid-check")
    assert store.versions("doc") == []


def test_state_loads_what_the_decision_needs(store: Store) -> None:
    store.add_version("doc", "one", sha256(b"one"), "s1", NOW, extractor="1")
    store.add_version("doc", "two", sha256(b"two"), "s2", NOW, extractor="1")
    store.set_failures("doc", 2)
    for seen, at in ((1, NOW - timedelta(days=9)), (2, NOW), (None, NOW), (1, NOW)):
        store.record_fetch("doc", {"started_at": at, "result": "ok", "version": seen})
    state = store.load_state("doc", window_start=NOW - timedelta(days=3))
    assert state.current is not None and state.current.number == 2
    # v1, read 9 days before, was still on the page when the 3-day window opened: it counts
    # as seen in it (journalist9), before the window's own fetches.
    assert (state.failures, state.last_number, state.recent) == (2, 2, (1, 2, 1))
    assert state.version_with_key(sha256(b"one")) == 1
    assert [f.result for f in store.fetches("doc")] == ["ok"] * 4


def test_validators_round_trip_and_reopen(tmp_path: Path, store: Store) -> None:
    store.set_validators("doc", Validators(etag='"abc"', last_modified="Mon, 01 Jan 2026"))
    store.close()
    reopened = Store(tmp_path / "data")  # migrations are not re-applied
    assert reopened.validators("doc") == Validators('"abc"', "Mon, 01 Jan 2026")
    mode = sqlite3.connect(tmp_path / "data" / "monitor.db").execute("pragma journal_mode")
    assert mode.fetchone()[0] == "wal"
