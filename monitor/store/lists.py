"""A version's paragraph list whole, or as a delta on an earlier version's (schema step
m013, issue 15).

A whole list (``versions.paragraph_ids``, ``ids_base`` NULL) is the JSON runs of
paragraphs.py: ``n`` is the id n, ``[a, b]`` the ids a to b. Each edit of a document adds
two runs to every later version's list, so after 60 edits the list alone was 340 bytes of
each new version. A delta (``ids_base`` = the number of a version of the same document
whose list is whole) is the same runs where a run of the whole list that is the base's
run i is written ``-i``, and its runs i to j ``[-i, -j]`` (1 from the first): an edit
costs the runs around it, not the whole list again. A new version is a delta on the
base its predecessor used while the delta stays under a fraction of the whole list, else
whole (and the base of those after it). A delta expands to exactly the runs of the whole
list (the view ``version_runs`` does it in SQL, schema.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from monitor.store.paragraphs import encode_ids

Run = tuple[int, int]
# A delta is kept when it is at most this share of the whole list; else the list is whole.
DELTA_SHARE = 0.35


def runs(ids: Sequence[int]) -> list[Run]:
    """The runs of consecutive ids, as paragraphs.encode_ids writes them."""
    out: list[Run] = []
    for pid in ids:
        if out and pid == out[-1][1] + 1:
            out[-1] = (out[-1][0], pid)
        else:
            out.append((pid, pid))
    return out


def encode(ids: Sequence[int], base: Sequence[Run] | None) -> tuple[str, bool]:
    """The stored list of ``ids`` and whether it is a delta on ``base`` (the runs of the
    whole list it would name; None: no base to name)."""
    whole = encode_ids(ids)
    if not base:
        return whole, False
    where = {run: i for i, run in enumerate(base, start=1)}
    parts: list[int | list[int]] = []
    copied: list[int] | None = None  # the base runs [i, j] being copied
    for run in runs(ids):
        i = where.get(run)
        if i is not None and copied is not None and i == copied[1] + 1:
            copied[1] = i
            continue
        _close(parts, copied)
        copied = [i, i] if i is not None else None
        if i is None:
            parts.append(run[0] if run[0] == run[1] else [run[0], run[1]])
    _close(parts, copied)
    delta = json.dumps(parts, separators=(",", ":"))
    return (delta, True) if len(delta) <= DELTA_SHARE * len(whole) else (whole, False)


def _close(parts: list[int | list[int]], copied: list[int] | None) -> None:
    if copied is not None:
        parts.append(-copied[0] if copied[0] == copied[1] else [-copied[0], -copied[1]])


def decode(stored: object, base: object, most: int) -> list[int]:
    """The ids of a stored list (``base``: the stored whole list of its base, None for a
    whole list); ValueError when either is no such list of ids from 1 to ``most`` or the
    delta names a run its base lacks."""
    base_runs = None if base is None else whole_runs(base, most)
    ids: list[int] = []
    for part in _parts(stored):
        first, last = part if isinstance(part, list) and len(part) == 2 else (part, part)
        if not (type(first) is type(last) is int):
            raise ValueError(f"{str(part)[:40]} is not a run")
        if 1 <= first <= last <= most:
            ids.extend(range(first, last + 1))
        elif base_runs is None or not 1 <= -first <= -last <= len(base_runs):
            raise ValueError(f"{str(part)[:40]} is not a run of the {most} paragraph ids")
        else:
            for a, b in base_runs[-first - 1 : -last]:
                ids.extend(range(a, b + 1))
    return ids


def whole_runs(stored: object, most: int) -> list[Run]:
    """The runs of a whole list as stored (a run of the JSON is a run here, as the view
    ``version_runs`` reads it); ValueError as ``decode``."""
    out: list[Run] = []
    for part in _parts(stored):
        first, last = part if isinstance(part, list) and len(part) == 2 else (part, part)
        if not (type(first) is type(last) is int and 1 <= first <= last <= most):
            raise ValueError(f"{str(part)[:40]} is not a run of the {most} paragraph ids")
        out.append((first, last))
    return out


def _parts(stored: object) -> list[object]:
    try:
        parts = json.loads(stored) if isinstance(stored, (str, bytes)) else None
    except RecursionError:
        raise ValueError("nested too deep") from None
    if not isinstance(parts, list):
        raise ValueError("not a list of runs")
    return parts
