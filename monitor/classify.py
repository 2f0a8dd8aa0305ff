"""Flags changes of AI-training language between two versions of a policy's text.

Both texts are split into sentences; a sentence counts as added or removed only when its
meaning-bearing words (lowercased, without punctuation, link targets or typography) are
new or gone, so moved or re-punctuated sentences stay quiet. Added and removed sentences
are matched against the rules of every ``monitor/rules/*.yaml`` file (one per language,
documented at the top of ``en.yaml``): training rules give ``flags``, the others
``ai_related``. A sentence reworded without changing its words (reordered) is not flagged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from monitor.models import Classification, Flag

RULES_DIR = Path(__file__).with_name("rules")

# A sentence ends at . ! ? (plus closing quotes) only before what can start one; extracted
# text sometimes loses the space between two sentences ("our products.Meta does not").
_END = re.compile(
    r"[.!?…][\"'”’»)\]]*(?=\s+(?:[\"'“‘(\[¿¡]|«\s?)?[A-ZÀ-ÖØ-Þ0-9])|(?<=[a-zà-ÿ]{3}[.!?])(?=[A-Z][a-z])"
)
_LAST_WORD = re.compile(r"(\S+)$")
_ABBREVIATIONS = frozenset(
    "e.g. i.e. etc. inc. ltd. co. corp. llc. no. nos. vs. cf. mr. mrs. ms. dr. st. approx. "
    "u.s. u.k. e.u. art. sec. para. p. ex. ibid. fig. jr. sr. mme. m. c.-à-d. n°.".split()
)
_BULLET = re.compile(r"^(?:[*•·▪◦‣–—-]\s+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_WORD = re.compile(r"[^\W_]+")
# One character for one, so a match's span in the folded text is its span in the sentence.
_FOLD = str.maketrans("’‘ʼ\u00a0\u202f\u2011", "'''  -")
_TERM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Rule:
    """One rule of a rule file: the sentence is flagged when any pattern is found in it."""

    id: str
    category: str
    kind: str  # "training" or "ai_related"
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """The rules of one language; ``screen`` finds every sentence any of them can match."""

    language: str
    version: int
    screen: re.Pattern[str]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class RuleMatch:
    rule: Rule
    phrase: str  # the matched words, exactly as they are in the sentence


@lru_cache(maxsize=8)
def load_rules(directory: Path = RULES_DIR) -> tuple[RuleSet, ...]:
    """The rule sets of every ``*.yaml`` file in ``directory``, parsed once."""
    return tuple(
        _parse_rule_file(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
        for path in sorted(directory.glob("*.yaml"))
    )


def _parse_rule_file(data: dict[str, Any], name: str) -> RuleSet:
    terms: dict[str, str] = {}
    for term, fragment in (data.get("terms") or {}).items():
        terms[term] = _expand(str(fragment), terms, name)
    rules = tuple(
        Rule(
            id=str(entry["id"]),
            category=str(entry["category"]),
            kind=str(entry.get("kind", "training")),
            patterns=tuple(_compile(p, terms, name) for p in entry["patterns"]),
            unless=tuple(_compile(p, terms, name) for p in entry.get("unless") or ()),
        )
        for entry in data.get("rules") or ()
    )
    screen = _compile(str(data.get("screen", ".")), terms, name)
    return RuleSet(str(data.get("language", "")), int(data.get("version", 0)), screen, rules)


def _expand(pattern: str, terms: dict[str, str], name: str) -> str:
    def term(match: re.Match[str]) -> str:
        if match.group(1) not in terms:
            raise ValueError(f"{name}: unknown term {{{match.group(1)}}} (define it earlier)")
        return f"(?:{terms[match.group(1)]})"

    return _TERM.sub(term, pattern)


def _compile(pattern: str, terms: dict[str, str], name: str) -> re.Pattern[str]:
    return re.compile(_expand(pattern, terms, name), re.IGNORECASE)


def match_sentence(sentence: str, rule_sets: tuple[RuleSet, ...]) -> RuleMatch | None:
    """The first training rule found in ``sentence``, else the first other AI rule."""
    text = sentence.translate(_FOLD)
    candidates = [rule_set for rule_set in rule_sets if rule_set.screen.search(text)]
    for kind in ("training", "ai_related"):
        for rule_set in candidates:
            for rule in rule_set.rules:
                found = _search(rule, text) if rule.kind == kind else None
                if found:
                    return RuleMatch(rule, sentence[found.start() : found.end()])
    return None


def _search(rule: Rule, text: str) -> re.Match[str] | None:
    if any(pattern.search(text) for pattern in rule.unless):
        return None
    for pattern in rule.patterns:
        found = pattern.search(text)
        if found:
            return found
    return None


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: each line is split at sentence ends; bullets dropped."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            sentences.extend(_split_line(line))
    return sentences


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for end in _END.finditer(line):
        before = _LAST_WORD.search(line, start, end.start() + 1)
        if before and before.group(1).lower().lstrip("([«\"'") in _ABBREVIATIONS:
            continue  # "e.g. Google" does not end a sentence
        if len(line[start : end.end()].strip()) <= 4:
            continue  # "1. Data we collect" is a numbered heading
        pieces.append(line[start : end.end()])
        start = end.end()
    pieces.append(line[start:])
    cleaned = (_BULLET.sub("", piece.strip()) for piece in pieces)
    return [piece for piece in cleaned if _WORD.search(piece)]


def sentence_key(sentence: str) -> str:
    """The meaning-bearing words of a sentence, as one comparable string."""
    text = _INVISIBLE.sub("", sentence)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(_WORD.findall(_URL.sub(" ", text.lower())))


def _sentences_by_key(text: str) -> dict[str, str]:
    by_key: dict[str, str] = {}
    for sentence in split_sentences(text):
        key = sentence_key(sentence)
        if key:
            by_key.setdefault(key, sentence)
    return by_key


def classify(old_text: str, new_text: str) -> Classification:
    """What the change from ``old_text`` to ``new_text`` says about AI training."""
    old, new = _sentences_by_key(old_text), _sentences_by_key(new_text)
    rule_sets = load_rules()
    matched: list[tuple[str, str, RuleMatch]] = []
    for side, mine, other in (("added", new, old), ("removed", old, new)):
        for key, sentence in mine.items():
            match = None if key in other else match_sentence(sentence, rule_sets)
            if match:
                matched.append((sentence, side, match))
    training = _drop_rewordings([item for item in matched if item[2].rule.kind == "training"])
    related = [item for item in matched if item[2].rule.kind != "training"]
    return Classification(
        flags=tuple(_flag(*item) for item in training),
        ai_related=tuple(_flag(*item) for item in related),
    )


def _drop_rewordings(
    matched: list[tuple[str, str, RuleMatch]],
) -> list[tuple[str, str, RuleMatch]]:
    """Drops removed/added pairs of one category made of the same words (just reordered)."""
    removed: dict[tuple[str, frozenset[str]], int] = {}
    for index, (sentence, side, match) in enumerate(matched):
        if side == "removed":
            removed.setdefault((match.rule.category, _word_set(sentence)), index)
    quiet: set[int] = set()
    for index, (sentence, side, match) in enumerate(matched):
        pair = removed.get((match.rule.category, _word_set(sentence)))
        if side == "added" and pair is not None and pair not in quiet:
            quiet.update((index, pair))
    return [item for index, item in enumerate(matched) if index not in quiet]


def _word_set(sentence: str) -> frozenset[str]:
    return frozenset(sentence_key(sentence).split())


def _flag(sentence: str, side: str, match: RuleMatch) -> Flag:
    return Flag(
        sentence=sentence,
        side=side,
        phrase=match.phrase,
        category=match.rule.category,
        rule=match.rule.id,
    )
