"""The packs' trigger words, tested for all packs at once: a sentence with none of them is
one no rule can match (``match_sentence`` gives None without trying a pattern).

Nine sentences of ten have none. Each trigger word tested in each sentence was a scan per
word per sentence (40 words, 15 ms for the five pages of bench/classify_speed.py), then a
scan per word of a text's sentences joined (5 ms); ``triggered`` now finds them all in one
pass of an Aho-Corasick automaton (``ahocorasick_rs``, as vocab.py: under 1 ms).
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from monitor.classify.vocab import finder

if TYPE_CHECKING:
    from monitor.classify.packs import RuleSet

Union = tuple[tuple[str, ...], tuple[str, ...]]  # (casefolded words, words as written)
MERGE_AT = 5  # the trigger words merged in the union test begin with this many letters alike
SEPARATOR = "\n"  # between the sentences joined: in no trigger word, so none spans two
_UNIONS: dict[int, tuple[tuple[RuleSet, ...], Union | None]] = {}


def union(rule_sets: tuple[RuleSet, ...]) -> Union | None:
    """Every pack's trigger words, tested once each; None where a pack has none (any
    sentence may then match). Kept per tuple of rule sets."""
    known = _UNIONS.get(id(rule_sets))
    if known is None or known[0] is not rule_sets:
        found = None
        if all(rule_set.triggers or rule_set.cased_triggers for rule_set in rule_sets):
            words = _fewest(_merged({w for rule_set in rule_sets for w in rule_set.triggers}))
            cased = _fewest({w for rule_set in rule_sets for w in rule_set.cased_triggers})
            found = (words, cased)
        if len(_UNIONS) > 16:  # rule sets loaded from other folders (tests)
            _UNIONS.clear()
        known = _UNIONS[id(rule_sets)] = (rule_sets, found)
    return known[1]


def any_triggered(rule_sets: tuple[RuleSet, ...], text: str, folded: str) -> bool:
    """``any(rule_set.triggered(text, folded) ...)``, each trigger word tested once."""
    words = union(rule_sets)
    if words is None:
        return True
    for word in words[0]:
        if word in folded:
            return True
    for word in words[1]:  # noqa: SIM110 - a loop is cheaper than any()
        if word in text:
            return True
    return False


def triggered(
    sentences: Sequence[str], rule_sets: tuple[RuleSet, ...], fold: Callable[[str], str]
) -> list[bool]:
    """``any_triggered`` of each sentence (as ``match_sentence`` folds it), all at once:
    each word is looked for in the sentences joined, once per sentence it is in at most."""
    words = union(rule_sets)
    if words is None or any(SEPARATOR in word for word in (*words[0], *words[1])):
        return [True] * len(sentences)
    texts = [s if s.isascii() else fold(s) for s in sentences]
    hit = [False] * len(sentences)
    _mark(hit, texts, words[1])
    _mark(hit, [text.casefold() for text in texts], words[0])
    return hit


def _mark(hit: list[bool], pieces: list[str], words: tuple[str, ...]) -> None:
    """Sets ``hit[i]`` where one of ``words`` is in ``pieces[i]``: the pieces joined, the
    words found in one pass. Matches that do not overlap are enough: no word holds the
    separator, so a piece with a word in it has a match of its own (the one ending first
    from where the scan enters it)."""
    if not words:
        return
    starts, at = [], 0
    for piece in pieces:
        starts.append(at)
        at += len(piece) + len(SEPARATOR)
    joined = SEPARATOR.join(pieces)
    last = -1
    for _, where, _ in finder(words).find_matches_as_indexes(joined):
        if where < last:
            continue  # (in a piece marked already)
        index = bisect_right(starts, where) - 1
        hit[index] = True
        last = starts[index + 1] if index + 1 < len(starts) else len(joined)  # the next piece
    return


def _merged(words: set[str]) -> set[str]:
    """Words that begin alike ("apprendre", "apprenons", "apprentissage") as the start they
    share ("appren"): one test for them all. A text with one of ``words`` has one of these;
    some have one and none of ``words`` (each pack's own triggers are tested next)."""
    alike: dict[str, list[str]] = {}
    for word in words:
        if len(word) >= MERGE_AT:
            alike.setdefault(word[:MERGE_AT], []).append(word)
    for group in alike.values():
        if len(group) > 1:
            words = (words - set(group)) | {os.path.commonprefix(group)}
    return words


def _fewest(words: Iterable[str]) -> tuple[str, ...]:
    """The words without those that contain another ("chatbot" where "bot" is): a text
    has one of them exactly where it has one of ``words``."""
    kept: list[str] = []
    for word in sorted(set(words), key=len):
        if not any(shorter in word for shorter in kept):
            kept.append(word)
    return tuple(kept)
