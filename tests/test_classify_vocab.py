"""A pack's strings found in one pass (classify/vocab.py) are the strings ``in`` finds, where
``find`` finds them, and the regexes searched through them find what ``search`` finds; plain
lines split in one pass are split as line by line."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from monitor.classify import RULES_DIR, load_rules, split_sentences
from monitor.classify.lazy import LazyRegex
from monitor.classify.packs import RuleSet, fold
from monitor.classify.prefilter import lowered
from monitor.classify.sentences import _is_plain, _split_line
from monitor.classify.vocab import NOTHING, Vocabulary
from tests.test_classify_prefilter import pack_regexes, span

DATA = Path(__file__).parent / "data"
ODD = ["İNFORMATION", "ſtore", "\u212aelvin", "e-mail", "AI-powered", "é", "’s", "\u00a0", "ﬁne"]


def _sentences(count: int) -> list[str]:
    """Held-out sentences and pack examples, some upper-cased, word salads with odd words."""
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    texts = [case["text"] for case in cases]
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            texts += rule["examples"]["positive"] + rule["examples"]["negative"]
    rng = random.Random(8)
    words = " ".join(texts).split() + ODD
    salads = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 40))) for _ in range(40)]
    sample = rng.sample(texts, count)
    return sample + [t.upper() for t in sample[:20]] + salads


@pytest.mark.parametrize("rule_set", load_rules(), ids=lambda rule_set: rule_set.language)
def test_seen_strings_are_those_in_the_sentence(rule_set: RuleSet) -> None:
    """Every string of the pack's plans: found exactly where ``str.find`` finds it."""
    regexes = pack_regexes(rule_set)
    strings = sorted({w for _, r in regexes for b in r.plan() for g in b.needs for w in g}
                     | {w for _, r in regexes for b in r.plan() for w in b.starts})  # fmt: skip
    assert len(strings) > 500
    vocabulary = rule_set.vocabulary
    for sentence in _sentences(80):
        low = lowered(fold(sentence))
        seen = vocabulary.seen(low)
        for word in strings:
            number = vocabulary._number(word)  # known: the same number back
            places, where = [], low.find(word)
            while where >= 0:
                places.append(where)
                where = low.find(word, where + 1)
            assert (number in seen.ids) == bool(places), (word, low)
            assert seen.at.get(number, []) == places, (word, low)


@pytest.mark.parametrize("rule_set", load_rules(), ids=lambda rule_set: rule_set.language)
def test_pack_regexes_find_through_seen_strings_what_search_finds(rule_set: RuleSet) -> None:
    regexes = pack_regexes(rule_set)
    for _, regex in regexes:
        regex.plan()  # every plan registered: the seen strings decide for every branch
    for sentence in _sentences(60):
        text = fold(sentence)
        low = lowered(text)
        seen = rule_set.vocabulary.seen(low)
        assert seen.covered > 0
        for name, regex in regexes:
            whole = regex.search(text)
            assert span(regex.find(text, low, seen)) == span(whole), (name, text)
            assert regex.found(text, low, seen) == (whole is not None), (name, text)


def test_a_branch_registered_after_the_strings_were_found_is_tested_the_old_way() -> None:
    vocabulary = Vocabulary()
    first = LazyRegex(r"\bmodels?\b|\bAI\b", vocabulary)
    first.plan()
    covered = vocabulary.seen("").covered
    later = LazyRegex(r"train(?:s|ed|ing)?\b(?:\W+\w+){0,4}?\W+models?|\bdata\b", vocabulary)
    for text in ("We train our models.", "Your data.", "An AI model.", "Nothing here."):
        low = lowered(text)
        seen = vocabulary.seen(low)  # before ``later`` registers its strings
        assert span(later.find(text, low, seen)) == span(later.search(text)), text
        assert later.found(text, low, seen) == (later.search(text) is not None), text
        assert span(first.find(text, low, seen)) == span(first.search(text)), text
        assert span(later.find(text, low, NOTHING)) == span(later.search(text)), text
    assert vocabulary.seen("models data").covered > covered  # grown: built again


def test_plain_lines_are_split_as_line_by_line() -> None:
    """A text whose white space is plain (extraction's) is searched for sentence ends in
    one pass; a line's end followed by a capital on the next line is no end."""
    rng = random.Random(3)
    words = " ".join(_sentences(200)).replace("\u00a0", " ").split()
    words += ["e.g.", "1.", "U.S.", "A.", "end.", "Done!\u201d", "(x).", "Foo.Bar", "•", "-", "«"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    text = "\n".join([*lines, "y" * 1500 + " end.", "Next one", "- • item", "…", "a", "_"])
    assert _is_plain(text)
    expected = [sentence for line in text.splitlines() if line for sentence in _split_line(line)]
    assert split_sentences(text) == expected
    for odd in (" lead", "trail ", "two  spaces", "tab\there", "nbsp\u00a0here", "ls\u2028x"):
        assert not _is_plain(f"{text}\n{odd}")
