"""The board's rows (issue 16): each cell's history, and which version each document's
board was last read from. Functions over a :class:`~monitor.store.db.Store` (the SQL of
the board lives here, next to the store's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from monitor.models import BoardEntry
from monitor.store.db import Store
from monitor.store.rows import dt, ts


def board_state(store: Store, doc_id: str) -> tuple[int, str] | None:
    """The version and rules the document's board was last read with (None: never)."""
    rows = store.db.rows("select * from board_state where document = ?", [doc_id])
    return (int(rows[0]["version"]), str(rows[0]["rules"])) if rows else None


def stale_boards(store: Store, rules: str) -> list[str]:
    """Documents whose board was never read, or read from another version or other rules
    than their current version and ``rules`` (one query: a sweep that changed nothing
    costs no statement per document)."""
    sql = (
        "select d.id from documents d left join board_state b on b.document = d.id "
        "where d.current_version is not null and (b.document is null "
        "or b.version != d.current_version or b.rules != ?) order by d.id"
    )
    return [str(row[0]) for row in store.db.execute(sql, [rules])]


def newest_board_row(store: Store) -> int:
    """The newest board row's id (0: none): what the board's files were last made from."""
    return int(store.db.execute("select max(id) from board_cells").fetchone()[0] or 0)


def set_board_state(store: Store, doc_id: str, version: int, rules: str, at: str) -> None:
    store.db.execute(
        "insert into board_state (document, version, rules, at) values (?, ?, ?, ?) "
        "on conflict(document) do update set version = excluded.version, "
        "rules = excluded.rules, at = excluded.at",
        [doc_id, version, rules, at],
    )


def current_state(store: Store, doc_id: str) -> str:
    """The decision state of the newest check that saw a version ("changed",
    "alternating", "upgraded"...; "" before any)."""
    row = store.db.execute(
        "select state from fetches where document = ? and version is not null "
        "order by id desc limit 1",
        [doc_id],
    ).fetchone()
    return str(row[0] or "") if row else ""


def add_board_entry(store: Store, entry: BoardEntry) -> int:
    row = asdict(entry)
    for key in ("id", "company", "title", "url"):
        row.pop(key)
    row.update(
        at=ts(entry.at),
        first_seen=ts(entry.first_seen) if entry.first_seen else None,
        which=json.dumps(list(entry.which), ensure_ascii=False),
        previous_which=json.dumps(list(entry.previous_which), ensure_ascii=False),
        place=row.pop("where"),
    )
    return store.db.insert("board_cells", row)


_SELECT = (
    "select b.*, d.company, d.title, d.url from board_cells b "
    "join documents d on d.id = b.document "
)


def latest_cells(store: Store, doc_id: str) -> dict[str, BoardEntry]:
    """The board of one document: the newest row of each of its cells."""
    sql = _SELECT + (
        "where b.id in (select max(id) from board_cells where document = ? group by cell)"
    )
    return {entry.cell: entry for entry in _entries(store, sql, [doc_id])}


def cells_since(store: Store, doc_id: str) -> dict[str, tuple[int, str]]:
    """Since which version (and time) each cell of a document has had its value: its
    newest row that was not a new citation of the same value."""
    rows = store.db.execute(
        "select cell, version, at from board_cells where id in (select max(id) from "
        "board_cells where document = ? and kind != 'cite' group by cell)",
        [doc_id],
    ).fetchall()
    return {str(cell): (int(version), str(at)) for cell, version, at in rows}


def board_changes(store: Store, limit: int | None = None) -> list[BoardEntry]:
    """Changes of a cell's value (what the board feed shows), newest first."""
    sql = _SELECT + "where b.kind = 'change' order by b.id desc"
    if limit is not None:
        sql += f" limit {int(limit)}"
    return _entries(store, sql, [])


def board_history(store: Store, doc_id: str | None = None) -> list[BoardEntry]:
    """Every recorded row, oldest first (of one document, or of all)."""
    where, args = ("where b.document = ? ", [doc_id]) if doc_id else ("", [])
    return _entries(store, _SELECT + where + "order by b.id", args)


def _entries(store: Store, sql: str, args: list[Any]) -> list[BoardEntry]:
    cursor = store.db.execute(sql, args)
    names = [col[0] for col in cursor.description]
    return [_entry(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _entry(r: dict[str, Any]) -> BoardEntry:
    return BoardEntry(
        id=r["id"], document=r["document"], cell=r["cell"], at=dt(r["at"]),
        version=r["version"], value=r["value"], which=tuple(json.loads(r["which"] or "[]")),
        sentence=r["sentence"] or "", where=r["place"] or "",
        sentence_version=r["sentence_version"],
        first_seen=dt(r["first_seen"]) if r["first_seen"] else None,
        evidence_change=r["evidence_change"], kind=r["kind"],
        previous_value=r["previous_value"] or "",
        previous_which=tuple(json.loads(r["previous_which"] or "[]")),
        previous_sentence=r["previous_sentence"] or "", rules=r["rules"] or "",
        company=r["company"], title=r["title"], url=r["url"],
    )  # fmt: skip


def newest_texts(store: Store, doc_id: str) -> Iterator[tuple[int, str, str]]:
    """(number, first seen, text) of each version of a document, newest first, read a few
    at a time as the caller asks (a long history is never all in memory). Each batch is
    its own finished query: no statement stays open while the caller writes."""
    below = None
    while True:
        rows = store.db.execute(
            "select number, first_seen from versions where document = ?"
            " and number < coalesce(?, number + 1) order by number desc limit 8",
            [doc_id, below],
        ).fetchall()
        if not rows:
            return
        for number, first_seen in rows:
            version = store.version(doc_id, int(number))  # rebuilt and checked (texts.py)
            yield int(number), str(first_seen), version.text if version else ""
        below = rows[-1][0]


def change_for_version(store: Store, doc_id: str, number: int, latest: bool = False) -> int | None:
    """The change that recorded version ``number`` (its first, or with ``latest`` its
    newest: a return to an earlier text is a change to that version too)."""
    order = "max" if latest else "min"
    found = store.db.execute(
        f"select {order}(id) from changes where document = ? and to_version = ?",
        [doc_id, number],
    ).fetchone()[0]
    return int(found) if found is not None else None
