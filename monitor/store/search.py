"""Phrase queries on the versions' paragraphs (``paragraphs`` and its FTS5 index
``paragraphs_fts``, made by schema step m010; see monitor/store/paragraphs.py).

A version is the list of its paragraph ids; the FTS index narrows a phrase down to the
paragraphs of the document that may hold it (or a piece of it), and the caller decides
with its own, exact rule (monitor/phrase.py). A query the index cannot narrow (None)
reads every paragraph of the document instead, each distinct one once.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.store import paragraphs, splice, texts
from monitor.store.db import Store
from monitor.store.rows import damaged

_CHUNK = 500


def paragraph_lists(store: Store, doc_id: str) -> tuple[dict[int, list[int]], list[int]]:
    """Each version's paragraph ids by number, and the numbers of versions kept in their
    pre-m010 form (their text is read whole: ``Store.version``)."""
    rows = store.db.execute(
        "select number, paragraph_ids, ids_base from versions where document = ? order by number",
        [doc_id],
    ).fetchall()
    most = texts.largest_id(store.db)
    stored = {int(n): ids for n, ids, _ in rows}
    lists = {
        int(n): texts.list_ids(ids, base, stored.get(base), f"{doc_id} v{n}: text", most)
        for n, ids, base in rows
        if ids
    }
    _require_rows(store, doc_id, lists)
    return lists, [int(n) for n, ids, _ in rows if not ids]


def _require_rows(store: Store, doc_id: str, lists: dict[int, list[int]]) -> None:
    """A damaged database unless every listed paragraph has its row: a missing one would
    read as a line holding no piece of the phrase (a false "in none of its versions")."""
    wanted = sorted({pid for listed in lists.values() for pid in listed})
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = store.db.execute(  # an edit whose base is gone has no whole text (splice.py)
            f"select p.id from {splice.FROM} where p.id in ({marks}) and {splice.TEXT} is not null",
            chunk,
        )
        lost = set(chunk).difference(r[0] for r in rows.fetchall())
        if lost:
            number = next(n for n, ids in lists.items() if not lost.isdisjoint(ids))
            raise damaged(f"{doc_id} v{number}: text lost a paragraph")


def paragraph_texts(store: Store, ids: Iterable[int], fts_query: str | None) -> dict[int, str]:
    """The texts of those of ``ids`` that match ``fts_query`` (an FTS5 query; None: all)."""
    if fts_query is None:
        return paragraphs.texts(store.db, ids)
    # The index alone, then the document's lines: an FTS5 match with "rowid in (...)" is
    # many times slower than the match and a set intersection.
    matched = store.db.execute(
        "select rowid from paragraphs_fts where paragraphs_fts match ?", [fts_query]
    ).fetchall()
    return paragraphs.texts(store.db, set(ids).intersection(r[0] for r in matched))


# Every character Python's str.strip() removes below U+3001: a line of only these is blank.
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def blank_paragraphs(store: Store, ids: Iterable[int]) -> dict[int, str]:
    """Those of ``ids`` that are blank lines (a phrase's whitespace may run over them)."""
    # whole: an edit's middle may be blank
    return _paragraphs_where(store, ids, f"trim({splice.TEXT}, ?) = ''", _SPACES)


def paragraphs_matching(store: Store, ids: Iterable[int], glob: str) -> dict[int, str]:
    """Those of ``ids`` whose whole text matches ``glob`` (SQLite's GLOB), read in SQLite:
    the lines the FTS5 index cannot answer for (it splits "tr\\u00adain" into two words)."""
    return _paragraphs_where(store, ids, f"{splice.TEXT} glob ?", glob)


def _paragraphs_where(store: Store, ids: Iterable[int], test: str, arg: str) -> dict[int, str]:
    """Those of ``ids`` whose text passes the SQL ``test`` (one ``?``, bound to ``arg``),
    read in chunks of ids."""
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = store.db.execute(
            f"select p.id, {splice.TEXT} from {splice.FROM} where p.id in ({marks}) and {test}",
            [*chunk, arg],
        ).fetchall()
        found.update((int(pid), str(text)) for pid, text in rows)
    return found


def version_numbers(store: Store, doc_id: str) -> list[int]:
    """The document's version numbers, oldest first."""
    rows = store.db.execute(
        "select number from versions where document = ? order by number", [doc_id]
    ).fetchall()
    return [int(r[0]) for r in rows]
