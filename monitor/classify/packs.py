"""The language packs of the AI-training detector: one YAML file of rules per language.

A pack (``monitor/rules/<language>.yaml``, documented at the top of ``en.yaml``) names
regex fragments (terms) and rules built from them; this module parses the packs once and
finds the first rule a sentence matches. Adding a language is adding a pack.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from monitor.classify.lazy import LazyRegex
from monitor.classify.prefilter import lowered
from monitor.classify.triggers import any_triggered
from monitor.classify.visible import OVERRIDE, visible
from monitor.classify.vocab import Seen, Vocabulary

# libyaml's safe loader when PyYAML has it (the wheels do): 10x the pure-Python one, the
# same documents.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


RULES_DIR = Path(__file__).parents[1] / "rules"
# Bump when the matching code changes what a pack's rules flag; the packs' own bytes are
# hashed into classifier_version(), so a rule edit needs no bump.
# 6: invisible characters taken out first (visible.py); 7: look-alikes (lookalike.py);
# 8: Latin look-alikes too (small capitals, the IPA alpha, dotless i: lookalike.py), and
# a right-to-left override's run read in the order shown (visible.py)
CODE_VERSION = 8


def _accent_fold() -> dict[int, str]:
    """Latin letters with diacritics to their base letter (é -> e, Ç -> C), one for one."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        parts = unicodedata.normalize("NFD", chr(code))
        if len(parts) > 1 and parts[0].isascii() and parts[0].isalpha():
            table[code] = parts[0]
    return table


# One character for one, so a match's span in the folded text is its span in the sentence.
# Accents are folded in the sentence and in every pattern alike, so "entrainer", "modeles"
# or "DONNEES" (written without accents, as some sites and capitals do) read as
# "entraîner", "modèles", "données"; a pack writes its words with their accents.
_ACCENTS = _accent_fold()
_FOLD: dict[int, str] = {
    **_ACCENTS,
    **{ord(a): b for a, b in zip("’‘ʼ\u00a0\u202f\u2011", "'''  -", strict=True)},
}
_FOLDED = re.compile("[" + "".join(re.escape(chr(code)) for code in _FOLD) + "]")
_TERM = re.compile(r"\{([a-z_]+)\}")
_BIDI_ENDS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# an aside in parentheses, innermost first; the space before it goes with it
_ASIDE = re.compile(r" ?\([^()]{0,200}\)")


@dataclass(frozen=True)
class Rule:
    """One rule of a rule file: the sentence is flagged when any pattern is found in it."""

    id: str
    category: str
    kind: str  # "training" or "ai_related"
    patterns: tuple[Pattern, ...]
    unless: tuple[LazyRegex, ...] = ()


@dataclass(frozen=True)
class Pattern:
    """A rule's regex and the pack's gate terms it cannot match without (for speed)."""

    regex: LazyRegex
    gates: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """The rules of one language; ``screen`` finds every sentence any of them can match."""

    language: str
    version: int
    screen: LazyRegex
    rules: tuple[Rule, ...]
    # the pack's costly terms, each searched at most once per sentence: a pattern that
    # needs "{training}" is not tried on a sentence where {training} is nowhere
    gates: dict[str, LazyRegex] = field(default_factory=dict)
    # words one of which every sentence the screen finds contains (casefolded, accents
    # folded; ``cased`` ones as written): a substring test is much cheaper than the screen
    triggers: tuple[str, ...] = ()
    cased_triggers: tuple[str, ...] = ()
    # the strings its patterns need, numbered (vocab.py): its LazyRegexes register there
    vocabulary: Vocabulary = field(default_factory=Vocabulary, compare=False, repr=False)

    def triggered(self, text: str, folded: str) -> bool:
        """False only where no trigger word is in the sentence, so the screen cannot match."""
        if not self.triggers and not self.cased_triggers:
            return True
        for word in self.triggers:
            if word in folded:
                return True
        for word in self.cased_triggers:  # noqa: SIM110 - a loop is cheaper than any()
            if word in text:
                return True
        return False


@dataclass(frozen=True)
class RuleMatch:
    rule: Rule
    phrase: str  # the matched words, exactly as they are in the sentence


def load_rules(directory: Path = RULES_DIR) -> tuple[RuleSet, ...]:
    """The rule sets of every ``*.yaml`` file in ``directory``, parsed once (one cache entry
    per folder: ``load_rules()`` and ``load_rules(RULES_DIR)`` parse it once, not twice)."""
    return _parsed(directory)


@lru_cache(maxsize=8)
def _parsed(directory: Path) -> tuple[RuleSet, ...]:
    from monitor.classify.packmemo import read_pack  # it builds this module's rule sets

    return tuple(read_pack(path) for path in sorted(directory.glob("*.yaml")))


def parse_pack(raw: bytes, name: str) -> RuleSet:
    """A pack file's bytes, parsed."""
    return _parse_rule_file(yaml.load(raw.decode("utf-8"), Loader=_LOADER), name)


def _parse_rule_file(data: dict[str, Any], name: str) -> RuleSet:
    terms: dict[str, str] = {}
    for term, fragment in (data.get("terms") or {}).items():
        terms[term] = _expand(str(fragment).translate(_ACCENTS), terms, name)
    vocabulary = Vocabulary()

    def lazy(pattern: str) -> LazyRegex:
        return _compile_in(pattern, terms, name, vocabulary)

    gates = {str(g): lazy(f"{{{g}}}") for g in data.get("gates") or ()}
    rules = tuple(
        Rule(
            id=str(entry["id"]),
            category=str(entry["category"]),
            kind=str(entry.get("kind", "training")),
            patterns=tuple(
                Pattern(lazy(p), _needed(p, gates) + _declared(entry, gates))
                for p in entry["patterns"]
            ),
            unless=tuple(lazy(p) for p in entry.get("unless") or ()),
        )
        for entry in data.get("rules") or ()
    )
    screen = lazy(str(data.get("screen", ".")))
    language, version = str(data.get("language", "")), int(data.get("version", 0))
    triggers = tuple(str(w).translate(_ACCENTS).casefold() for w in data.get("triggers") or ())
    cased = tuple(str(w).translate(_ACCENTS) for w in data.get("cased_triggers") or ())
    return RuleSet(language, version, screen, rules, gates, triggers, cased, vocabulary)


def _declared(entry: dict[str, Any], gates: dict[str, LazyRegex]) -> tuple[str, ...]:
    """A rule's own ``gates``: terms every one of its patterns is a part of (the pack says
    so; tests/test_classify.py checks the results are the same without them)."""
    declared = tuple(str(gate) for gate in entry.get("gates") or ())
    unknown = [gate for gate in declared if gate not in gates]
    if unknown:
        raise ValueError(f"rule {entry.get('id')}: gates {unknown} are not the pack's gates")
    return declared


def _needed(pattern: str, gates: dict[str, LazyRegex]) -> tuple[str, ...]:
    """The gate terms written at the top level of a pattern with no top-level ``|``: the
    pattern can only match where each of them is found on its own."""
    depth, top = 0, []
    for index, char in enumerate(pattern):
        escaped = index > 0 and pattern[index - 1] == "\\"
        depth += (char == "(") - (char == ")") if not escaped else 0
        if depth == 0 and char == "|" and not escaped:
            return ()
        top.append(char if depth == 0 else " ")
    flat = "".join(top)
    return tuple(gate for gate in gates if f"{{{gate}}}" in flat)


def _expand(pattern: str, terms: dict[str, str], name: str) -> str:
    def term(match: re.Match[str]) -> str:
        if match.group(1) not in terms:
            raise ValueError(f"{name}: unknown term {{{match.group(1)}}} (define it earlier)")
        return f"(?:{terms[match.group(1)]})"

    return _TERM.sub(term, pattern)


def _compile_in(
    pattern: str, terms: dict[str, str], name: str, vocabulary: Vocabulary
) -> LazyRegex:
    # ``terms`` are folded already: folding the expanded pattern (tens of KB, with a dict
    # table: a Python lookup per character) cost 0.3-0.5 s per process that classifies.
    return LazyRegex(_expand(pattern.translate(_ACCENTS), terms, name), vocabulary)


def match_sentence(
    sentence: str, rule_sets: tuple[RuleSet, ...], *, training_only: bool = False
) -> RuleMatch | None:
    """The first training rule found in ``sentence``, else (unless ``training_only``: the
    board reads training sentences alone) the first other AI rule.

    Training rules are tried on the sentence, then on the sentence without its
    parentheses, so "large language model (LLM) training" or "develop, train, or improve
    (directly or indirectly) any AI model" read as written without the aside. The rules
    read the sentence without the characters no reader sees (soft hyphens, zero-width
    ones: ``visible.py``); the phrase keeps them, as the sentence has them.
    """
    text, shown_at = visible(sentence if sentence.isascii() else fold(sentence))
    folded = text.casefold()
    if not any_triggered(rule_sets, text, folded):
        return None
    low = lowered(text)
    seen: dict[tuple[int, int], Seen] = {}  # by view and pack: its strings in the view
    candidates = []
    for rule_set in rule_sets:
        if rule_set.triggered(text, folded):
            strings = seen[0, id(rule_set)] = rule_set.vocabulary.seen(low)
            if rule_set.screen.found(text, low, strings):
                candidates.append(rule_set)
    if not candidates:
        return None
    views: list[tuple[str, str, Sequence[int]]] = [(text, low, shown_at)]
    if "(" in text:  # (the aside regex needs one)
        bare, origin = _without_parentheses(text)
        if bare != text:
            views.append((bare, lowered(bare), [shown_at[at] for at in origin]))

    def seen_in(index: int, rule_set: RuleSet) -> Seen:
        found = seen.get((index, id(rule_set)))
        if found is None:
            found = seen[index, id(rule_set)] = rule_set.vocabulary.seen(views[index][1])
        return found

    kinds = (("training", 2),) if training_only else (("training", 2), ("ai_related", 1))
    for kind, view_count in kinds:
        for index, (view, view_low, positions) in enumerate(views[:view_count]):
            for rule_set in candidates:
                found, rule = _first(
                    rule_set, kind, (view, view_low, seen_in(index, rule_set)),
                    (text, low, seen_in(0, rule_set)),
                )  # fmt: skip
                if found and rule:
                    return RuleMatch(rule, _quoted(sentence, positions, found))
    return None


def _quoted(sentence: str, positions: Sequence[int], found: re.Match[str]) -> str:
    """The stored characters of a match (``positions``: each read character's place in
    ``sentence``). A match read backwards under an override (``visible.OVERRIDE``) is
    quoted from its first to its last stored character, the override before it and its
    end after it, so the phrase shows as the page showed it."""
    covered = positions[found.start() : found.end()]
    if isinstance(covered, range) or OVERRIDE not in sentence:  # in order: most matches
        return sentence[covered[0] : covered[-1] + 1]
    start, end = min(covered), max(covered) + 1
    opened = sentence.rfind(OVERRIDE, 0, start + 1)
    if opened >= 0 and not _BIDI_ENDS.search(sentence, opened + 1, start):
        start = min(start, opened)
    return sentence[start : end + (sentence[end : end + 1] == "\u202c")]


def fold(text: str) -> str:
    """``text.translate(_FOLD)``: a regex finds the few characters to replace, where
    ``translate`` looks each character up in the dict (4x slower on a policy's text)."""
    return _FOLDED.sub(_fold_one, text)


_fold = fold  # the name tests/test_classify_fast.py knows


def _fold_one(match: re.Match[str]) -> str:
    return _FOLD[ord(match.group())]


def _first(
    rule_set: RuleSet, kind: str, view: tuple[str, str, Seen], text: tuple[str, str, Seen]
) -> tuple[re.Match[str] | None, Rule | None]:
    """The first rule of ``kind`` found in ``view`` and where; vetoes are judged on ``text``
    (an aside in parentheses still counts there). Each gate is searched once. Both are
    given with their ``lowered`` form and the pack's strings in it (``vocab.Seen``)."""
    gates: dict[str, bool] = {}
    for rule in rule_set.rules:
        if rule.kind != kind:
            continue
        found = None
        for pattern in rule.patterns:  # the first pattern whose gates pass and that is found
            for gate in pattern.gates:
                passed = gates.get(gate)
                if passed is None:
                    passed = gates[gate] = rule_set.gates[gate].found(*view)
                if not passed:
                    break
            else:
                found = pattern.regex.find(*view)
                if found:
                    break
        if found and not any(veto.found(*text) for veto in rule.unless):
            return found, rule
    return None, None


def _without_parentheses(text: str) -> tuple[str, list[int]]:
    """``text`` without its (nested) parenthetical asides, and where each character was."""
    origin = list(range(len(text)))
    while True:
        pieces, kept, last = [], [], 0
        for aside in _ASIDE.finditer(text):
            pieces.append(text[last : aside.start()])
            kept.extend(origin[last : aside.start()])
            last = aside.end()
        if not last:
            return text, origin
        pieces.append(text[last:])
        kept.extend(origin[last:])
        text, origin = "".join(pieces), kept


@lru_cache(maxsize=8)
def classifier_version(directory: Path = RULES_DIR) -> str:
    """A short stable name of the rules in force, e.g. ``rules4-en4-fr4-1a2b3c4d``.

    It changes whenever a pack or the matching code changes, so a change recorded after an
    upgrade of the detector can be told from a change of the policy. Computed once.
    """
    digest = hashlib.sha256(str(CODE_VERSION).encode())
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    packs = "-".join(f"{rule_set.language}{rule_set.version}" for rule_set in load_rules(directory))
    # (a learned scorer, were one switched on, would name its weights here: bench/scorer.py)
    return f"rules{CODE_VERSION}-{packs}-{digest.hexdigest()[:8]}"
