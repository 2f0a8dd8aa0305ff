"""A pack's needed strings (``prefilter.needs``), all found in a sentence in one pass.

Each alternative of a pack's patterns needs one string of each of its groups in the
lowered sentence; testing them one ``in`` at a time cost a scan per string, and the
English ``{training}`` gate alone has 54 alternatives whose groups are nearly always
missing: ~60 µs a screened sentence, the largest single cost of classifying a policy.
Here every string of a pack's loaded plans gets a number, and an Aho-Corasick automaton
(``ahocorasick_rs``, Rust, from PyPI: one pass over the sentence in C where a
hand-written loop would be a Python step per character) gives the numbers of those in
the sentence; a group then holds where its numbers meet them (``frozenset.isdisjoint``
in C). It finds exactly the strings ``in`` finds (overlapping matches, every pattern;
tests/test_classify_vocab.py checks every string of the packs on real sentences). The
strings a branch's matches begin with (``prefilter.starts``) are numbered too, and where
they are found is where the branch's regex is tried (``Seen.starts``), as keys.py's scans
found them.

Plans are read lazily, so the automaton is rebuilt when strings were added since it was
built, at most once a sentence; an alternative registered after a sentence's strings were
found is tested the old way (``keys.py``) for that sentence.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ahocorasick_rs import AhoCorasick

if TYPE_CHECKING:
    from monitor.classify.regex_cache import Branch

Groups = tuple[frozenset[int], ...]  # a branch's needs as numbers


class Seen:
    """The numbers of a vocabulary's strings found in one lowered sentence, and where each
    begins (every place); strings numbered ``covered`` and above were not looked for."""

    __slots__ = ("ids", "at", "covered")

    def __init__(
        self, ids: set[int] | frozenset[int], at: dict[int, list[int]], covered: int
    ) -> None:
        self.ids, self.at, self.covered = ids, at, covered

    def starts(self, numbers: frozenset[int]) -> list[int]:
        """Where one of the strings ``numbers`` begins, in order."""
        at = self.at
        found = [where for number in numbers.intersection(self.ids) for where in at[number]]
        found.sort()
        return found


NOTHING = Seen(frozenset(), {}, 0)  # no strings looked for: every branch tested the old way


class Vocabulary:
    """The needed strings of one pack's plans loaded so far, numbered in order."""

    __slots__ = ("_ids", "_matcher", "_covered")

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._matcher: AhoCorasick | None = None
        self._covered = 0

    def register(self, branch: Branch) -> None:
        """Numbers ``branch``'s needs (``branch.groups``) and the strings its matches begin
        with (``branch.start_ids``), and notes the highest number plus one
        (``branch.top``): a sentence's ``Seen`` decides for it only below that."""
        groups = tuple(frozenset(self._number(word) for word in group) for group in branch.needs)
        starts = frozenset(self._number(word) for word in branch.starts)
        branch.groups, branch.start_ids = groups, starts
        branch.top = 1 + max((n for numbers in (*groups, starts) for n in numbers), default=-1)

    def _number(self, word: str) -> int:
        number = self._ids.get(word)
        if number is None:
            number = self._ids[word] = len(self._ids)
        return number

    def seen(self, low: str) -> Seen:
        """The strings in ``low`` (``prefilter.lowered`` of a sentence)."""
        if self._covered != len(self._ids):
            self._matcher = AhoCorasick(list(self._ids))  # numbered in insertion order
            self._covered = len(self._ids)
        if self._matcher is None:
            return NOTHING
        at: dict[int, list[int]] = {}
        for number, start, _ in self._matcher.find_matches_as_indexes(low, overlapping=True):
            places = at.get(number)
            if places is None:
                at[number] = [start]
            else:
                places.append(start)
        return Seen(set(at), at, self._covered)


@lru_cache(maxsize=16)
def finder(words: tuple[str, ...]) -> AhoCorasick:
    """An automaton finding ``words`` (the one home of the library: triggers.py uses it)."""
    return AhoCorasick(words)
