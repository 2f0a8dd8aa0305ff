"""Does the learned scorer beside the rules raise recall on unseen wording, at what cost?

Three measures (issue 12), training flag only:

1. Leave-one-round-out over tests/data/classify_heldout.yaml: for each round k, the scorer
   is trained without round k (bench/train_scorer.py's data and settings), then round k is
   read by the rules alone and by the rules with that scorer. The rules were fixed on
   round k's misses, so few are left to gain; two more readings of the same runs say more:
   - "as if missed": every sentence the rules read as AI (training or not) is given to the
     scorer as if the rules had read it as AI-related only: its recall on the rules'
     positives and its false alarms on every AI-named negative, per threshold;
   - false alarms of rules with scorer on every held-out negative.
2. tests/data/scorer_rounds.yaml (rounds 57 en, 58 fr, then 59 en, 60 fr for the second
   design: each written and committed before anything was scored on it, never trained on):
   rules alone vs rules with the shipped scorer (bench/scorer_weights.json, its
   threshold, enabled or not).

Run: .venv/bin/python bench/scorer_eval.py [--loo] [--fresh]   (both when neither is given)
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scorer import Model, judged, load  # noqa: E402
from train_scorer import Example, heldout, train, training_set  # noqa: E402

from monitor.classify import load_rules, match_sentence  # noqa: E402

FRESH = ROOT / "tests" / "data" / "scorer_rounds.yaml"
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97)


@dataclass(frozen=True)
class Reading:
    example: Example
    rules: str  # "training", "ai_related" or "none"
    scored: dict[float, bool]  # threshold -> the scorer (gates included) flags it


def read(example: Example, bias: float, weights: dict[str, float]) -> Reading:
    rule_sets = load_rules()
    match = match_sentence(example.text, rule_sets)
    rules = match.rule.kind if match else "none"
    scored: dict[float, bool] = {}
    if rules != "none":
        for threshold in THRESHOLDS:
            model = Model(True, threshold, bias, weights)
            scored[threshold] = judged(example.text, rule_sets, model) is not None
    return Reading(example, rules, scored)


def leave_one_round_out() -> list[Reading]:
    readings: list[Reading] = []
    for number in sorted({e.round for e in heldout()}):
        bias, weights = train(training_set(without_round=number))
        readings.extend(read(e, bias, weights) for e in heldout() if e.round == number)
    return readings


def counts(readings: list[Reading], threshold: float | None) -> tuple[int, int, int]:
    """tp, fp, fn of the training flag: rules alone (None) or rules with the scorer."""
    tp = fp = fn = 0
    for r in readings:
        flagged = r.rules == "training" or (
            threshold is not None and r.rules == "ai_related" and r.scored[threshold]
        )
        tp += flagged and r.example.label == 1
        fp += flagged and r.example.label == 0
        fn += not flagged and r.example.label == 1
    return tp, fp, fn


def line(name: str, tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return f"| {name} | {tp} | {fp} | {fn} | {p:.3f} | {r:.3f} |"


def report_loo(readings: list[Reading]) -> None:
    print("## 1. Leave-one-round-out (rounds 1-44, scorer trained without the round)\n")
    print("| reading | tp | fp | fn | P | R |\n|---|---|---|---|---|---|")
    print(line("rules alone", *counts(readings, None)))
    for t in THRESHOLDS:
        print(line(f"rules + scorer >= {t}", *counts(readings, t)))
    ai = [r for r in readings if r.rules != "none"]
    pos = [r for r in ai if r.example.label == 1]
    neg = [r for r in ai if r.example.label == 0]
    print(f"\nAs if missed: {len(pos)} positives and {len(neg)} negatives the rules read as AI\n")
    print("| threshold | scorer recall on positives | false alarms on AI negatives | P |")
    print("|---|---|---|---|")
    for t in THRESHOLDS:
        hit = sum(r.scored[t] for r in pos)
        false = sum(r.scored[t] for r in neg)
        print(f"| {t} | {hit}/{len(pos)} ({hit / len(pos):.3f}) | {false}/{len(neg)} | "
              f"{hit / max(1, hit + false):.3f} |")  # fmt: skip
    by_lang: dict[str, list[Reading]] = defaultdict(list)
    for r in ai:
        by_lang[r.example.lang].append(r)
    for lang, some in sorted(by_lang.items()):
        hits = [sum(r.scored[t] for r in some if r.example.label) for t in (0.8, 0.9)]
        falses = [sum(r.scored[t] for r in some if not r.example.label) for t in (0.8, 0.9)]
        n = sum(r.example.label for r in some)
        print(f"{lang}: as if missed, recall {hits} of {n}, false alarms {falses} (>= 0.8, 0.9)")


def report_gains(readings: list[Reading], threshold: float) -> None:
    print(f"\nRules with scorer >= {threshold}, what changes:")
    for r in readings:
        if r.rules == "ai_related" and r.scored[threshold]:
            mark = "GAIN" if r.example.label else "FALSE ALARM"
            print(f"- {mark} round {r.example.round} ({r.example.expect}): {r.example.text}")


def fresh() -> None:
    model = load()
    print(f"\n## 2. Fresh rounds 57-60; the shipped scorer at >= {model.threshold}")
    print(f"(enabled in the shipped file: {model.enabled}; rounds 57/58 were a first look for")
    print("the first design, 59/60 for the second: a training verb required)\n")
    print("| round | reading | tp | fp | fn | P | R |\n|---|---|---|---|---|---|---|")
    examples = heldout(FRESH)
    for number in sorted({e.round for e in examples}):
        some = [e for e in examples if e.round == number]
        readings = [read(e, model.bias, model.weights) for e in some]
        for name, threshold in (("rules alone", None), ("rules + scorer", model.threshold)):
            print(line(f"{number} {some[0].lang} | {name}", *counts(readings, threshold)))
        for r in readings:
            if r.rules == "ai_related" and r.scored.get(model.threshold):
                gained = "GAIN" if r.example.label else "FALSE ALARM"
                print(f"  - {gained}: {r.example.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loo", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--show", type=float, default=0.9, help="list gains at this threshold")
    args = parser.parse_args()
    everything = not args.loo and not args.fresh
    if args.loo or everything:
        readings = leave_one_round_out()
        report_loo(readings)
        report_gains(readings, args.show)
    if args.fresh or everything:
        if load().threshold not in THRESHOLDS:
            raise SystemExit(f"the shipped threshold must be one of {THRESHOLDS}")
        fresh()


if __name__ == "__main__":
    main()
