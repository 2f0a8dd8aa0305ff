"""A pack's regex, compiled on first use and searched only where its words are."""

from __future__ import annotations

import re
import sys

from monitor.classify.keys import KeyedStarts, holds_keyed
from monitor.classify.regex_cache import Branch, compile_cached, plan_cached
from monitor.classify.vocab import NOTHING, Seen, Vocabulary

Plan = list[Branch]
_NO_LIMIT = sys.maxsize


class LazyRegex:
    """A regex compiled on its first search: a pack's hundred large patterns cost seconds
    to compile, and one check's sentences need few of them (most are gated away).

    ``find`` and ``found`` give what ``search`` gives, cheaper: the pattern's alternatives
    (prefilter.branches) are searched one by one, and only those whose literal words are
    all in the lowered sentence (prefilter.needs), each tried only where the lowered
    sentence has a string its matches begin with (prefilter.starts); the words are looked
    up in the strings of the pack's vocabulary found in the sentence (vocab.py: one pass
    for all the pack's patterns), else tested through keys (keys.py: a scan per key, not
    per string); of what they find, the leftmost match of the earliest alternative is the
    whole pattern's match."""

    __slots__ = ("source", "_compiled", "_plan", "_vocabulary")

    def __init__(self, source: str, vocabulary: Vocabulary | None = None) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None
        self._plan: Plan | None = None
        self._vocabulary = vocabulary

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = compile_cached(self.source, re.IGNORECASE)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled().search(text)

    def plan(self) -> Plan:
        if self._plan is None:
            plan = plan_cached(self.source, re.IGNORECASE)
            if self._vocabulary is not None:
                for branch in plan:
                    self._vocabulary.register(branch)
            self._plan = plan
        return self._plan

    def find(self, text: str, low: str, seen: Seen = NOTHING) -> re.Match[str] | None:
        """``search(text)``; ``low`` is ``prefilter.lowered(text)``, ``seen`` the strings
        of this pattern's vocabulary in ``low`` (``Vocabulary.seen``), when known."""
        first: re.Match[str] | None = None
        before = len(text) + 1  # a later alternative counts only where it begins earlier
        ids, covered = seen.ids, seen.covered
        for branch in self._plan or self.plan():
            if branch.top <= covered:
                for numbers in branch.groups:  # the hottest loop: a C test per group
                    if numbers.isdisjoint(ids):
                        break
                else:
                    match = _search_seen(branch, text, low, seen, before)
                    if match and match.start() < before:
                        first, before = match, match.start()
                        if not before:
                            break
                continue
            if holds_keyed(branch.keyed, low):
                match = _search(branch.regex or branch.pattern(), branch.keyed_starts,
                                text, low, before)  # fmt: skip
                if match and match.start() < before:
                    first, before = match, match.start()
                    if not before:
                        break
        return first

    def found(self, text: str, low: str, seen: Seen = NOTHING) -> bool:
        """``search(text) is not None``; ``low`` and ``seen`` as for ``find``."""
        ids, covered = seen.ids, seen.covered
        for branch in self._plan or self.plan():
            if branch.top <= covered:
                for numbers in branch.groups:
                    if numbers.isdisjoint(ids):
                        break
                else:
                    if _search_seen(branch, text, low, seen) is not None:
                        return True
                continue
            if holds_keyed(branch.keyed, low):
                regex = branch.regex or branch.pattern()
                if _search(regex, branch.keyed_starts, text, low) is not None:
                    return True
        return False


def _search_seen(
    branch: Branch, text: str, low: str, seen: Seen, before: int = _NO_LIMIT
) -> re.Match[str] | None:
    """``_search`` where ``seen`` holds the places of the branch's starts."""
    regex = branch.regex or branch.pattern()  # (a damaged file clears the starts)
    if not branch.starts or len(low) != len(text):
        return regex.search(text)
    return _match_at(regex, text, seen.starts(branch.start_ids), before)


def _search(
    regex: re.Pattern[str], starts: KeyedStarts, text: str, low: str, before: int = _NO_LIMIT
) -> re.Match[str] | None:
    """``regex.search(text)``, tried only where a match can begin (``starts``, as
    ``keys.keyed_starts`` files them): ``match`` at a position is what ``search``
    tries there (lookbehinds and ``\\b`` see the text before it). With ``before``, a match
    beginning there or later may be missed (it is not wanted)."""
    if not starts or len(low) != len(text):
        return regex.search(text)
    at: list[int] = []
    for key, members in starts:
        where = low.find(key)
        while where >= 0:
            if not members or low.startswith(members, where):
                at.append(where)
            where = low.find(key, where + 1)
    at.sort()
    return _match_at(regex, text, at, before)


def _match_at(
    regex: re.Pattern[str], text: str, places: list[int], before: int
) -> re.Match[str] | None:
    """The first match beginning at one of ``places`` (in order), before ``before``."""
    for where in places:
        if where >= before:
            break
        match = regex.match(text, where)
        if match:
            return match
    return None
