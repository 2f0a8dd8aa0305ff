"""A pattern's needs and starts (``prefilter``) filed under short keys, for a cheaper test.

Most of a sentence's tests of the packs' alternatives find their needs missing, and each
string of a group is a scan of the sentence: a group of 100 strings missing costs 100
scans. Filed under keys (a string every string filed under it contains), a missing group
costs a scan per key, and a group that holds a scan of the key and of its strings. Starts
are filed the same way under the characters they begin with. Nothing here changes what is
found: ``holds_keyed`` is ``prefilter.holds``, and the starts found through the keys are
where ``prefilter.starts`` are (tests/test_classify_fast.py checks both on the packs).
"""

from __future__ import annotations

import re

from monitor.classify.prefilter import Needs, Starts

# a group as (key, members): every member contains its key; no members: the key is one of
# the group's strings itself
Keyed = tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]
KeyedStarts = tuple[tuple[str, tuple[str, ...]], ...]  # (key, the starts it begins)

KEY = 5  # a need's key: its first run of four letters or more, cut to this many
_RUN = re.compile("[a-z]{4,}")


def keyed(found: Needs) -> Keyed:
    """``found`` with each group's strings filed under keys, for ``holds_keyed``: a group
    missing from a text (most of them, in most sentences) costs a test per key, not per
    string ("fine-tune it", "fine-tunes them", ... are all under "fine")."""
    return tuple(_keyed(group) for group in found)


def _keyed(group: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    by_key: dict[str, list[str]] = {}
    for word in group:
        run = _RUN.search(word)
        by_key.setdefault(run.group()[:KEY] if run else word, []).append(word)
    return tuple(sorted(_filed(by_key), key=lambda item: (len(item[0]), item[0])))


def _filed(by_key: dict[str, list[str]]) -> list[tuple[str, tuple[str, ...]]]:
    """(key, members) pairs; a key that is a string itself, or a key of one string only,
    is that string with no members (found: the group holds, the start is there)."""
    items: list[tuple[str, tuple[str, ...]]] = []
    for key, members in by_key.items():
        if key in members or len(members) == 1:
            items.append((key if key in members else members[0], ()))
        else:
            items.append((key, tuple(members)))
    return items


START_KEY = 4  # starts that begin with the same four characters are looked for together


def keyed_starts(found: Starts) -> KeyedStarts:
    """``found`` filed under the string each begins with (its first START_KEY characters,
    where two or more share them): one scan of the text per key ("train on any", "train
    with a", "trained on c", ... are all looked for as "trai"), then a ``startswith``
    test of those that share it where the key is found."""
    by_key: dict[str, list[str]] = {}
    for word in found:
        by_key.setdefault(word[:START_KEY], []).append(word)
    return tuple(_filed(by_key))


def holds_keyed(found: Keyed, low: str) -> bool:
    """``prefilter.holds`` of the needs ``found`` was made from."""
    for group in found:
        for key, members in group:
            if key in low and (not members or any_in(members, low)):
                break
        else:
            return False
    return True


def any_in(words: tuple[str, ...], low: str) -> bool:
    """Whether one of ``words`` is in ``low`` (a loop: cheaper than any())."""
    for word in words:  # noqa: SIM110
        if word in low:
            return True
    return False
