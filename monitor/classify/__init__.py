"""Flags changes of AI-training language between two versions of a policy's text.

Both texts are split into sentences; a sentence counts as added or removed only when its
meaning-bearing words (lowercased, without punctuation, link targets or typography) are
new or gone, so moved or re-punctuated sentences stay quiet. Added and removed sentences
are matched against the rules of every ``monitor/rules/*.yaml`` file (one per language,
documented at the top of ``en.yaml``): training rules give ``flags``, the others
``ai_related`` (a learned scorer reading AI-related sentences again is evaluated in
bench/scorer.py, off). A sentence reworded without changing its words (reordered) is
not flagged.
``classifier_version()`` names the packs and matching code in force, so a change recorded
after an upgrade of the rules can be told from a change of the policy.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from functools import lru_cache

from monitor.classify.packs import (
    RULES_DIR,
    RuleMatch,
    RuleSet,
    classifier_version,
    fold,
    load_rules,
    match_sentence,
)
from monitor.classify.sentences import sentence_key, sentence_keys, split_sentences, word_set
from monitor.classify.triggers import triggered
from monitor.classify.visible import visible
from monitor.models import Classification, Flag

__all__ = [
    "RULES_DIR",
    "classifier_version",
    "classify",
    "load_rules",
    "match_sentence",
    "remember",
    "sentence_key",
    "split_sentences",
]


# Remembered within one process: a history compares each version with the next one, so
# a text is split once (not as the new text, then as the old one) and a sentence that
# stays in the policy is matched against the rules once, not at every step.
TEXTS_REMEMBERED = 8
SENTENCES_REMEMBERED = 100_000
_matches: dict[str, RuleMatch | None] = {}
_matched_with: list[tuple[RuleSet, ...]] = []  # the rules _matches holds results of


@lru_cache(maxsize=TEXTS_REMEMBERED)
def _sentences_by_key(text: str) -> dict[str, str]:
    """Each sentence of ``text`` by its key (the first one when two share it); the dict is
    shared by later calls, so callers only read it."""
    by_key: dict[str, str] = {}
    sentences = split_sentences(text)
    for sentence, key in zip(sentences, sentence_keys(sentences), strict=True):
        if key:
            by_key.setdefault(key, sentence)
    return by_key


def _remembered(rule_sets: tuple[RuleSet, ...]) -> dict[str, RuleMatch | None]:
    """What match_sentence gave each sentence under ``rule_sets`` (checked once per call of
    classify, not per sentence: a call adds at most its texts' sentences past the bound)."""
    if (
        not _matched_with
        or _matched_with[0] is not rule_sets
        or len(_matches) > SENTENCES_REMEMBERED
    ):
        _matches.clear()
        _matched_with[:] = [rule_sets]
    return _matches


# Verdicts made by another process (an import's worker, monitor/importer/ahead.py) for
# pairs of texts this process is about to compare; the last ones given are kept, by the
# texts' digests (not the texts: a few hundred pairs of long policies would be megabytes).
GIVEN_REMEMBERED = 256
_given: OrderedDict[tuple[bytes, bytes], Classification] = OrderedDict()


def _pair(old_text: str, new_text: str) -> tuple[bytes, bytes]:
    return _digest(old_text), _digest(new_text)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def remember(old_text: str, new_text: str, verdict: Classification, version: str) -> None:
    """Takes ``verdict`` (``classify(old_text, new_text)`` in another process, under the
    rules named ``version``) as this process's; ignored if the rules in force differ."""
    if version != classifier_version():
        return
    key = _pair(old_text, new_text)
    _given[key] = verdict
    _given.move_to_end(key)
    if len(_given) > GIVEN_REMEMBERED:
        _given.popitem(last=False)


def classify(old_text: str, new_text: str) -> Classification:
    """What the change from ``old_text`` to ``new_text`` says about AI training."""
    given = _given.get(_pair(old_text, new_text)) if _given else None
    if given is not None:
        return given
    old, new = _sentences_by_key(old_text), _sentences_by_key(new_text)
    rule_sets = load_rules()
    remembered = _remembered(rule_sets)
    changed = [
        (side, sentence)
        for side, mine, other in (("added", new, old), ("removed", old, new))
        for key, sentence in mine.items()
        if key not in other
    ]
    _match_unseen([sentence for _, sentence in changed], rule_sets, remembered)
    matched: list[tuple[str, str, RuleMatch]] = []
    for side, sentence in changed:
        match = remembered[sentence]
        if match:
            matched.append((sentence, side, match))
    training = _drop_rewordings([item for item in matched if item[2].rule.kind == "training"])
    related = [item for item in matched if item[2].rule.kind != "training"]
    return Classification(
        flags=tuple(_flag(*item) for item in training),
        ai_related=tuple(_flag(*item) for item in related),
    )


def _match_unseen(
    sentences: list[str], rule_sets: tuple[RuleSet, ...], remembered: dict[str, RuleMatch | None]
) -> None:
    """Each of ``sentences`` not yet in ``remembered``, matched against the rules there; the
    trigger words are tested on them all at once (none: no rule can match)."""
    unseen = list(dict.fromkeys(s for s in sentences if s not in remembered))
    for sentence, maybe in zip(unseen, triggered(unseen, rule_sets, _as_read), strict=True):
        remembered[sentence] = match_sentence(sentence, rule_sets) if maybe else None


def _as_read(sentence: str) -> str:
    """A sentence as ``match_sentence`` tests its trigger words: accents folded, then the
    invisible characters out and the look-alikes read as Latin (a sentence written all in
    small capitals has no trigger word until then)."""
    return visible(fold(sentence))[0]


def _drop_rewordings(
    matched: list[tuple[str, str, RuleMatch]],
) -> list[tuple[str, str, RuleMatch]]:
    """Drops removed/added pairs of one category made of the same words (just reordered)."""
    removed: dict[tuple[str, frozenset[str]], int] = {}
    for index, (sentence, side, match) in enumerate(matched):
        if side == "removed":
            removed.setdefault((match.rule.category, word_set(sentence)), index)
    quiet: set[int] = set()
    for index, (sentence, side, match) in enumerate(matched):
        pair = removed.get((match.rule.category, word_set(sentence)))
        if side == "added" and pair is not None and pair not in quiet:
            quiet.update((index, pair))
    return [item for index, item in enumerate(matched) if index not in quiet]


def _flag(sentence: str, side: str, match: RuleMatch) -> Flag:
    return Flag(
        sentence=sentence,
        side=side,
        phrase=match.phrase,
        category=match.rule.category,
        rule=match.rule.id,
    )
