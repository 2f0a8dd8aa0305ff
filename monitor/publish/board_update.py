"""Brings the recorded board up to date with each document's current version (issue 16).

A document's board is read again only when its current version (or the board's rules)
moved since the last reading, so a sweep that changed nothing reads nothing and records
nothing. A cell whose value (or what it names) moved gets one ``change`` row (one
board-feed entry); a cell whose value stayed but whose sentence moved gets a ``cite`` row;
a cell moved by new rules on the same version, or by a newer extractor's reading of the
same page, gets a ``rules`` row, and one moved by a flip between A/B or regional variants
of the page (the check said "alternating") a ``variant`` row: no entry for either, as no
alert is raised for them in the change feeds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from monitor.board import CELLS, Cell, board_version, derive_cells, sentence_key
from monitor.models import BoardEntry, Version
from monitor.store import Store
from monitor.store.board import (
    add_board_entry,
    board_state,
    change_for_version,
    current_state,
    latest_cells,
    newest_texts,
    set_board_state,
    stale_boards,
)
from monitor.store.rows import dt, ts

# A check's state -> the kind of a cell's move it causes that is no board-feed entry.
QUIET_STATES = {"alternating": "variant", "upgraded": "rules"}


def update_board(store: Store) -> int:
    """Reads the board of every document whose current version is new to it; returns the
    number of documents read (0: the board is as it was)."""
    rules = board_version()
    stale = stale_boards(store, rules)
    for doc_id in stale:
        current = store.current_version(doc_id, with_text=False)
        assert current is not None  # stale_boards lists documents with a current version
        state = board_state(store, doc_id)
        quiet = QUIET_STATES.get(current_state(store, doc_id), "")
        if state is not None and state[0] == current.number:
            quiet = "rules"
        with store.transaction():
            _read_document(store, doc_id, current.number, rules, quiet)
    return len(stale)


def _read_document(store: Store, doc_id: str, number: int, rules: str, quiet: str) -> int:
    version = store.version(doc_id, number)
    assert version is not None
    cells = derive_cells(version.text)
    latest = latest_cells(store, doc_id)
    find = _first_version_finder(store, doc_id, latest)
    recorded = 0
    for name in CELLS:
        entry = _entry(store, version, cells[name], latest.get(name), find, rules)
        if entry is not None and quiet and entry.kind == "change":
            entry = replace(entry, kind=quiet)
        if entry is not None:
            add_board_entry(store, entry)
            recorded += entry.kind == "change"
    set_board_state(store, doc_id, number, rules, ts(version.last_seen))
    return recorded


def _entry(
    store: Store, version: Version, cell: Cell, before: BoardEntry | None,
    find: Callable[[str], tuple[int, datetime] | None], rules: str,
) -> BoardEntry | None:  # fmt: skip
    if before is None:
        kind = "first"
    elif (before.value, before.which) != (cell.value, cell.which):
        kind = "change"
    elif (before.sentence, before.where) != (cell.sentence, cell.where):
        kind = "cite"
    else:
        return None
    found = find(cell.sentence) if cell.sentence else None
    sentence_version, first_seen = found if found else (None, None)
    evidence = (
        change_for_version(store, version.document, sentence_version)
        if sentence_version is not None
        else change_for_version(store, version.document, version.number, latest=True)
    )
    return BoardEntry(
        id=0, document=version.document, cell=cell.name, at=version.last_seen,
        version=version.number, value=cell.value, which=cell.which, sentence=cell.sentence,
        where=cell.where, sentence_version=sentence_version, first_seen=first_seen,
        evidence_change=evidence, kind=kind,
        previous_value=before.value if before else "",
        previous_which=before.which if before else (),
        previous_sentence=before.sentence if before else "", rules=rules,
    )  # fmt: skip


def _first_version_finder(
    store: Store, doc_id: str, latest: dict[str, BoardEntry]
) -> Callable[[str], tuple[int, datetime] | None]:
    """Finds the version from which the text has had a sentence without a break (its
    words, as the classifier compares sentences): read newest first, stopping at the first
    version without it, so a sentence the last change brought costs one version read, not
    the whole history. A sentence the board already cites keeps its known answer."""
    known = {
        sentence_key(e.sentence): (e.sentence_version, e.first_seen)
        for e in latest.values()
        if e.sentence and e.sentence_version is not None and e.first_seen is not None
    }
    words: list[tuple[int, str, str]] = []  # word forms read so far, newest first
    texts = newest_texts(store, doc_id)

    def find(sentence: str) -> tuple[int, datetime] | None:
        key = sentence_key(sentence)
        if key in known:
            number, seen = known[key]
            return (number, seen) if number is not None and seen is not None else None
        found: tuple[int, datetime] | None = None
        for k in itertools.count():
            if k == len(words):
                row = next(texts, None)
                if row is None:
                    break
                words.append((row[0], row[1], f" {sentence_key(row[2])} "))
            number, first, text = words[k]
            if f" {key} " not in text:
                break
            found = number, dt(first)
        return found

    return find
