"""Full-text queries on the versions' plain texts (table ``version_texts`` and its FTS5
index ``version_texts_fts``, made by schema step m006).

The FTS index narrows a phrase down to the versions that may hold it, newest first; the
caller decides on each candidate's text with its own, exact rule. A query the index
cannot narrow (a phrase with no word in it) reads every version instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor.store.db import Store


def candidate_texts(store: Store, doc_id: str, fts_query: str | None) -> Iterator[tuple[int, str]]:
    """(version number, plain text) of the versions of ``doc_id`` that may match
    ``fts_query`` (an FTS5 query; None: every version), newest first, one row at a time."""
    if fts_query is not None:
        yield from _rows(
            store,
            "select t.number, t.text from version_texts_fts f "
            "join version_texts t on t.id = f.rowid "
            "where version_texts_fts match ? and t.document = ? order by t.number desc",
            [fts_query, doc_id],
        )
        return
    yield from _rows(
        store,
        "select number, text from version_texts where document = ? order by number desc",
        [doc_id],
    )


def _rows(store: Store, sql: str, args: list[object]) -> Iterator[tuple[int, str]]:
    cursor = store.db.execute(sql, args)
    while rows := cursor.fetchmany(16):
        for number, text in rows:
            yield int(number), str(text)


def version_numbers(store: Store, doc_id: str) -> list[int]:
    """The document's version numbers, oldest first."""
    rows = store.db.execute(
        "select number from versions where document = ? order by number", [doc_id]
    ).fetchall()
    return [int(r[0]) for r in rows]
