"""The rule packs kept parsed between processes (issue 15: start-up), in the regex cache.

Parsing a pack's YAML and expanding its terms into patterns (1.8 million characters) cost
20 ms a process that classifies; the parsed rule set, as plain data, reads back in half
that. The memo is named by the pack's bytes and by the identity of ``packs.py`` (how a pack is
parsed) and of this module: inode, size, mtime and ctime in nanoseconds (one ``stat``
each, not their bytes read and hashed in every process). An edit, a ``git checkout``, a
reinstall or a copy over them changes the ctime, which no tool sets back (``touch``,
``cp -p``, ``rsync -a`` and wheels' fixed timestamps set only the mtime), so an edit
parses again, as does a memo that does not read back; a ``chmod`` parses again needlessly.
It is stricter than Python's own check of a module's bytecode (size and mtime in
seconds): a change of the code that runs is always a change of the memo's name.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from monitor.classify import packs
from monitor.classify.lazy import LazyRegex
from monitor.classify.packs import Pattern, Rule, RuleSet
from monitor.classify.regex_cache import load_memo, memo_name, store_memo
from monitor.classify.vocab import Vocabulary

MEMO_FORMAT = 1  # of a parsed pack
_SOURCES = (Path(packs.__file__), Path(__file__))  # how a pack is parsed and kept


def read_pack(path: Path) -> RuleSet:
    """One pack, read from its memo, else parsed (and kept)."""
    raw = path.read_bytes()
    name = memo_name(f"rules{MEMO_FORMAT}", raw, path.name.encode(), code_identity())
    rule_set = from_memo(load_memo(name))
    if rule_set is None:
        rule_set = packs.parse_pack(raw, path.name)
        store_memo(name, to_memo(rule_set))
    return rule_set


@cache
def code_identity() -> bytes:
    """The parsing code's files as they are on disk (see the module's docstring)."""
    stats = (os.stat(source) for source in _SOURCES)
    return ";".join(f"{s.st_ino}:{s.st_size}:{s.st_mtime_ns}:{s.st_ctime_ns}"
                    for s in stats).encode()  # fmt: skip


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
    vocabulary = Vocabulary()

    def lazy(source: Any) -> LazyRegex:
        return LazyRegex(_text(source), vocabulary)

    try:
        language, version, screen, rules, gates, triggers, cased = memo
        rule_set = RuleSet(
            _text(language), version, lazy(screen),
            tuple(Rule(_text(id_), _text(category), _text(kind),
                       tuple(Pattern(lazy(source), tuple(map(_text, needed)))
                             for source, needed in patterns),
                       tuple(lazy(veto) for veto in unless))
                  for id_, category, kind, patterns, unless in rules),
            {_text(name): lazy(source) for name, source in gates},
            tuple(map(_text, triggers)), tuple(map(_text, cased)), vocabulary,
        )  # fmt: skip
    except (TypeError, ValueError):
        return None
    return rule_set if isinstance(version, int) else None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value
