"""A new paragraph stored as an edit of one stored whole (schema step m014, issue 15).

A one-sentence edit makes a new line of a paragraph of hundreds of characters: stored
whole, it was the largest item of the edit (344 bytes of 1.9 KB). A long new line that
keeps most of the line it replaces (the one the previous version had in its place) is
stored as that line's first ``head`` characters, its own middle (``paragraphs.text``)
and that line's last ``tail`` characters, the replaced line being stored whole (``base``;
when it is itself such an edit, its base). Plain SQL rebuilds it (``FULL``: substr and
||, no function of ours), so the views and the full-text index (fed by triggers with the
whole text) read every paragraph whole; readers check each version against its sha256.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.store.connection import Connection

# The whole text of paragraph ``p`` (``b``: its base, left-joined), in SQL.
FULL = (
    "case when {p}.base is null then {p}.text else substr({b}.text, 1, {p}.head) || {p}.text"
    " || (case when {p}.tail > 0 then substr({b}.text, -{p}.tail) else '' end) end"
)
TEXT = FULL.format(p="p", b="b")
FROM = "paragraphs p left join paragraphs b on b.id = p.base"
LONG = 128  # characters: a shorter new line is stored whole
KEPT = 64  # characters of its base an edit keeps at least (else stored whole)
_CHUNK = 500

New = tuple[int, int, str, int | None]  # a new paragraph: id, hash, text, the line it replaces
Row = tuple[int, int, str, int | None, int | None, int | None]  # id, hash, text, base, head, tail


def rows(db: Connection, new: Sequence[New]) -> list[Row]:
    """The rows to insert for new paragraphs: each an edit of the line it replaces when
    long, mostly kept and plain text for SQL (no NUL), else whole."""
    roots = _roots(db, [old for _, _, text, old in new if old is not None and len(text) >= LONG])
    out: list[Row] = []
    for pid, digest, text, old in new:
        root = roots.get(old) if old is not None else None
        cut = _cut(root[1], text) if root is not None and len(text) >= LONG else None
        if root is None or cut is None:
            out.append((pid, digest, text, None, None, None))
        else:
            head, tail = cut
            out.append((pid, digest, text[head : len(text) - tail], root[0], head, tail))
    return out


def _cut(base: str, text: str) -> tuple[int, int] | None:
    """The characters ``text`` keeps of the start and end of ``base`` (None: too few)."""
    if "\x00" in base or "\x00" in text:  # SQLite's text functions stop at a NUL
        return None
    most = min(len(base), len(text))
    head = 0
    while head < most and base[head] == text[head]:
        head += 1
    tail = 0
    while tail < most - head and base[-1 - tail] == text[-1 - tail]:
        tail += 1
    if head + tail < KEPT or len(text) - head - tail > len(text) // 2:
        return None
    return head, tail


def _roots(db: Connection, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """For each of ``ids``: the paragraph stored whole it is (or is an edit of), and its text."""
    wanted = list(set(ids))
    found: dict[int, tuple[int, str]] = {}
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = (
            "select p.id, coalesce(b.id, p.id), coalesce(b.text, p.text) from paragraphs p"
            f" left join paragraphs b on b.id = p.base where p.id in ({marks})"
            " and (p.base is null or (b.id is not null and b.base is null))"
        )
        found.update((int(i), (int(r), str(t))) for i, r, t in db.execute(sql, chunk).fetchall())
    return found
