"""Tests of monitor.classify: rule examples, case tables, held-out sentences, the corpus, speed."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from monitor.classify import (
    RULES_DIR,
    classifier_version,
    classify,
    load_rules,
    match_sentence,
    split_sentences,
)
from monitor.classify.packs import _FOLD, Pattern, RuleSet
from monitor.classify.sentences import MAX_SENTENCE
from tests.shared import SHARED, need

DATA = Path(__file__).parent / "data"
CORPUS = SHARED / "corpus" / "versions"
# Open Terms Archive sentences labelled by hand (ODC-BY 1.0): read in place, never copied
SENTENCES = CORPUS.parent / "sentences" / "sentences.jsonl"
BENCH = Path(__file__).resolve().parents[1] / "bench" / "classify_eval.py"
TRAINING_CATEGORIES = {
    "user-content-training", "public-data-training", "personal-data-training",
    "training-negation", "opt-out", "legal-basis", "model-training", "ai-development",
}  # fmt: skip
AI_CATEGORIES = {"ai-feature", "automated-decision", "ai-generated-content"}


def _rule_files() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(RULES_DIR.glob("*.yaml"))
    ]


def _examples(which: str) -> list[Any]:
    return [
        pytest.param(rule, sentence, id=f"{rule['id']}-{n}")
        for _, data in _rule_files()
        for rule in data["rules"]
        for n, sentence in enumerate(rule["examples"][which])
    ]


def _table(name: str) -> list[Any]:
    cases = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["name"]) for case in cases]


@pytest.mark.parametrize(("rule", "sentence"), _examples("positive"))
def test_positive_example_matches_its_rule(rule: dict[str, Any], sentence: str) -> None:
    result = classify("", sentence)
    found = result.flags if rule["kind"] == "training" else result.ai_related
    assert [flag.rule for flag in found] == [rule["id"]]
    assert found[0].phrase and found[0].phrase in sentence
    assert found[0].category == rule["category"]
    assert found[0].side == "added"


@pytest.mark.parametrize(("rule", "sentence"), _examples("negative"))
def test_negative_example_is_not_flagged(rule: dict[str, Any], sentence: str) -> None:
    assert classify("", sentence).flags == ()
    assert classify(sentence, "").flags == ()


@pytest.mark.parametrize(("name", "data"), _rule_files())
def test_rule_file_is_well_formed(name: str, data: dict[str, Any]) -> None:
    assert isinstance(data["version"], int) and data["language"] == name.removesuffix(".yaml")
    kinds = [rule["kind"] for rule in data["rules"]]
    assert kinds == sorted(kinds, key=lambda kind: kind != "training"), "training rules first"
    for rule in data["rules"]:
        allowed = TRAINING_CATEGORIES if rule["kind"] == "training" else AI_CATEGORIES
        assert rule["category"] in allowed, rule["id"]
        assert rule["id"].startswith(data["language"] + "-") and rule["examples"]["positive"]
        if rule["kind"] == "training":
            assert rule["examples"]["negative"], f"{rule['id']} needs negative examples"


def test_rule_ids_are_unique_and_rules_are_cached() -> None:
    ids = [rule.id for rule_set in load_rules() for rule in rule_set.rules]
    assert len(ids) == len(set(ids)) and len(ids) >= 20
    assert {rule_set.language for rule_set in load_rules()} >= {"en", "fr"}
    assert load_rules() is load_rules()


def test_classifier_version_is_stable_and_follows_the_packs(tmp_path: Path) -> None:
    version = classifier_version()
    assert version == classifier_version() and len(version) <= 40
    assert all(f"{rule_set.language}{rule_set.version}" in version for rule_set in load_rules())
    for path in RULES_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    assert classifier_version(tmp_path) == version  # the same packs elsewhere: same name
    pack = tmp_path / "en.yaml"
    pack.write_text(pack.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert classifier_version.__wrapped__(tmp_path) != version  # any edit of a pack shows


def _without_gates(rule_set: RuleSet) -> RuleSet:
    rules = tuple(
        dataclasses.replace(rule, patterns=tuple(Pattern(p.regex) for p in rule.patterns))
        for rule in rule_set.rules
    )
    return dataclasses.replace(rule_set, rules=rules, gates={})


def test_gates_only_save_time() -> None:
    """A pattern skipped because a gate term is missing could not have matched anyway."""
    gated = load_rules()
    assert any(p.gates for rs in gated for rule in rs.rules for p in rule.patterns)
    plain = tuple(_without_gates(rule_set) for rule_set in gated)
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    examples = [sentence for param in _examples("positive") for sentence in param.values[1:]]
    shared = [row["sentence"] for row in _shared_sentences()]
    for sentence in [case["text"] for case in cases] + examples + shared:
        found, expected = match_sentence(sentence, gated), match_sentence(sentence, plain)
        assert (found and (found.rule.id, found.phrase)) == (
            expected and (expected.rule.id, expected.phrase)
        ), sentence


def _shared_sentences() -> list[dict[str, Any]]:
    lines = need(SENTENCES).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def _policy_sentences() -> list[str]:
    """Every sentence of the corpus histories' last versions, the held-out file, the packs'
    examples and the shared labelled sentences."""
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    examples = [p for kind in ("positive", "negative") for p in _examples(kind)]
    sentences = [case["text"] for case in cases] + [str(p.values[1]) for p in examples]
    sentences += [row["sentence"] for row in _shared_sentences()]
    for history in sorted(need(CORPUS).iterdir()):
        versions = sorted(history.glob("[0-9][0-9][0-9][0-9].md"))
        for version in versions[:1] + versions[-1:]:
            sentences += split_sentences(version.read_text(encoding="utf-8"))
    return sentences


def test_triggers_only_save_time() -> None:
    """A sentence with no trigger word is one the screen would not have let through: the
    results are the same without the triggers, and every screened sentence has one."""
    packs = load_rules()
    assert all(rule_set.triggers and rule_set.cased_triggers for rule_set in packs)
    plain = tuple(dataclasses.replace(rs, triggers=(), cased_triggers=()) for rs in packs)
    sentences = _policy_sentences()
    odd = ["We ſell nothing to trAIn anything.", "Nous entraînons nos modèles.", "MODELS", "ia"]
    for sentence in sentences + odd:
        text = sentence.translate(_FOLD)
        for rule_set in packs:
            if rule_set.screen.search(text):
                assert rule_set.triggered(text, text.casefold()), (rule_set.language, sentence)
        found, expected = match_sentence(sentence, packs), match_sentence(sentence, plain)
        assert (found and (found.rule.id, found.phrase)) == (
            expected and (expected.rule.id, expected.phrase)
        ), sentence


@pytest.mark.parametrize(
    ("language", "precision", "recall"), [("en", 0.95, 0.93), ("fr", 0.9, 0.9)]
)
def test_shared_sentences_do_not_regress(language: str, precision: float, recall: float) -> None:
    """Other services' sentences (bench/classify_cv.py scores them by company): a floor."""
    rows = [r for r in _shared_sentences() if r["language"] == language]
    rows = [r for r in rows if r["label"] in ("positive", "negative")]
    pairs = [(r["label"] == "positive", bool(classify("", r["sentence"]).flags)) for r in rows]
    tp = sum(want and got for want, got in pairs)
    assert tp / sum(got for _, got in pairs) >= precision
    assert tp / sum(want for want, _ in pairs) >= recall


def test_an_aside_in_parentheses_is_read_through_and_quoted() -> None:
    sentence = "We license public posts to partners for large language model (LLM) training."
    flag = classify("", sentence).flags[0]
    assert flag.phrase in sentence and "(LLM) training" in flag.phrase


def test_a_new_language_is_a_new_rule_file(tmp_path: Path) -> None:
    (tmp_path / "de.yaml").write_text(
        "version: 1\nlanguage: de\nterms:\n  ki: 'KI|künstliche Intelligenz'\n"
        "rules:\n  - id: de-train\n    category: model-training\n    kind: training\n"
        "    patterns: ['trainier\\w*(?:\\W+\\w+){0,4}?\\W+{ki}-?Modelle']\n",
        encoding="utf-8",
    )
    rule_sets = load_rules(tmp_path)
    found = match_sentence("Wir trainieren unsere KI-Modelle mit Ihren Daten.", rule_sets)
    assert found is not None and found.rule.id == "de-train"
    assert found.phrase == "trainieren unsere KI-Modelle"


def test_unknown_term_in_a_rule_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "xx.yaml").write_text(
        "version: 1\nlanguage: xx\nrules:\n  - id: xx-a\n    category: opt-out\n"
        "    patterns: ['{nothing}']\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unknown term {nothing}"):
        load_rules(tmp_path)


@pytest.mark.parametrize("case", _table("classify_cases.yaml"))
def test_classify_case(case: dict[str, Any]) -> None:
    result = classify(case["old"], case["new"])
    assert result.ai_training is case["ai_training"]
    assert result.direction == case["direction"]
    if "flags" in case:
        assert [[flag.side, flag.category] for flag in result.flags] == case["flags"]
    if "ai_related" in case:
        assert [flag.category for flag in result.ai_related] == case["ai_related"]
    for flag in result.flags + result.ai_related:
        assert flag.phrase in flag.sentence


def _heldout() -> list[Any]:
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    return [
        pytest.param(
            case,
            id=f"{n:03d}-{case['expect']}-{case.get('lang', 'en')}",
            marks=[pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else [],
        )
        for n, case in enumerate(cases)
    ]


def _predicted(sentence: str) -> str:
    result = classify("", sentence)
    return "training" if result.flags else "ai_other" if result.ai_related else "none"


@pytest.mark.parametrize("case", _heldout())
def test_heldout_sentence(case: dict[str, Any]) -> None:
    """Sentences of other companies' policies, not tuned on: one class each."""
    assert _predicted(case["text"]) == case["expect"]
    # a removed sentence is judged like an added one
    assert bool(classify(case["text"], "").flags) is (case["expect"] == "training")


# Rounds 85-87 (fr9) are kept with the misses of the families that were not merged (they
# made French sentences 2.3x dearer and found nothing more of kept-aside round 4): 0.95
# holds on the rounds before them, and the whole set may not lose what it finds (1,674 of
# 1,777, recall 0.942, 7 false alarms on the merge of 2026-12-04 evening).
ROUNDS_AT_095 = 85
WHOLE_FLOOR = (1674, 7)  # training sentences found, at least; false alarms, at most


def test_heldout_precision_and_recall() -> None:
    cases = yaml.safe_load((DATA / "classify_heldout.yaml").read_text(encoding="utf-8"))
    assert len(cases) >= 120
    pairs = [
        (case["expect"] == "training", bool(classify("", case["text"]).flags), case)
        for case in cases
    ]
    older = [(want, got) for want, got, case in pairs if case.get("round", 0) < ROUNDS_AT_095]
    tp = sum(want and got for want, got in older)
    assert tp / sum(got for _, got in older) >= 0.95, "precision"
    assert tp / sum(want for want, _ in older) >= 0.95, "recall"
    found = sum(want and got for want, got, _ in pairs)
    false = sum(got and not want for want, got, _ in pairs)
    assert found >= WHOLE_FLOOR[0], f"{found} found, the floor is {WHOLE_FLOOR[0]}"
    assert false <= WHOLE_FLOOR[1], f"{false} false alarms, the ceiling is {WHOLE_FLOOR[1]}"


@pytest.mark.parametrize("case", _table("split_sentences.yaml"))
def test_split_sentences(case: dict[str, Any]) -> None:
    assert split_sentences(case["text"]) == case["sentences"]


def test_phrase_is_exact_text_of_the_sentence_with_typographic_quotes() -> None:
    result = classify("", "Chats won’t be used to train Google’s AI models.")
    assert result.flags[0].phrase == "won’t be used to train Google’s AI models"
    assert result.flags[0].category == "training-negation"


def _policy(seed: int, size: int) -> str:
    """A synthetic policy of about ``size`` characters, mostly plain, some AI sentences."""
    rng = random.Random(seed)
    words = "we use your data information to provide improve services share partners".split()
    ai = [
        "We may use your content to train our AI models in region {}.",
        "Our chatbot answers your questions using machine learning, case {}.",
        "You can opt out of training in your settings, section {}.",
    ]
    lines: list[str] = []
    while sum(map(len, lines)) < size:
        plain = " ".join(rng.choice(words) for _ in range(rng.randint(8, 30))).capitalize()
        extra = rng.choice(ai).format(len(lines)) if rng.random() < 0.3 else ""
        lines.append(f"{plain} {seed}-{len(lines)}. {extra}")
    return "\n".join(lines)


def test_classify_two_100_kb_texts() -> None:
    # Its speed is measured in bench/speed.py (a ratio to a floor, not a timed test).
    old, new = _policy(1, 100_000), _policy(2, 100_000)
    result = classify(old, new)
    assert result.flags and all(f.side in ("added", "removed") for f in result.flags)
    assert {f.category for f in result.flags} >= {"opt-out"}


def _run_on(size: int) -> str:
    """A paragraph of ``size`` characters with no full stop, dense with training words."""
    words = "we may use your content to train and improve our systems, tools and models".split()
    return " ".join(words[i % len(words)] for i in range(size // 5))[:size]


def test_a_run_on_paragraph_is_cut_into_bounded_sentences() -> None:
    """1.3 MB with no full stop: the rules never see more than MAX_SENTENCE characters at
    once (their cost grows faster than a sentence's length; bench/classify_speed.py
    times it), and no word is lost or moved."""
    paragraph = _run_on(1_300_000)
    sentences = split_sentences(paragraph)
    assert max(map(len, sentences)) <= MAX_SENTENCE < 2 * min(map(len, sentences[:-1]))
    assert " ".join(sentences).split() == paragraph.split()
    flags = classify("", _run_on(20_000)).flags
    assert flags and all(len(flag.sentence) <= MAX_SENTENCE for flag in flags)


def _bench() -> ModuleType:
    """bench/classify_eval.py, whose markdown-to-text rendering the corpus tests share."""
    if "classify_eval" not in sys.modules:
        spec = importlib.util.spec_from_file_location("classify_eval", BENCH)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["classify_eval"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["classify_eval"]


def _labelled() -> list[Any]:
    need(CORPUS)
    params = []
    for labels in sorted(CORPUS.glob("*/labels.json")):
        for label in json.loads(labels.read_text(encoding="utf-8"))["transitions"]:
            if label["confidence"] == "clear" and label["label"] != "cosmetic":
                name = f"{labels.parent.name}-{label['index']}"
                params.append(pytest.param(labels.parent, label, id=name))
    return params


@functools.cache
def _version_text(path: Path) -> str:
    text: str = _bench().markdown_to_text(path.read_text(encoding="utf-8"))
    return text


@pytest.mark.parametrize(("folder", "label"), _labelled())
def test_labelled_corpus_transition(folder: Path, label: dict[str, Any]) -> None:
    """Clear labels: training transitions are flagged, none / ai_other ones are not."""
    old, new = (_version_text(folder / f"{k:04d}.md") for k in (label["index"] - 1, label["index"]))
    assert classify(old, new).ai_training is (label["label"] == "training")
