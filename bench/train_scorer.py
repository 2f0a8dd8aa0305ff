"""Trains the learned scorer beside the rules (bench/scorer.py), offline.

Data: tests/data/classify_heldout.yaml (our own written rounds; label 1 = ``training``)
and the packs' rule examples (positive examples of training rules 1; their negatives and
every ai_related rule's examples 0). Never the shared corpus or its sentences, never
tests/data/scorer_rounds.yaml (the first-look test of bench/scorer_eval.py).

Model: logistic regression over binary word and word-pair features (scorer.features),
those seen in at least MIN_COUNT training sentences; AdaGrad with L2, EPOCHS passes in an
order shuffled by a fixed seed: the same data gives the same file, byte for byte.
Pure Python (about 2,000 sentences: seconds); scikit-learn would add a dependency for no
gain at this size.

Run: .venv/bin/python bench/train_scorer.py [--threshold T] [--enable]
(writes bench/scorer_weights.json; bench/scorer_eval.py picks T)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scorer import WEIGHTS, features  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "classify_heldout.yaml"
RULES = ROOT / "monitor" / "rules"
SEED, EPOCHS, RATE, L2, MIN_COUNT = 12, 30, 0.3, 1e-3, 2
FORMAT = 1
_ROUND = re.compile(r"^# -+ round (\d+)")


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 1: speaks of AI training
    round: int  # held-out round (1: the first block), 0: a pack's rule example
    lang: str
    expect: str  # training / ai_other / none (held-out), pack-positive / pack-negative


def heldout(path: Path = HELDOUT) -> list[Example]:
    """The held-out sentences, each with the round whose comment header it follows."""
    examples: list[Example] = []
    number = 1
    for line in path.read_text(encoding="utf-8").splitlines():
        header = _ROUND.match(line)
        if header:
            number = int(header.group(1))
        elif line.startswith("- {"):
            case = yaml.safe_load(line)[0]
            label = int(case["expect"] == "training")
            lang = str(case.get("lang", "en"))
            examples.append(Example(case["text"], label, number, lang, case["expect"]))
    return examples


def pack_examples(directory: Path = RULES) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yaml")):
        pack = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in pack.get("rules") or ():
            training = rule.get("kind", "training") == "training"
            shown = rule.get("examples") or {}
            for kind in ("positive", "negative"):
                for text in shown.get(kind) or ():
                    label = int(training and kind == "positive")
                    examples.append(Example(text, label, 0, pack["language"], f"pack-{kind}"))
    return examples


def train(examples: list[Example]) -> tuple[float, dict[str, float]]:
    """Bias and weights of a logistic regression fitted to ``examples``."""
    rows = [(sorted(features(e.text)), e.label) for e in examples]
    counts: dict[str, int] = {}
    for names, _ in rows:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    rows = [([n for n in names if counts[n] >= MIN_COUNT], label) for names, label in rows]
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    bias, bias_square = 0.0, 0.0
    order = list(range(len(rows)))
    shuffle = random.Random(SEED)
    for _ in range(EPOCHS):
        shuffle.shuffle(order)
        for index in order:
            names, label = rows[index]
            total = bias + sum(weights.get(n, 0.0) for n in names)
            error = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total)))) - label
            bias_square += error * error
            bias -= RATE * error / math.sqrt(bias_square)
            for name in names:
                weight = weights.get(name, 0.0)
                gradient = error + L2 * weight
                squares[name] = squares.get(name, 0.0) + gradient * gradient
                weights[name] = weight - RATE * gradient / math.sqrt(squares[name])
    return bias, {name: weight for name, weight in weights.items() if abs(weight) >= 1e-3}


def training_set(without_round: int | None = None) -> list[Example]:
    examples = heldout() + pack_examples()
    return [e for e in examples if e.round != without_round or without_round is None]


def data_hash(examples: list[Example]) -> str:
    """Names the training data: a file trained on other data is stale."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(f"{e.label}\t{e.text}\n".encode())
    return digest.hexdigest()[:12]


def dump(bias: float, weights: dict[str, float], threshold: float, enabled: bool, data: str) -> str:
    """The weights file's text: header first (scorer.version reads ``enabled`` there)."""
    body = {name: round(weights[name], 4) for name in sorted(weights)}
    head = {"enabled": enabled, "format": FORMAT, "threshold": threshold, "data": data,
            "bias": round(bias, 4)}  # fmt: skip
    return json.dumps({**head, "weights": body}, ensure_ascii=False, separators=(", ", ": ")) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.85)
    parser.add_argument("--enable", action="store_true", help="let classify use it")
    args = parser.parse_args()
    examples = training_set()
    bias, weights = train(examples)
    text = dump(bias, weights, args.threshold, args.enable, data_hash(examples))
    WEIGHTS.write_text(text, encoding="utf-8")
    print(f"{len(examples)} sentences, {len(weights)} features -> {WEIGHTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
