"""Score monitor.classify against the labelled version histories of the shared corpus.

For every history under ``shared/corpus/versions`` each markdown version is rendered to
HTML (markdown-it-py, commonmark + tables) and flattened to plain text with one line per
block element, roughly what the HTML extractor gives. ``classify(prev, cur)`` runs on every
transition; a transition labelled ``training`` with ``clear`` confidence must be flagged,
one labelled ``ai_other`` / ``none`` (clear) or not listed must not be; ``cosmetic``,
``borderline`` and ``truth: neutral`` transitions are not scored.

It then scores single sentences of other companies' policies that the rules were not tuned
on (``tests/data/classify_heldout.yaml``): precision and recall of the training flag, and
every sentence whose class (training / ai_other / none) is wrong.

Run: ``.venv/bin/python bench/classify_eval.py [--write] [--verbose]``
(needs ``.venv/bin/pip install markdown-it-py``). ``--write`` stores the tables in
bench/CLASSIFY.md, keeping what follows its ``<!-- notes -->`` line (written by hand).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.classify import classify, load_rules  # noqa: E402
from monitor.models import Classification  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "versions"
HELDOUT = ROOT / "tests" / "data" / "classify_heldout.yaml"
REPORT = ROOT / "bench" / "CLASSIFY.md"
NOTES = "<!-- notes -->"
BLOCKS = {
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "table", "thead", "tbody", "tr", "td", "th", "hr", "br", "section", "dd", "dt",
}  # fmt: skip


class _TextParser(HTMLParser):
    """Collects text, breaking the line at every block element (as an extractor would)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


_MD = MarkdownIt("commonmark").enable("table")


def markdown_to_text(markdown: str) -> str:
    parser = _TextParser()
    parser.feed(_MD.render(markdown))
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


@dataclass
class Score:
    tp: list[int] = field(default_factory=list)
    fp: list[int] = field(default_factory=list)
    fn: list[int] = field(default_factory=list)
    missed_added: list[int] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("tp", "fp", "fn", "missed_added"):
            getattr(self, name).extend(getattr(other, name))

    @property
    def precision(self) -> float:
        return len(self.tp) / (len(self.tp) + len(self.fp)) if self.tp or self.fp else 1.0

    @property
    def recall(self) -> float:
        return len(self.tp) / (len(self.tp) + len(self.fn)) if self.tp or self.fn else 1.0


def expectation(label: dict[str, object] | None) -> bool | None:
    """True: must be flagged; False: must not; None: not scored."""
    if label is None:
        return False
    if label.get("truth") == "neutral" or label.get("confidence") != "clear":
        return None
    if label["label"] == "training":
        return True
    return False if label["label"] in ("ai_other", "none") else None


def describe(result: Classification) -> str:
    return "; ".join(f"{f.side} {f.rule} [{f.phrase}] {f.sentence[:110]}" for f in result.flags)


def score_history(folder: Path, verbose: bool, timings: list[float]) -> Score:
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    by_index = {t["index"]: t for t in labels["transitions"]}
    files = sorted(folder.glob("[0-9][0-9][0-9][0-9].md"))
    texts = [markdown_to_text(f.read_text(encoding="utf-8")) for f in files]
    score = Score()
    load_rules()  # parse the rule files before timing
    for k in range(1, len(texts)):
        start = time.perf_counter()
        result = classify(texts[k - 1], texts[k])
        timings.append(time.perf_counter() - start)
        label = by_index.get(k)
        want = expectation(label)
        if want is None:
            continue
        if want and result.ai_training:
            score.tp.append(k)
        elif want:
            score.fn.append(k)
            if label is not None and label.get("direction") == "added":
                score.missed_added.append(k)
            print(f"  MISS  {folder.name} {k}: {label['note'][:100] if label else ''}")
        elif result.ai_training:
            score.fp.append(k)
            print(f"  FALSE {folder.name} {k}: {describe(result)[:400]}")
        if verbose and result.flags and want:
            print(f"  hit   {folder.name} {k}: {describe(result)[:300]}")
    return score


def row(name: str, s: Score) -> str:
    return (
        f"| {name} | {len(s.tp)} | {len(s.fp)} | {len(s.fn)} | {s.precision:.3f} | "
        f"{s.recall:.3f} | {', '.join(map(str, s.fp)) or '-'} | "
        f"{', '.join(map(str, s.fn)) or '-'} |"
    )


def predicted(sentence: str) -> str:
    result = classify("", sentence)
    return "training" if result.flags else "ai_other" if result.ai_related else "none"


def score_heldout() -> tuple[str, list[str]]:
    """The held-out summary line and one line per sentence whose class is wrong."""
    cases = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    score, wrong = Score(), list[str]()
    for n, case in enumerate(cases):
        got, want = predicted(case["text"]), case["expect"]
        if want == "training":
            (score.tp if got == "training" else score.fn).append(n)
        elif got == "training":
            score.fp.append(n)
        if got != want:
            why = f" ({case['xfail']})" if "xfail" in case else ""
            wrong.append(f'- {n:03d} expected {want}, got {got}: "{case["text"]}"{why}')
    classes = {
        kind: sum(c["expect"] == kind for c in cases) for kind in ("training", "ai_other", "none")
    }
    summary = (
        f"held-out sentences: {len(cases)} ({classes}); training flag: tp {len(score.tp)}, "
        f"fp {len(score.fp)}, fn {len(score.fn)}, precision {score.precision:.3f}, "
        f"recall {score.recall:.3f}; wrong class (of 3): {len(wrong)}"
    )
    return summary, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write bench/CLASSIFY.md")
    parser.add_argument("--verbose", action="store_true", help="show the hits too")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found: {CORPUS}")
        return 1
    total, rows, timings = Score(), list[str](), list[float]()
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "labels.json").is_file()):
        score = score_history(folder, args.verbose, timings)
        total.add(score)
        rows.append(row(folder.name, score))
    rows.append(row("**total**", total))
    header = "| history | tp | fp | fn | precision | recall | false steps | missed steps |"
    table = "\n".join([header, "|---|---|---|---|---|---|---|---|", *rows])
    slowest = max(timings) if timings else 0.0
    summary = (
        f"transitions classified: {len(timings)}, slowest classify(): {slowest * 1000:.1f} ms, "
        f"missed 'added' positives: {len(total.missed_added)}"
    )
    heldout, wrong = score_heldout()
    print(table, summary, heldout, "\n".join(wrong), sep="\n\n")
    if args.write:
        write_report(table, summary, heldout, wrong)
    return 0


def write_report(table: str, summary: str, heldout: str, wrong: list[str]) -> None:
    previous = REPORT.read_text(encoding="utf-8") if REPORT.is_file() else ""
    notes = previous[previous.index(NOTES) :] if NOTES in previous else f"{NOTES}\n"
    text = (
        "# AI-training classifier on the labelled corpus\n\n"
        "Produced by `.venv/bin/python bench/classify_eval.py --write` over "
        "`shared/corpus/versions` (Open Terms Archive data, ODC-BY 1.0).\n"
        "Scoring: `training` + `clear` transitions must be flagged; `none` / `ai_other` "
        "(clear) and unlisted transitions must not; cosmetic and borderline ones are free.\n"
        "Steps are transition indexes (version k-1 -> k).\n\n"
        f"{table}\n\n{summary}\n\n"
        "Counted per transition: a flag on any added or removed sentence makes the transition "
        "AI-training. Reverts (a text seen before) are classified and scored like any other "
        "step. The timing excludes parsing the rule files (done once, then cached).\n\n"
        "## Held-out sentences (other companies' wording)\n\n"
        "`tests/data/classify_heldout.yaml`: single sentences worded like other companies' "
        "policies (none from the corpus), each labelled training / ai_other / none as "
        'LABELING.md defines them; `classify("", sentence)` is scored.\n\n'
        f"{heldout}\n\nSentences still wrong:\n\n" + ("\n".join(wrong) or "- none") + "\n\n"
        f"{notes}"
    )
    REPORT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
