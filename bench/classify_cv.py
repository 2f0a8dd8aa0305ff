"""Cross-validation by company of the AI-training detector on the shared labelled sentences.

The 405 sentences of ``shared/corpus/sentences/sentences.jsonl`` (Open Terms Archive,
ODC-BY 1.0; read in place, never copied) are split by company into K folds (a stable hash
of the company name), so no company's wording is on both sides. Each sentence is scored
as score_sentences.py scores it: added as a paragraph to a neutral policy, flagged when
``classify`` returns an ``added`` training flag.

The rules are written by hand, so "training" is looking at errors: rule work may look only
at the errors of the DEV folds (``--errors``); the TEST folds are reported, never listed.

Run: ``.venv/bin/python bench/classify_cv.py [--folds 5] [--dev 0,1,2] [--errors]``
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.classify import classify  # noqa: E402

SENTENCES = ROOT.parent / "shared" / "corpus" / "sentences" / "sentences.jsonl"
HEAD = "Privacy Policy\n\nWe collect the information you give us when you create an account."
TAIL = "You can contact our data protection officer at any time."


def flagged(sentence: str) -> bool:
    """Flagged as the feed would show it: an added AI-training flag."""
    old = HEAD + "\n\n" + TAIL
    verdict = classify(old, HEAD + "\n\n" + sentence + "\n\n" + TAIL)
    return any(flag.side == "added" for flag in verdict.flags)


def fold_of(company: str, folds: int) -> int:
    # crc32, not hash(): the same split on every run and every machine
    return zlib.crc32(company.encode("utf-8")) % folds


def prf(rows: list[dict[str, object]]) -> str:
    tp = sum(r["label"] == "positive" and bool(r["flag"]) for r in rows)
    fp = sum(r["label"] == "negative" and bool(r["flag"]) for r in rows)
    fn = sum(r["label"] == "positive" and not r["flag"] for r in rows)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return f"tp {tp:3d} fp {fp:2d} fn {fn:2d}  P {precision:.3f}  R {recall:.3f}"


def report(rows: list[dict[str, object]], folds: int, dev: set[int]) -> None:
    groups = [(f"fold {k}{' (dev)' if k in dev else ''}", {k}) for k in range(folds)]
    groups += [("DEV folds", dev), ("TEST folds", set(range(folds)) - dev)]
    groups.append(("all", set(range(folds))))
    for name, members in groups:
        chosen = [r for r in rows if r["fold"] in members]
        companies = len({r["company"] for r in chosen})
        for lang in ("en", "fr"):
            part = [r for r in chosen if r["language"] == lang]
            print(f"{name:16s} {lang} {prf(part)}   ({companies} companies)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--dev", default="0,1,2", help="folds whose errors may be looked at")
    parser.add_argument("--errors", action="store_true", help="list the DEV folds' errors")
    args = parser.parse_args()
    dev = {int(k) for k in args.dev.split(",")}
    lines = SENTENCES.read_text(encoding="utf-8").splitlines()
    rows: list[dict[str, object]] = []
    for line in lines:
        row = json.loads(line)
        if row["label"] in ("positive", "negative"):
            row["fold"] = fold_of(row["company"], args.folds)
            row["flag"] = flagged(row["sentence"])
            rows.append(row)
    report(rows, args.folds, dev)
    if args.errors:
        for row in rows:
            if row["fold"] in dev and bool(row["flag"]) != (row["label"] == "positive"):
                kind = "FP" if row["flag"] else "FN"
                print(f"{kind} {row['id']} [{row['language']}] {row['sentence']}")


if __name__ == "__main__":
    main()
