"""A learned scorer beside the rules (issue 12): a second reading of AI sentences, kept in
bench/ for evaluation (bench/scorer_eval.py, bench/train_scorer.py); the classifier does
not use it.

A sentence the rules read as AI-related but not as training (an ``ai_related`` match) is
scored by a logistic regression over its words and word pairs (lowercased, accents
folded); at or above the threshold, where the packs find a data noun in it and a verb of
training, improving, developing or learning is in it, it is flagged as training with rule
id ``scorer`` and, as its phrase, the words of the sentence that weigh most towards
training (exactly as written, joined by `` … ``). It never reads a sentence the rules did
not call AI, and never undoes a rule's flag. Off: bench/CLASSIFY.md, "Learned scorer",
says why; it lived in monitor/classify/ (disabled) until the classify speed work of rules
v10 moved it here, so no process that classifies reads its weights.

The weights are a JSON file beside this module, trained offline by ``bench/train_scorer.py``
from tests/data/classify_heldout.yaml and the packs' rule examples (deterministic: same
data, same file). Its ``enabled`` says whether bench/scorer_eval.py found it worth
switching on (it did not); switching it on would mean moving it back into
monitor/classify/, with its weights' hash in ``classifier_version()``.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.classify.packs import Rule, RuleMatch, RuleSet, fold  # noqa: E402
from monitor.classify.prefilter import lowered  # noqa: E402

WEIGHTS = Path(__file__).with_name("scorer_weights.json")
RULE_ID = "scorer"
SHOWN = 3  # features named in a flag's phrase
_TOKEN = re.compile(r"[^\W_]+")
# a negation makes the flag a protection, as the packs' negation rules do
_NEGATION = re.compile(
    r"\b(?:not|never|no|nor|without|none|\w+n't|ne|n'|jamais|aucune?|sans|ni)\b", re.I
)
# (d) what is done to the AI: a verb of training, improving, developing or learning (in
# the accent-folded sentence); AI-named data collection ("your chats with AI at Meta") has
# none. Feeding verbs are left out: data fed to a model is as often read by it as trained on.
_DOING = re.compile(
    r"\b(?:(?:re|pre|post)?-?train\w*|fine-?tun\w*|improv\w*|develop\w*|build\w*|built|"
    r"teach\w*|taught|refin\w*|learn\w*|evaluat\w*|calibrat\w*|enhanc\w*|"
    r"(?:re)?entrain\w*|amelior\w*|developp\w*|perfectionn\w*|affin\w*|apprend\w*|"
    r"appren\w*|concev\w*|con[cç]u\w*|construi\w*|elabor\w*|mise? au point|mettre au point|"
    r"specialis\w*|calibr\w*|evalu\w*|progress\w*)\b",
    re.I,
)
# the category, as the packs' gates name it; the first found wins
_CATEGORIES = (
    ("optout", "opt-out"),
    ("legal", "legal-basis"),
    ("public", "public-data-training"),
    ("usercontent", "user-content-training"),
    ("personal", "personal-data-training"),
)


@dataclass(frozen=True)
class Model:
    enabled: bool
    threshold: float
    bias: float
    weights: dict[str, float]


@dataclass(frozen=True)
class Scored:
    probability: float
    words: tuple[tuple[int, int], ...]  # spans of the strongest features, in order


def features(sentence: str) -> dict[str, tuple[int, int]]:
    """The sentence's features (``w:word``, ``b:word word``) and where each first is."""
    text = fold(sentence)  # one character for one: spans are the sentence's
    tokens = [(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: dict[str, tuple[int, int]] = {}
    for index, (word, start, end) in enumerate(tokens):
        found.setdefault(f"w:{word}", (start, end))
        if index:
            before, at, _ = tokens[index - 1]
            found.setdefault(f"b:{before} {word}", (at, end))
    return found


def score(sentence: str, model: Model) -> Scored:
    """The probability that ``sentence`` speaks of AI training, and its strongest words."""
    present = features(sentence)
    weights = model.weights
    total = model.bias + sum(weights.get(name, 0.0) for name in present)
    probability = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total))))
    strongest = sorted(
        (name for name in present if weights.get(name, 0.0) > 0),
        key=lambda name: (-weights[name], name),
    )[:SHOWN]
    return Scored(probability, tuple(sorted(present[name] for name in strongest)))


def phrase(sentence: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The words at ``spans`` as written, overlapping ones merged, joined by `` … ``."""
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return " … ".join(sentence[start:end] for start, end in merged)


def second_reading(
    sentence: str,
    match: RuleMatch | None,
    rule_sets: tuple[RuleSet, ...],
    model: Model | None = None,
) -> RuleMatch | None:
    """``match`` (the rules' reading), or the scorer's training flag where the rules read
    the sentence as AI-related only and the scorer (``model``, else the shipped weights,
    enabled or not) is sure enough: what the rules with the scorer would flag."""
    if match is None or match.rule.kind == "training":
        return match
    return judged(sentence, rule_sets, model or load()) or match


def judged(sentence: str, rule_sets: tuple[RuleSet, ...], model: Model) -> RuleMatch | None:
    """The scorer's training flag of an AI-related ``sentence``, or None."""
    scored = score(sentence, model)
    if scored.probability < model.threshold or not scored.words:
        return None
    text = fold(sentence)
    if not _DOING.search(text):
        return None
    low = lowered(text)
    gates = [rule_set.gates for rule_set in rule_sets]
    if not any("datanoun" in g and g["datanoun"].found(text, low) for g in gates):
        return None
    category = "training-negation" if _NEGATION.search(text) else "model-training"
    if category == "model-training":
        for gate, name in _CATEGORIES:
            if any(gate in g and g[gate].found(text, low) for g in gates):
                category = name
                break
    rule = Rule(id=RULE_ID, category=category, kind="training", patterns=())
    return RuleMatch(rule, phrase(sentence, scored.words))


@lru_cache(maxsize=1)
def load(path: Path = WEIGHTS) -> Model:
    """The shipped weights (parsed once)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return Model(
        enabled=bool(data["enabled"]),
        threshold=float(data["threshold"]),
        bias=float(data["bias"]),
        weights={str(k): float(v) for k, v in data["weights"].items()},
    )
