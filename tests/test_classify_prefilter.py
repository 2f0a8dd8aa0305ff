"""The literal prefilter and the alternatives of a pack regex only save time: ``find`` and
``found`` give exactly what ``search`` gives, on policy sentences and on odd patterns."""

from __future__ import annotations

import marshal
import random
import re
import zlib
from pathlib import Path

import pytest
import yaml

from monitor.classify import RULES_DIR, load_rules, regex_cache, split_sentences
from monitor.classify.lazy import LazyRegex
from monitor.classify.packs import RuleSet
from monitor.classify.prefilter import lowered

DATA = Path(__file__).parent / "data"


def _sentences() -> list[str]:
    """Held-out sentences and pack examples, some upper-cased, plus word salads of them."""
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    texts = [case["text"] for case in cases]
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            texts += rule["examples"]["positive"] + rule["examples"]["negative"]
    rng = random.Random(7)
    words = " ".join(texts).split()
    salads = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 40))) for _ in range(120)]
    sample = rng.sample(texts, 160)
    return sample + [t.upper() for t in sample[:30]] + salads


def _regexes() -> list[tuple[str, LazyRegex]]:
    return [pair for rule_set in load_rules() for pair in pack_regexes(rule_set)]


def pack_regexes(rule_set: RuleSet) -> list[tuple[str, LazyRegex]]:
    """Every regex of a pack (screen, gates, rule patterns and vetoes), named."""
    lang = rule_set.language
    found = [(f"{lang} screen", rule_set.screen)]
    found += [(f"{lang} gate {g}", r) for g, r in rule_set.gates.items()]
    for rule in rule_set.rules:
        found += [(f"{rule.id} {n}", p.regex) for n, p in enumerate(rule.patterns)]
        found += [(f"{rule.id} unless {n}", r) for n, r in enumerate(rule.unless)]
    return found


def span(match: re.Match[str] | None) -> tuple[int, int] | None:
    return match.span() if match else None


def test_pack_regexes_find_what_search_finds() -> None:
    sentences = [(s, lowered(s)) for s in _sentences()]
    assert any(len(regex.plan()) > 1 for _, regex in _regexes()), "some are split"
    for name, regex in _regexes():
        for text, low in sentences:
            whole = regex.search(text)
            assert span(regex.find(text, low)) == span(whole), (name, text)
            assert regex.found(text, low) == (whole is not None), (name, text)


ODD = [
    r"(?-i:AI) models?|\bmachine learning\b",
    r"(a|b)\1x|train",
    r"(?<=our )models|(?<!no )data",
    r"train|",
    r"(?i)Train(?:ing)?|ml",
    r"x[- ]y|(?:(?:re-?)?train(?:s|ed)?)\b|(?=z)",
    r"(?:ab|cd)+e|(?>f+)g|h{2,3}|i*+j",
    r"(?P<name>k)l(?P=name)|m(?(name)n|o)",
    r"[^a]b|.c|\Wd|^e|f$",
    r"(?:(?:s|t)|(?:u|(?:v|w)))x",
    r"ſtar|İn|ınto|Kelvin",
]
ODD_TEXTS = (
    "ab abx bbx AI models ai models our models no data data ml TRAIN x-y retrained z abcde "
    "ffg hhh iij klk mn mo b xc -d e f star ſtar STAR İn in ınto into kelvin \u212aelvin"
)


@pytest.mark.parametrize("source", ODD)
def test_odd_patterns_find_what_search_finds(source: str) -> None:
    regex, rng = LazyRegex(source), random.Random(source)
    words = ODD_TEXTS.split()
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 6)))
        whole = regex.search(text)
        assert span(regex.find(text, lowered(text))) == span(whole), text
        assert regex.found(text, lowered(text)) == (whole is not None), text


def test_lowered_keeps_every_character_an_ascii_letter_matches() -> None:
    """Only "İ", "ı", "ſ" and the Kelvin sign outside ASCII match an ASCII letter when case
    is ignored; ``lowered`` makes each of them that letter, so no word is missed."""
    every = "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000)
    odd = re.findall("[a-z0-9]", every, re.IGNORECASE)
    assert sorted(odd) == sorted("İıſ\u212a")
    for char in odd:
        assert re.fullmatch(lowered(char), char, re.IGNORECASE) and lowered(char).isascii()
    assert lowered("İNFORMATION ſtore") == "information store"


def test_split_sentences_is_unchanged_by_the_faster_end_regex() -> None:
    text = "Our products.Meta does not. See e.g. Google. 1. Data we collect. Done!\u201d The end"
    assert split_sentences(text) == [
        "Our products.",
        "Meta does not.",
        "See e.g. Google.",
        "1. Data we collect.",
        "Done!\u201d",
        "The end",
    ]


@pytest.mark.parametrize("damage", [b"", b"not zlib", zlib.compress(marshal.dumps([(1, 2)]))])
def test_a_damaged_plan_file_still_finds_what_search_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes
) -> None:
    monkeypatch.setenv(regex_cache.ENV, str(tmp_path))
    source = r"train(?:s|ed|ing)?\b(?:\W+\w+){0,4}?\W+models?|\bAI\b"  # no common start
    assert len(regex_cache.plan_cached(source, re.IGNORECASE)) == 2
    (path,) = tmp_path.glob("*.plan*")
    path.write_bytes(damage)
    regex = LazyRegex(source)
    for text in ("We train our models.", "An AI feature.", "Nothing here.", "TRAINED MODEL"):
        assert span(regex.find(text, lowered(text))) == span(regex.search(text)), text
