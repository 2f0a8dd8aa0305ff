"""Version texts as lists of paragraphs, each distinct paragraph stored once (issue 15).

A version's text is cut at its line breaks; each line (a paragraph, a heading, a list
item; an empty line too) is stored once in ``paragraphs``, found again by a 64-bit hash
of its text (two texts of one hash are told apart by their text), with an FTS5 index
over it (``paragraphs_fts``). A version keeps the list of its paragraph ids in order,
``versions.paragraph_ids``, as JSON where ``n`` is one id and ``[a, b]`` the ids ``a``
to ``b``: new paragraphs get consecutive ids, so a text whose one line was edited is
three runs, and an edit costs its new line plus a few numbers. The text is the lines
joined by ``\\n`` again, exactly (checked against the version's sha256 by the reader).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import deque
from collections.abc import Iterable, Sequence

from monitor.store import splice
from monitor.store.connection import Connection

# The ids looked up per statement (SQLite's default limit is 999 variables, or 32766).
_CHUNK = 500
_NONE: deque[int] = deque()  # no ids of a text (never appended to)


def lines(text: str) -> list[str]:
    return text.split("\n")


def joined(parts: Sequence[str]) -> str:
    return "\n".join(parts)


def line_hash(line: str) -> int:
    """A signed 64-bit integer (SQLite's INTEGER) from the line's sha256."""
    return int.from_bytes(hashlib.sha256(line.encode("utf-8")).digest()[:8], "big", signed=True)


def encode_ids(ids: Sequence[int]) -> str:
    """``[[1, 79], 731, [81, 500]]``: runs of consecutive ids as [first, last]."""
    runs: list[int | list[int]] = []
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[i - 1] + 1:
            first, last = ids[start], ids[i - 1]
            runs.append(first if first == last else [first, last])
            start = i
    return json.dumps(runs, separators=(",", ":"))


def decode_ids(stored: object, most: int) -> list[int]:
    """The ids of a stored ``paragraph_ids``; ValueError unless it is a list of runs of
    ids from 1 to ``most`` (the largest id stored): a damaged list (``[[1, 1e18]]``,
    ``[1e400]``, arrays nested 100,000 deep) is refused before any id is listed."""
    try:
        runs = json.loads(stored) if isinstance(stored, (str, bytes)) else None
    except RecursionError:
        raise ValueError("nested too deep") from None
    if not isinstance(runs, list):
        raise ValueError("not a list of runs")
    ids: list[int] = []
    for run in runs:
        first, last = run if isinstance(run, list) and len(run) == 2 else (run, run)
        if not (type(first) is type(last) is int and 1 <= first <= last <= most):
            raise ValueError(f"{str(run)[:40]} is not a run of the {most} paragraph ids")
        ids.extend(range(first, last + 1))
    return ids


def store(
    db: Connection,
    parts: Sequence[str],
    previous: Sequence[int] = (),
    edits: bool = True,
    known: dict[int, str] | None = None,
) -> list[int]:
    """The ids of ``parts`` in order, inserting the paragraphs not stored yet.

    The ids follow ``previous`` (the document's last version) where the lines do, so an
    edit breaks its list into three runs, not more: a line takes the id that follows the
    previous line's id in ``previous`` when the text is the same, else an id of that
    text from ``previous``, else one stored for any document, else a new one. No id is
    used twice in one version (a repeated line is stored again: runs stay long). A new
    line is stored as an edit of the line it replaces (splice.py) where that pays, unless
    ``edits`` is False (schema step m010, which runs before m014 made them). ``known``:
    the text of each id of ``previous`` when the caller has it (else read here).
    """
    if known is None:
        known = texts(db, previous)
    after = {a: b for a, b in zip(previous, previous[1:], strict=False)}
    start = previous[0] if previous else None
    by_text: dict[str, deque[int]] = {}
    for pid in previous:
        if pid in known:
            by_text.setdefault(known[pid], deque()).append(pid)
    elsewhere = _stored_elsewhere(db, [p for p in parts if p not in by_text])
    ids: list[int] = []
    used: set[int] = set()
    new: list[splice.New] = []
    # New rows take the next ids in one statement, not one insert each (a rewrite of a long
    # page adds thousands); a writer holds the data directory's lock: no other one.
    next_id = int(db.execute("select coalesce(max(id), 0) + 1 from paragraphs").fetchone()[0])
    for part in parts:
        follow = after.get(ids[-1]) if ids else start
        if follow is None or follow in used or known.get(follow) != part:
            follow = _first_unused(by_text.get(part, _NONE), used)
        if follow is None:
            follow = _first_unused(elsewhere.get(part, _NONE), used)
        if follow is None:
            old = after.get(ids[-1]) if ids else start  # the line it replaces
            follow, next_id = next_id, next_id + 1
            new.append((follow, line_hash(part), part, old))
        ids.append(follow)
        used.add(follow)
    with db.atomic():  # a savepoint in the caller's transaction (committed when none)
        if edits:
            db.conn.executemany(
                "insert into paragraphs (id, hash, text, base, head, tail)"
                " values (?, ?, ?, ?, ?, ?)",
                splice.rows(db, new),
            )
        else:
            db.conn.executemany(
                "insert into paragraphs (id, hash, text) values (?, ?, ?)",
                [row[:3] for row in new],
            )
    return ids


def _first_unused(ids: deque[int], used: set[int]) -> int | None:
    """The first of ``ids`` not used yet; used ones are dropped for good (``used`` only
    grows), so a text repeated on thousands of lines costs each of its ids once, not once
    per line (quadratic: a rewrite of 20,000 paragraphs between blank lines took 6 s)."""
    while ids and ids[0] in used:
        ids.popleft()
    return ids[0] if ids else None


def _stored_elsewhere(db: Connection, parts: Sequence[str]) -> dict[str, deque[int]]:
    """The ids of paragraphs already stored with each of these texts."""
    found: dict[str, deque[int]] = {}
    distinct = list(dict.fromkeys(line_hash(p) for p in parts))
    for i in range(0, len(distinct), _CHUNK):
        chunk = distinct[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for pid, text in _whole(db, f"p.hash in ({marks})", chunk):
            found.setdefault(str(text), deque()).append(int(pid))
    return found


def texts(db: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The whole text of each paragraph id asked for (those that exist)."""
    wanted = list(set(ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        found.update((int(pid), str(text)) for pid, text in _whole(db, f"p.id in ({marks})", chunk))
    return found


def _whole(db: Connection, where: str, params: Sequence[int]) -> list[tuple[int, str]]:
    """(id, whole text) of the paragraphs ``where`` (of ``p``) selects; their stored text
    in a store before m014 (schema steps m010 and m012 read texts before it made edits)."""
    try:  # an edit whose base is gone has none: missing (a damaged database, texts.py)
        rows = db.execute(f"select p.id, {splice.TEXT} from {splice.FROM} where {where}", params)
        return [(pid, text) for pid, text in rows.fetchall() if text is not None]
    except sqlite3.OperationalError as exc:
        if "no such column" not in str(exc):
            raise
        return db.execute(f"select p.id, p.text from paragraphs p where {where}", params).fetchall()


def rebuild(ids: Sequence[int], known: dict[int, str]) -> str | None:
    """The text of a version from its ids (None when a paragraph is missing)."""
    try:
        return joined([known[i] for i in ids])
    except KeyError:
        return None
