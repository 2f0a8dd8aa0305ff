"""A pack's regex, compiled on first use and searched only where its words are."""

from __future__ import annotations

import re

from monitor.classify.prefilter import holds
from monitor.classify.regex_cache import Branch, compile_cached, plan_cached

Plan = list[Branch]


class LazyRegex:
    """A regex compiled on its first search: a pack's hundred large patterns cost seconds
    to compile, and one check's sentences need few of them (most are gated away).

    ``find`` and ``found`` give what ``search`` gives, cheaper: the pattern's alternatives
    (prefilter.branches) are searched one by one, and only those whose literal words are
    all in the lowered sentence (prefilter.needs); of what they find, the leftmost match
    of the earliest alternative is the whole pattern's match."""

    __slots__ = ("source", "_compiled", "_plan")

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None
        self._plan: Plan | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = compile_cached(self.source, re.IGNORECASE)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled().search(text)

    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = plan_cached(self.source, re.IGNORECASE)
        return self._plan

    def find(self, text: str, low: str) -> re.Match[str] | None:
        """``search(text)``; ``low`` is ``prefilter.lowered(text)``."""
        first: re.Match[str] | None = None
        for branch in self._plan or self.plan():
            needs = branch.needs
            if needs and not holds(needs, low):
                continue
            match = (branch.regex or branch.pattern()).search(text)
            if match and (first is None or match.start() < first.start()):
                first = match
                if not first.start():
                    break
        return first

    def found(self, text: str, low: str) -> bool:
        """``search(text) is not None``; ``low`` is ``prefilter.lowered(text)``."""
        return any(
            (branch.regex or branch.pattern()).search(text) is not None
            for branch in self._plan or self.plan()
            if not branch.needs or holds(branch.needs, low)
        )
