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
from collections.abc import Iterable, Sequence

import sqlite_utils

# The ids looked up per statement (SQLite's default limit is 999 variables, or 32766).
_CHUNK = 500


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


def decode_ids(stored: str) -> list[int]:
    ids: list[int] = []
    for run in json.loads(stored):
        if isinstance(run, list):
            ids.extend(range(int(run[0]), int(run[1]) + 1))
        else:
            ids.append(int(run))
    return ids


def store(db: sqlite_utils.Database, parts: Sequence[str]) -> list[int]:
    """The ids of ``parts`` in order, inserting the paragraphs not stored yet."""
    hashes = [line_hash(p) for p in parts]
    known: dict[tuple[int, str], int] = {}
    distinct = list(dict.fromkeys(hashes))
    for i in range(0, len(distinct), _CHUNK):
        chunk = distinct[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(f"select id, hash, text from paragraphs where hash in ({marks})", chunk)
        known.update(((h, t), int(pid)) for pid, h, t in rows.fetchall())
    ids = []
    for digest, part in zip(hashes, parts, strict=True):
        if (digest, part) not in known:
            cursor = db.execute("insert into paragraphs (hash, text) values (?, ?)", [digest, part])
            known[digest, part] = int(cursor.lastrowid or 0)
        ids.append(known[digest, part])
    return ids


def texts(db: sqlite_utils.Database, ids: Iterable[int]) -> dict[int, str]:
    """The text of each paragraph id asked for (those that exist)."""
    wanted = list(set(ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(f"select id, text from paragraphs where id in ({marks})", chunk)
        found.update((int(pid), str(text)) for pid, text in rows.fetchall())
    return found


def rebuild(ids: Sequence[int], known: dict[int, str]) -> str | None:
    """The text of a version from its ids (None when a paragraph is missing)."""
    try:
        return joined([known[i] for i in ids])
    except KeyError:
        return None
