"""What classifying a whole policy costs against extracting it, on real pages.

For each raw HTML history under ``shared/corpus/html`` (Open Terms Archive snapshots,
ODC-BY 1.0) the last snapshot is extracted (``monitor.extract.extract_text``) and its text
classified twice: as a whole new policy (``classify("", text)``: every sentence is new,
the worst case) and as the change from the previous snapshot's text (what a check does).
Each timing is the best of ``--runs`` in CPU time of this process (both stages are
single-threaded CPU work; CPU time keeps the ratio steady on a busy machine); the rule
packs are parsed before timing (once per process, cached). Printed: a markdown table with
the classify / extract ratio; then hostile paragraphs with no full stop.

With ``--patterns``, then: where the whole-policy classify's time goes, pattern by pattern
(each screen, gate, rule pattern and veto: CPU per pass and searches), and the alternatives
of the English ``{training}`` gate, each with how often its needs held (it was searched).

Run: ``.venv/bin/python bench/classify_speed.py [--runs 5] [--patterns]``
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import monitor.classify as classify_module  # noqa: E402
from monitor.classify import (  # noqa: E402
    classifier_version,
    lazy,  # noqa: E402
    load_rules,
)
from monitor.classify.keys import holds_keyed  # noqa: E402
from monitor.extract.html import extract_text  # noqa: E402

HTML = ROOT.parent / "shared" / "corpus" / "html"
RUN_ON = (100_000, 400_000)


def classify(old_text: str, new_text: str) -> object:
    """``monitor.classify.classify`` with nothing remembered: the module keeps each text's
    split and each sentence's match for the life of the process (a history's next step
    reuses them), which would make every run after the first cost nothing."""
    classify_module._sentences_by_key.cache_clear()
    classify_module._matches.clear()
    return classify_module.classify(old_text, new_text)


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return min(times)


def measure(folder: Path, runs: int) -> tuple[str, int, float, float, float]:
    """Name, text size, extract s, whole-policy classify s, change classify s."""
    *_, before, last = sorted(folder.glob("*.html.gz"))
    page, previous = gzip.decompress(last.read_bytes()), gzip.decompress(before.read_bytes())
    text, old = extract_text(page), extract_text(previous)
    extract = best_of(runs, lambda: extract_text(page))
    whole = best_of(runs, lambda: classify("", text))
    change = best_of(runs, lambda: classify(old, text))
    return folder.name, len(text), extract, whole, change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--patterns", action="store_true", help="time each pattern too")
    args = parser.parse_args()
    runs = args.runs
    load_rules()
    print(f"classifier {classifier_version()}, best of {runs}, CPU time\n")
    print("| page | text KB | extract ms | classify whole ms | ratio | classify change ms |")
    print("|---|---|---|---|---|---|")
    totals = [0.0, 0.0]
    for folder in sorted(p for p in HTML.iterdir() if p.is_dir()):
        name, size, extract, whole, change = measure(folder, runs)
        totals[0] += extract
        totals[1] += whole
        print(
            f"| {name} | {size // 1000} | {extract * 1000:.1f} | {whole * 1000:.1f} | "
            f"{whole / extract:.2f} | {change * 1000:.1f} |"
        )
    ratio = totals[1] / totals[0]
    print(f"\nall pages: classify whole / extract = {ratio:.2f}")
    holds = "holds" if ratio < 1 else "MISSED"
    print(f"FIGURE classify: a whole policy {ratio:.2f}x its extraction (target < 1x: {holds})")
    for size in RUN_ON:
        size, extract, whole = run_on(size)
        print(
            f"run-on paragraph (no full stop, training words but no AI word), {size // 1000} KB: "
            f"extract {extract * 1000:.0f} ms, classify whole {whole * 1000:.0f} ms "
            f"({whole / size * 1e6:.1f} µs per character), ratio {whole / extract:.2f}"
        )
    if args.patterns:
        patterns(runs)


def _names() -> dict[int, str]:
    """Each regex of the packs by id: "en gate training", "en en-opt-out 0", ..."""
    names: dict[int, str] = {}
    for rule_set in load_rules():
        names[id(rule_set.screen)] = f"{rule_set.language} screen"
        for gate, regex in rule_set.gates.items():
            names[id(regex)] = f"{rule_set.language} gate {{{gate}}}"
        for rule in rule_set.rules:
            for n, pattern in enumerate(rule.patterns):
                names[id(pattern.regex)] = f"{rule_set.language} {rule.id} {n}"
            for n, veto in enumerate(rule.unless):
                names[id(veto)] = f"{rule_set.language} {rule.id} unless {n}"
    return names


def patterns(runs: int) -> None:
    """CPU of each pattern's searches in the whole-policy classify of every page (``runs``
    passes, with a clock read around each search: the total is inflated), then the
    English {training} gate's alternatives on the sentences it is tried on."""
    texts = [extract_text(gzip.decompress(sorted(f.glob("*.html.gz"))[-1].read_bytes()))
             for f in sorted(p for p in HTML.iterdir() if p.is_dir())]  # fmt: skip
    names = _names()
    spent: dict[str, list[float]] = {}
    tried: list[tuple[str, str]] = []
    gate = next(r for r in load_rules() if r.language == "en").gates["training"]
    find, found = lazy.LazyRegex.find, lazy.LazyRegex.found

    def timed(method: Callable[..., object]) -> Callable[..., object]:
        def run(regex: lazy.LazyRegex, text: str, low: str, *seen: object) -> object:
            start = time.process_time()
            result = method(regex, text, low, *seen)
            cost = spent.setdefault(names.get(id(regex), "other"), [0.0, 0])
            cost[0] += time.process_time() - start
            cost[1] += 1
            if regex is gate and len(tried) < 100_000:
                tried.append((text, low))
            return result

        return run

    lazy.LazyRegex.find, lazy.LazyRegex.found = timed(find), timed(found)  # type: ignore[method-assign,assignment]
    try:
        start = time.process_time()
        for _ in range(runs):
            for text in texts:
                classify("", text)
        total = time.process_time() - start
    finally:
        lazy.LazyRegex.find, lazy.LazyRegex.found = find, found  # type: ignore[method-assign]
    per_pass = total / runs * 1000
    print(f"\nper pattern, whole-policy classify of the pages, CPU per pass ({per_pass:.1f} ms):")
    print("| pattern | ms | searches |\n|---|---|---|")
    for name, (cpu, calls) in sorted(spent.items(), key=lambda item: -item[1][0])[:20]:
        print(f"| {name} | {cpu / runs * 1000:.2f} | {calls // runs} |")
    _alternatives(gate, tried[: len(tried) // runs])


def _alternatives(gate: lazy.LazyRegex, tried: list[tuple[str, str]]) -> None:
    """The gate's alternatives on the sentences it was tried on: how often each was searched
    (its needs held) and the CPU of its needs tests and searches, all sentences, one pass."""
    rows = []
    for index, branch in enumerate(gate.plan()):
        regex, held = branch.pattern(), 0
        start = time.process_time()
        for text, low in tried:
            if holds_keyed(branch.keyed, low):
                held += 1
                lazy._search(regex, branch.keyed_starts, text, low)
        rows.append((time.process_time() - start, index, held, len(branch.starts)))
    every = sum(row[0] for row in rows) * 1000
    print(f"\nen {{training}} alternatives on the {len(tried)} sentences it is tried on "
          f"(every alternative, not stopping at a match: {every:.1f} ms):")  # fmt: skip
    print("| alternative | ms | searched in | starts |\n|---|---|---|---|")
    for cpu, index, held, starts in sorted(rows, reverse=True)[:12]:
        print(f"| #{index} | {cpu * 1000:.2f} | {held / max(1, len(tried)):.0%} | {starts} |")


def run_on(size: int) -> tuple[int, float, float]:
    """A hostile page: one paragraph of ``size`` characters with no full stop, and training
    words but no AI word, so every rule is tried to the end (the worst case found). Sentences
    are cut at MAX_SENTENCE characters, so the cost per character stays the same as the
    size grows (without the cut it grew with the size: 20 s for 154 KB)."""
    words = "we train improve our systems tools the engines data your content to develop with"
    rng = random.Random(0)  # random, so no two cut pieces are the same sentence
    text = " ".join(rng.choice(words.split()) for _ in range(size // 5))[:size]
    page = f"<html><body><main><p>{text}</p></main></body></html>".encode()
    extract = best_of(1, lambda: extract_text(page))
    return len(text), extract, best_of(1, lambda: classify("", text))


if __name__ == "__main__":
    main()
