"""The packs' regexes are compiled on first use (start-up in milliseconds), yet every one of
them is valid: this compiles them all, as a pack edit's first check would."""

from __future__ import annotations

import re

from monitor.classify.packs import LazyRegex, load_rules


def every_regex() -> list[LazyRegex]:
    found: list[LazyRegex] = []
    for rule_set in load_rules():
        found += [rule_set.screen, *rule_set.gates.values()]
        for rule in rule_set.rules:
            found += [p.regex for p in rule.patterns] + list(rule.unless)
    return found


def test_every_pack_regex_compiles() -> None:
    regexes = every_regex()
    assert len(regexes) > 50
    assert all(isinstance(r.compiled(), re.Pattern) for r in regexes)


def test_nothing_is_compiled_until_a_sentence_needs_it() -> None:
    fresh = LazyRegex(r"\btrain\w*")
    assert fresh._compiled is None
    assert fresh.search("we train models") is not None and fresh._compiled is not None
