"""The rule packs kept parsed between processes (issue 15: start-up), in the regex cache.

Parsing a pack's YAML and expanding its terms into patterns (1.8 million characters) cost
20 ms a process that classifies; the parsed rule set, as plain data, reads back in half
that. The memo is named by the pack's bytes, ``packs.py``'s (how a pack is parsed) and
this module's, so an edit of any parses again, as does a memo that does not read back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.classify import packs
from monitor.classify.lazy import LazyRegex
from monitor.classify.packs import Pattern, Rule, RuleSet
from monitor.classify.regex_cache import load_memo, memo_name, store_memo

MEMO_FORMAT = 1  # of a parsed pack
_SOURCES = (Path(packs.__file__), Path(__file__))  # how a pack is parsed and kept


def read_pack(path: Path) -> RuleSet:
    """One pack, read from its memo, else parsed (and kept)."""
    raw = path.read_bytes()
    code = b"".join(source.read_bytes() for source in _SOURCES)
    name = memo_name(f"rules{MEMO_FORMAT}", raw, path.name.encode(), code)
    rule_set = from_memo(load_memo(name))
    if rule_set is None:
        rule_set = packs.parse_pack(raw, path.name)
        store_memo(name, to_memo(rule_set))
    return rule_set


def to_memo(rule_set: RuleSet) -> tuple[Any, ...]:
    """The rule set as plain data (every pattern as its expanded source)."""
    rules = tuple(
        (rule.id, rule.category, rule.kind,
         tuple((p.regex.source, p.gates) for p in rule.patterns),
         tuple(veto.source for veto in rule.unless))
        for rule in rule_set.rules
    )  # fmt: skip
    gates = tuple((name, regex.source) for name, regex in rule_set.gates.items())
    return (rule_set.language, rule_set.version, rule_set.screen.source, rules, gates,
            rule_set.triggers, rule_set.cased_triggers)  # fmt: skip


def from_memo(memo: Any) -> RuleSet | None:
    """``to_memo``'s rule set back; None for anything else."""
    try:
        language, version, screen, rules, gates, triggers, cased = memo
        rule_set = RuleSet(
            _text(language), version, LazyRegex(_text(screen)),
            tuple(Rule(_text(id_), _text(category), _text(kind),
                       tuple(Pattern(LazyRegex(_text(source)), tuple(map(_text, needed)))
                             for source, needed in patterns),
                       tuple(LazyRegex(_text(veto)) for veto in unless))
                  for id_, category, kind, patterns, unless in rules),
            {_text(name): LazyRegex(_text(source)) for name, source in gates},
            tuple(map(_text, triggers)), tuple(map(_text, cased)),
        )  # fmt: skip
    except (TypeError, ValueError):
        return None
    return rule_set if isinstance(version, int) else None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value
