"""The learned scorer beside the rules (bench/scorer.py, issue 12), evaluated in bench/
and not used by the classifier: what it would flag, its training, and that the
classifier neither reads its weights nor names them in its version."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from monitor.classify import classifier_version, classify, load_rules, match_sentence

BENCH = Path(__file__).parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import scorer  # noqa: E402
import train_scorer  # noqa: E402
from scorer import Model, judged, load, phrase, score, second_reading  # noqa: E402

# AI-related to rules v9, not training (held-out rounds 40 and 30, xfail there); judged()
# reads them whatever later rules say
MISSED = [
    "Les questions posées à notre chatbot sont enregistrées afin d'améliorer ses performances.",
    "Les messages envoyés au chatbot peuvent être conservés et utilisés pour l'améliorer.",
]


def enabled() -> Model:
    shipped = load()
    return Model(True, shipped.threshold, shipped.bias, shipped.weights)


@pytest.mark.parametrize("sentence", MISSED)
def test_a_scorer_flag_says_why_in_the_sentences_own_words(sentence: str) -> None:
    flag = judged(sentence, load_rules(), enabled())
    assert flag is not None
    assert (flag.rule.id, flag.rule.kind) == ("scorer", "training")
    assert flag.rule.category == "model-training"
    words = flag.phrase.split(" … ")
    assert 1 <= len(words) <= scorer.SHOWN
    assert all(word and word in sentence for word in words)
    # in the sentence's order, and among its strongest features
    assert sorted(words, key=sentence.index) == words
    assert score(sentence, enabled()).probability >= enabled().threshold


def test_phrase_merges_overlapping_words_and_keeps_the_sentences_writing() -> None:
    sentence = "Vos DONNÉES servent à entraîner l'IA."
    at = sentence.index("IA")
    assert phrase(sentence, ((4, 11), (4, 19), (at, at + 2))) == "DONNÉES servent … IA"


def test_the_scorer_never_reads_what_the_rules_flag_or_do_not_call_ai() -> None:
    rule_sets = load_rules()
    trained = "We use your posts to train our AI models."
    match = match_sentence(trained, rule_sets)
    assert match is not None and match.rule.kind == "training"
    assert second_reading(trained, match, rule_sets) is match
    assert second_reading("Our shop opens at nine.", None, rule_sets) is None


def test_a_negation_makes_a_scorer_flag_a_protection() -> None:
    sentence = (
        "None of the images captured during your eye exam are used to develop retinal "
        "screening algorithms without your explicit consent."
    )
    flag = judged(sentence, load_rules(), Model(True, 0.5, *_shipped()))
    assert flag is not None and flag.rule.category == "training-negation"


def _shipped() -> tuple[float, dict[str, float]]:
    return load().bias, load().weights


def test_classify_reads_the_rules_alone() -> None:
    """The scorer would flag these (with the rules' AI-related reading); the classifier
    gives the rules' reading, whatever the weights file says."""
    rule_sets = load_rules()
    for sentence in MISSED:
        rules = match_sentence(sentence, rule_sets)
        flags = classify("", sentence).flags
        if rules is not None and rules.rule.kind == "training":
            assert [f.rule for f in flags] == [rules.rule.id]
        else:
            assert not flags
            read = second_reading(sentence, rules, rule_sets, enabled())
            assert read is rules or (read is not None and read.rule.id == "scorer")


def test_training_is_deterministic_and_gives_the_shipped_weights() -> None:
    examples = train_scorer.training_set()
    first = train_scorer.train(examples[:300])
    assert train_scorer.train(examples[:300]) == first
    shipped = json.loads(scorer.WEIGHTS.read_text(encoding="utf-8"))
    data = train_scorer.data_hash(examples)
    if shipped["data"] != data:
        # the held-out file or the packs' examples changed since the weights were trained:
        # harmless while the scorer is off; an enabled one must be retrained
        assert not shipped["enabled"], "retrain: .venv/bin/python bench/train_scorer.py"
        return
    bias, weights = train_scorer.train(examples)
    text = train_scorer.dump(bias, weights, shipped["threshold"], shipped["enabled"], data)
    assert text == scorer.WEIGHTS.read_text(encoding="utf-8")


def test_training_never_reads_the_fresh_rounds_or_the_corpus() -> None:
    fresh = (Path(__file__).parent / "data" / "scorer_rounds.yaml").read_text(encoding="utf-8")
    texts = {e.text for e in train_scorer.training_set()}
    assert not [line for line in fresh.splitlines() if line.startswith("- {") and any(
        t in line for t in texts if len(t) > 40)]  # fmt: skip


def test_the_classifier_version_names_no_scorer() -> None:
    """Moving the (disabled) scorer out of the package left the version as it was: its
    digest took the scorer's version, "" while disabled, which adds no bytes."""
    assert "scorer" not in classifier_version()
    assert not load().enabled  # bench/scorer_eval.py: it is not worth switching on
    assert not list((BENCH.parent / "monitor").rglob("*scorer*"))
