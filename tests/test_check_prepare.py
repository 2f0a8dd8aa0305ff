"""A check does its pure work (extract, diff, classify) before its transaction, so the
transaction and the data directory's lock around it are held for the writes only
(issue 15: a whole 4.9 MB rewrite held them 11 s). Real pages, a real store; the stages
are watched, not replaced: each call is the real one, told whether a transaction is open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor import diff
from monitor.check.observe import Extractor
from monitor.check.pipeline import check_document
from monitor.extract import html
from monitor.models import FetchResult, Watch
from monitor.store import Store
from tests.cli_helpers import policy

T0 = datetime(2026, 1, 1, tzinfo=UTC)
URL = "http://127.0.0.1/p"
WATCH = Watch("p", "C", "T", URL)
AI = "<li>We may use your public posts to train our AI models.</li>"


def _watched(calls: list[bool], store: Store, real: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(store.db.conn.in_transaction)
        return real(*args, **kwargs)

    return call


@pytest.mark.parametrize(
    ("second", "status"),
    [(policy(extra=AI), "changed"), (policy(token="t2"), "unchanged")],
    ids=["a change", "the same text"],
)
def test_extract_diff_and_classify_run_before_the_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: bytes, status: str
) -> None:
    store = Store(tmp_path)
    store.sync_documents([WATCH], T0)
    extracted: list[bool] = []
    compared: list[bool] = []
    # Both are imported where they are used (a check that gets a 304 needs neither).
    monkeypatch.setattr(html, "extract_text", _watched(extracted, store, html.extract_text))
    monkeypatch.setattr(diff, "diff_texts", _watched(compared, store, diff.diff_texts))
    for i, body in enumerate((policy(), second)):
        at = T0 + timedelta(hours=6 * i)
        result = FetchResult(URL, URL, 200, (), body, "text/html", at, 0.1)
        outcome = check_document(store, WATCH, result, clock=lambda at=at: at)
    assert outcome.status == status
    assert extracted == [False, False]  # each page read once, outside the transaction
    assert compared == ([False] if status == "changed" else [])
    if status == "changed":
        change = store.changes()[-1]
        assert change.ai_training and "train our AI models" in change.diff_text
    store.close()


def test_a_304_after_an_extractor_upgrade_numbers_the_new_reading_after_every_version(
    tmp_path: Path,
) -> None:
    """A 304 reads no version history (most checks), except when the current version was
    read by an older extractor: the upgrade's version then follows every stored one, also
    after a revert (current v1, last v2)."""
    store = Store(tmp_path)
    store.sync_documents([WATCH], T0)

    def reader(version: str) -> Extractor:
        def read(body: bytes, *_: Any) -> str:
            words = "policy text " * 40  # a full page, not a suspect short one
            return f"{body.decode()[:20]} {words}{'(read by v' + version + ')' * (version > '2')}"

        return Extractor(version=version, read=read)

    old, new = reader("2"), reader("3")
    pages = [b"A" * 20, b"B" * 20, b"A" * 20]
    for i, body in enumerate(pages):
        at = T0 + timedelta(hours=6 * i)
        result = FetchResult(URL, URL, 200, (("ETag", f'"{i}"'),), body, "text/html", at, 0.1)
        outcome = check_document(store, WATCH, result, clock=lambda at=at: at, extractor=old)
    current = store.current_version("p", with_text=False)
    assert current is not None and current.number == 1 and len(store.versions("p")) == 2
    at = T0 + timedelta(hours=24)
    not_modified = FetchResult(URL, URL, 304, (), b"", "text/html", at, 0.1, not_modified=True)
    outcome = check_document(store, WATCH, not_modified, clock=lambda: at, extractor=new)
    assert [v.number for v in store.versions("p")] == [1, 2, 3]
    assert store.current_version("p") == store.version("p", 3)
    assert store.upgrades("p")[0].from_version == 1 and store.upgrades("p")[0].to_version == 3
    assert outcome.status == "unchanged", outcome
    store.close()
