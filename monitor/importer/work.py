"""In a worker process of an import (monitor/importer/ahead.py): a chunk's texts, the
diff and verdict of each text with the one before, remembered across chunks (histories
flip between variants: the same bytes recur)."""

from __future__ import annotations

import signal
from collections import OrderedDict
from collections.abc import Set

from monitor.check.observe import Extractor, text_key
from monitor.classify import classifier_version, classify
from monitor.diff import Lengths, sure_lengths
from monitor.errors import ExtractError
from monitor.importer.lifeline import end_with_parent
from monitor.models import Classification

# Texts a worker remembers (histories flip between variants: the same bytes recur).
WORKER_MEMO = 64

Extracted = tuple[bool, str]  # (True, text) or (False, the ExtractError's message)
Key = tuple[str, str]  # a body's sha256 and its content type
Pairing = tuple[Key, Key]  # two steps' texts, the older first
Item = tuple[Key, bytes | Extracted]  # a step for a worker: its body, or its text if known
# Two consecutive steps' texts, their diff (None: made too slowly to be sure of it) and
# their verdict
Pair = tuple[Key, Key, Lengths | None, Classification]
Done = tuple[dict[Key, Extracted], list[Pair], str]  # ..., the rules' version
Made = tuple[Lengths | None, Classification, str]  # a pair's diff, verdict, rules' version

_TEXTS: OrderedDict[tuple[Key, tuple[str, ...], tuple[str, ...]], Extracted] = OrderedDict()


def work_chunk(
    extractor: Extractor, context: list[Item], batch: list[Item],
    select: tuple[str, ...], remove: tuple[str, ...],
    known: Set[Pairing] = frozenset(),
) -> Done:  # fmt: skip
    """In a worker: the texts of a chunk's bodies (after the step before the chunk, its
    context), and the diff and verdict of each text with the one before when their words
    differ (unless the pair is ``known``: its diff and verdict came back already)."""
    texts: dict[Key, Extracted] = {}
    bodies, how = context + batch, (select, remove)
    for key, body in bodies:
        if key not in texts:  # a text read by an earlier chunk comes as the text
            texts[key] = body if isinstance(body, tuple) else _extract(extractor, key, body, *how)
    pairs: list[Pair] = []
    last: tuple[Key, str] | None = None
    for key, _ in bodies:
        ok, text = texts[key]
        if not ok:
            continue
        if last is not None and (last[0], key) not in known and text_key(last[1]) != text_key(text):
            pairs.append((last[0], key, _sure_diff(last[1], text), classify(last[1], text)))
        last = (key, text)
    return texts, pairs, classifier_version()


def make_pair(old: str, new: str) -> Made:
    """In a worker: the diff and verdict of two texts (of two chunks' steps)."""
    return _sure_diff(old, new), classify(old, new), classifier_version()


_UNSURE: set[tuple[str, str]] = set()  # texts once diffed too slowly (a worker remembers diffs)


def _sure_diff(old: str, new: str) -> Lengths | None:
    """The diff, unless a busy machine made it reach one of its deadlines (then it may be
    coarser than the importing process's: that process makes it)."""
    if (old, new) in _UNSURE:
        return None
    lengths = sure_lengths(old, new)
    if lengths is None:
        _UNSURE.add((old, new))
    return lengths


def _extract(
    extractor: Extractor, key: Key, body: bytes, select: tuple[str, ...], remove: tuple[str, ...]
) -> Extracted:
    """In a worker: the step's text, or why there is none (remembered: variants recur)."""
    memo = (key, select, remove)
    found = _TEXTS.get(memo)
    if found is None:
        try:
            found = True, extractor.text(body, key[1], select, remove)
        except ExtractError as exc:
            found = False, str(exc)
        _TEXTS[memo] = found
        if len(_TEXTS) > WORKER_MEMO:
            _TEXTS.popitem(last=False)
    return found


def quiet(parent: int) -> None:
    """A worker leaves Ctrl-C to the importing process, which stops the workers itself,
    and ends when that process (``parent``, which forked it) is gone (killed: no one else
    would stop it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent(parent)
