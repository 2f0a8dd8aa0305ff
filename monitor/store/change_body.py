"""A change's rendered diff and passages, stored as one zstd frame (schema step m012).

A change's ``diff_text``, ``added`` and ``removed`` repeat the paragraphs the edit touched,
which the versions already store (monitor/store/paragraphs.py). They are kept as one zstd
frame (``changes.body``) of the JSON list ``[diff_text, added, removed]`` whose first byte
says its dictionary: ``FRAME`` none, ``NEAR_EDIT`` the texts of the paragraphs around the
edit in both versions (what the diff shows, so a one-sentence edit costs a few dozen bytes
where plain columns took hundreds). The dictionary is made of stored rows that never change
(a version's paragraph list, a paragraph's text), the same on reading as on writing.

Reading is bounded (``MAX_BODY``) and a frame that does not decode to such a list is a
damaged database. Changes stored before m012 that m012 could not check keep their plain
columns and are read as before.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from monitor.store import compress, paragraphs, texts
from monitor.store.connection import Connection
from monitor.store.rows import damaged

FRAME, NEAR_EDIT = b"\x00", b"\x01"
NEAR = 2  # paragraphs either side of a changed one in the dictionary (the diff shows 1)
MAX_DICT = 1 << 20  # bytes of paragraph text in a dictionary (a rewrite: its first MB)
MAX_BODY = 1 << 28  # bytes a stored body may declare (texts are capped far below)
# Bodies and dictionaries up to SMALL bytes are packed at zstd's level 19, up to LARGE at
# level 12, bigger ones at compress.LEVEL. Level 19 is slow past a few hundred KB (the 79
# imported corpus changes between 256 KB and 1 MB: 5.0 s of 5.7 s for all 246 at level 19;
# at level 12 0.2 s, their frames 316 -> 343 KB); a one-sentence edit is a few KB.
SMALL = 1 << 18
LARGE = 1 << 20
BIG_LEVEL = 12
CACHED = 256  # paragraph lists a reader of many changes keeps (a change's two versions)
Body = tuple[str, list[Any], list[Any]]
# What a reader of many changes keeps between them: the largest paragraph id ("most") and
# the paragraph lists of versions read ((document, number)); one change's new version is
# often the next one's old version.
Cache = dict[Any, Any]


def pack(db: Connection, row: dict[str, Any], body: Body) -> bytes:
    """The stored ``body`` column of a change ``row`` (its document and versions)."""
    data = json.dumps(list(body), ensure_ascii=False, separators=(",", ":"))
    data_bytes = data.encode("utf-8", "surrogatepass")
    near = _near_edit(db, row, strict=False, cache={})
    prefix = b"" if near is None else near
    return (FRAME if near is None else NEAR_EDIT) + _frame(data_bytes, prefix)


# Frames made last, by what they are made of (the body, its dictionary, the level: zstd
# gives the same bytes for the same three). A history flipping between two variants
# records the same change again and again (meta-facebook-privacy: 172 changes, 99
# distinct), each a zstd frame at level 19 of up to 256 KB (tens of ms).
PACKED_REMEMBERED = 32
_packed: OrderedDict[tuple[bytes, bytes, int], bytes] = OrderedDict()


def _frame(data: bytes, prefix: bytes) -> bytes:
    level = _level(len(data) + len(prefix))
    key = (_digest(data), _digest(prefix), level)
    frame = _packed.get(key)
    if frame is None:
        frame = _packed[key] = compress.pack(data, prefix, level)
        if len(_packed) > PACKED_REMEMBERED:
            _packed.popitem(last=False)
    return frame


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _level(size: int) -> int:
    return 19 if size <= SMALL else BIG_LEVEL if size <= LARGE else compress.LEVEL


def unpack(db: Connection, row: dict[str, Any], cache: Cache | None = None) -> Body:
    """The ``[diff_text, added, removed]`` of a stored change ``row`` (``cache``: one
    kept while reading many changes in one transaction)."""
    what = f"change #{row.get('id')}"
    stored = row["body"]
    if not isinstance(stored, bytes) or stored[:1] not in (FRAME, NEAR_EDIT):
        raise damaged(f"{what}: its stored diff is not a known form")
    near = stored[:1] == NEAR_EDIT
    prefix = _near_edit(db, row, strict=True, cache={} if cache is None else cache) if near else b""
    try:
        data = compress.unpack_most(stored[1:], MAX_BODY, prefix or b"")
        diff, added, removed = json.loads(data.decode("utf-8", "surrogatepass"))
    except (ValueError, TypeError, RecursionError) as exc:
        raise damaged(f"{what}: its stored diff does not decode ({exc})") from None
    if not (isinstance(diff, str) and isinstance(added, list) and isinstance(removed, list)):
        raise damaged(f"{what}: its stored diff is not a diff and two lists of passages")
    return diff, added, removed


def _near_edit(db: Connection, row: dict[str, Any], strict: bool, cache: Cache) -> bytes | None:
    """The paragraphs around the edit, from both versions' paragraph lists (None: a
    version or paragraph missing; ``strict``: a damaged database instead)."""
    what = f"change #{row.get('id')}"
    lists = _lists(db, row, what, cache)
    if lists is None:
        if strict:
            raise damaged(f"{what}: a version its diff is stored on is gone")
        return None
    old, new = lists
    wanted = list(dict.fromkeys(_around(old, set(new)) + _around(new, set(old))))
    known = paragraphs.texts(db, wanted)
    if len(known) < len(wanted):
        if strict:
            raise damaged(f"{what}: a paragraph its diff is stored on is gone")
        return None
    return "\n".join(known[i] for i in wanted).encode("utf-8", "surrogatepass")[:MAX_DICT]


def _lists(
    db: Connection, row: dict[str, Any], what: str, cache: Cache
) -> tuple[list[int], list[int]] | None:
    """The paragraph ids of the change's old version (none: []) and new one."""
    if len(cache) > CACHED:
        cache.clear()
    if "most" not in cache:
        cache["most"] = int(db.execute("select coalesce(max(id), 0) from paragraphs").fetchone()[0])
    numbers = [n for n in (row.get("from_version"), row["to_version"]) if n is not None]
    keys = [(row["document"], n) for n in numbers]
    missing = [n for key, n in zip(keys, numbers, strict=True) if key not in cache]
    found = {
        int(n): (ids, base, base_ids)
        for n, ids, base, base_ids in db.execute(
            "select v.number, v.paragraph_ids, v.ids_base, b.paragraph_ids from versions v"
            " left join versions b on b.document = v.document and b.number = v.ids_base"
            f" where v.document = ? and v.number in ({', '.join('?' * len(missing))})"
            " and v.paragraph_ids is not null",
            [row["document"], *missing],
        ).fetchall()
    } if missing else {}  # fmt: skip
    if not numbers or len(found) < len(missing):
        return None
    for n in missing:  # a damaged list: the one-line damaged-database error (texts.py)
        cache[(row["document"], n)] = texts.list_ids(*found[n], what, cache["most"])
    lists = [cache[key] for key in keys]
    return (lists[0], lists[1]) if len(lists) == 2 else ([], lists[0])


def _around(ids: list[int], other: set[int]) -> list[int]:
    """The ids ``NEAR`` places either side of each id of ``ids`` missing from ``other``."""
    out: dict[int, None] = {}
    for i, pid in enumerate(ids):
        if pid not in other:
            out.update(dict.fromkeys(ids[max(0, i - NEAR) : i + NEAR + 1]))
    return list(out)
