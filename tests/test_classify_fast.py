"""The classifier's faster ways give what the plain ones give: where a regex is tried (its
matches' starts), sentence keys computed together, one-sentence lines, accent folding."""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path
from re import _parser  # type: ignore[attr-defined]

import pytest
import yaml

from monitor.classify import RULES_DIR, load_rules, sentence_key, split_sentences
from monitor.classify.keys import holds_keyed, keyed, keyed_starts
from monitor.classify.packs import _FOLD, _fold
from monitor.classify.prefilter import holds, lowered, starts
from monitor.classify.regex_cache import Branch
from monitor.classify.sentences import _split_line, sentence_keys
from monitor.classify.triggers import any_triggered, triggered

DATA = Path(__file__).parent / "data"
EVERY = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)


@functools.cache
def _texts() -> list[str]:
    """Held-out sentences, pack examples, some upper-cased, and word salads of them."""
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    texts = [case["text"] for case in cases]
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            texts += rule["examples"]["positive"] + rule["examples"]["negative"]
    rng = random.Random(11)
    words = " ".join(texts).split()
    salads = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 40))) for _ in range(150)]
    return texts + [t.upper() for t in texts[::7]] + salads


def test_lowered_keeps_every_character_where_it_is() -> None:
    """A regex is tried only where the lowered text has a start of its matches: the lowered
    text must be the text, character for character (only "İ" lowers to two: it is mapped)."""
    assert len(lowered(EVERY)) == len(EVERY)
    assert all(len(lowered(char)) == 1 for char in "İıſ\u212aΣẞ")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\b(?:re-?)?train(?:s|ed)?\b", ("re-train", "retrain", "train")),
        (r"(?<!\byour )(?<!\bmy )\btraining (?:data|sets?)\b", ("training data", "training set")),
        (r"(?:the|our|its) (?:\w+ )?bots?", ("its ", "our ", "the ")),
        (r"(?-i:AI) models?|\bmachine learning\b", ("ai model", "machine learning")),
        (r"(?:ab|cd)+e", ("ab", "cd")),
        (r"train|", ()),  # can match the empty string: anywhere
        (r"\w+ing|data", ()),  # begins with any word
        (r"(?=z)", ()),
        (r"x?y", ("xy", "y")),
    ],
)
def test_starts_of_a_pattern(pattern: str, expected: tuple[str, ...]) -> None:
    assert starts(_parser.parse(pattern, re.IGNORECASE)) == expected


def test_every_match_of_a_pack_regex_begins_with_one_of_its_starts() -> None:
    """The analysis itself, on the packs: wherever a pattern's alternative matches (all its
    matches, not only the first), the lowered text has one of its starts there. (60 texts:
    how many matches are checked depends on which texts are drawn, and 40 of them drew only
    147 once the held-out file grew.)"""
    texts = [(text, lowered(text)) for text in random.Random(3).sample(_texts(), 60)]
    checked = 0
    for rule_set in load_rules():
        regexes = [rule_set.screen, *rule_set.gates.values()]
        regexes += [p.regex for rule in rule_set.rules for p in rule.patterns]
        for regex in regexes:
            for branch in regex.plan():
                compiled, begins = branch.pattern(), branch.starts
                if not begins:
                    continue
                for text, low in texts:
                    match = compiled.search(text)
                    while match:  # every position a match begins at, in turn
                        at = match.start()
                        assert low.startswith(begins, at), (compiled.pattern[:80], text)
                        checked += 1
                        match = compiled.search(text, at + 1) if at < len(text) else None
    assert checked > 150


def _branches() -> list[Branch]:
    found = []
    for rule_set in load_rules():
        regexes = [rule_set.screen, *rule_set.gates.values()]
        regexes += [p.regex for rule in rule_set.rules for p in rule.patterns]
        regexes += [veto for rule in rule_set.rules for veto in rule.unless]
        found += [branch for regex in regexes for branch in regex.plan()]
    return found


def test_keyed_needs_hold_exactly_where_the_needs_hold() -> None:
    """A branch's needs filed under keys (what lazy.py tests) hold in a text exactly where
    its needs do, for every alternative of every pack regex, on the pack examples, the
    held-out sentences and salads of their words (sentences where some hold, most not)."""
    texts = [lowered(text) for text in _texts()]
    held = tested = 0
    for branch in _branches():
        assert branch.keyed == keyed(branch.needs)
        for low in texts:
            expected = holds(branch.needs, low)
            assert holds_keyed(branch.keyed, low) == expected, (branch.needs, low)
            held += expected
            tested += 1
    assert 0.02 < held / tested < 0.98


def test_keyed_starts_find_every_position_a_start_is_at() -> None:
    """Each key begins the starts filed under it, and the positions lazy.py finds through
    the keys are those where the lowered text has one of the starts."""
    texts = [lowered(text) for text in random.Random(4).sample(_texts(), 80)]
    found = 0
    for branch in _branches():
        for key, members in keyed_starts(branch.starts):
            assert all(member.startswith(key) for member in members)
            assert (key in branch.starts) != bool(members)
        for low in texts:
            expected = [at for at in range(len(low)) if low.startswith(branch.starts, at)]
            at = []
            for key, members in branch.keyed_starts:
                where = low.find(key)
                while where >= 0:
                    if not members or low.startswith(members, where):
                        at.append(where)
                    where = low.find(key, where + 1)
            assert sorted(at) == (expected if branch.starts else [])
            found += len(at)
    assert found > 1000


def test_trigger_words_tested_together_are_tested_in_each_sentence() -> None:
    """``triggered`` of a text's sentences is ``any_triggered`` of each, as match_sentence
    folds it (odd sentences too: accents, capitals, dotless i, newlines, empty ones)."""
    rule_sets = load_rules()
    sentences = _sentences() + ["Tra\nin", "MODÈLE d'IA", "İA", "", "\n", "A.I.", "bot\n"]
    folded = [s if s.isascii() else _fold(s) for s in sentences]
    expected = [any_triggered(rule_sets, text, text.casefold()) for text in folded]
    assert triggered(sentences, rule_sets, _fold) == expected
    assert 50 < sum(expected) < len(expected) - 50
    for size in (0, 1, 2, 7):
        assert triggered(sentences[:size], rule_sets, _fold) == expected[:size]


def test_keys_of_needs() -> None:
    assert keyed((("ai", "fine-tune it", "fine-tunes them", "train"), ("our ",))) == (
        (("ai", ()), ("fine", ("fine-tune it", "fine-tunes them")), ("train", ())),
        (("our ", ()),),
    )
    assert keyed_starts(("make our ", "make the ", "mak", "train on a", "x")) == (
        ("make", ("make our ", "make the ")), ("mak", ()), ("train on a", ()), ("x", ()),
    )  # fmt: skip


def _sentences() -> list[str]:
    rng = random.Random(5)
    odd = ["Σ", "ς", "\u0301", "\u200b", "\u00ad", "ﬁ", "²", "\u00a0", "://", "www.", "_", "’"]
    chars = [chr(c) for c in range(0x21, 0x250)] + odd + [" "] * 8
    made = ["".join(rng.choice(chars) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    links = ["See https://x.com/a_b now", "WWW.Example.com/é is it", "a www. b", "x://y z", ""]
    return [s.strip() for s in made] + links + _texts()


def test_sentence_keys_are_each_sentences_key() -> None:
    sentences = _sentences()
    assert sentence_keys(sentences) == [sentence_key(s) for s in sentences]
    rng = random.Random(2)
    for _ in range(300):  # in small lists too: all ASCII, none, mixed
        some = rng.sample(sentences, rng.randint(0, 6))
        assert sentence_keys(some) == [sentence_key(s) for s in some], some


def test_a_one_sentence_line_is_split_as_split_line_does() -> None:
    rng = random.Random(4)
    words = " ".join(_texts()).split() + ["•", "-", "*", "1.", "e.g.", "(", ")", "\t", "\u2028"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    text = "\n".join(lines + ["x" * 1500 + " end", "- • item", "— ", "…", "a", "_"])
    expected = [
        sentence
        for line in text.splitlines()
        if (normal := " ".join(line.split()))
        for sentence in _split_line(normal)
    ]
    assert split_sentences(text) == expected


def test_folding_is_translate() -> None:
    assert _fold(EVERY) == EVERY.translate(_FOLD)
