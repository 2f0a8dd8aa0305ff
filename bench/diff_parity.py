"""The diff against an older one of this repository, pair by pair: every difference in
the ops, the rendering or the unified diff of a pair of texts, and each side's CPU time.

Pairs: every two consecutive distinct texts of each corpus history, both ways (a history
that flips back is diffed the other way round too): the raw snapshots of
../shared/corpus/html and the versions of ../shared/corpus/versions as
../shared/eval/replay.py serves them (extracted from the page), the same versions as
markdown (``import ota``); the last version of each versions history against the next
history's (a rewrite: lopsided blocks); and the golden cases of tests/data/diff_cases.yaml
and linediff_cases.yaml. A pair already listed is not diffed again (the markdown versions
extract to the same texts as their pages, so their pairs are the versions' pairs).
Texts are extracted once, here; each side diffs them in its own process (the old one:
the ``monitor`` package of a git revision, ``git archive``).
The budget defaults to one no run reaches, so that both sides make the diff an idle
machine makes (a diff cut short by its deadline depends on the load, not the code).

Run: .venv/bin/python bench/diff_parity.py [--old main] [--budget 1e9] [--show 3]
Prints one line per differing pair and a summary (FIGURE line).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from common import CORPUS, ROOT, histories
from extract_parity import old_tree

# Runs in the child (old or new monitor on sys.path): diffs every pair, prints JSON.
CHILD = """
import hashlib, json, pickle, sys, time
from monitor import diff, linediff
pairs, budget = pickle.load(open(sys.argv[1], "rb"))
out, start = [], time.process_time()
for old, new in pairs:
    diff._MEMO.clear()
    made = diff.diff_texts(old, new, budget_seconds=budget)
    lengths = [(op, len(text)) for op, text in made.ops]
    unified = linediff.unified(made.ops, "old", "new")
    out.append([lengths, made.rendered, unified, list(made.added), list(made.removed)])
cpu = time.process_time() - start
print(json.dumps({"cpu": cpu, "results": out}))
"""
Pair = tuple[str, str, str]  # name, old text, new text


def corpus_texts() -> dict[str, list[str]]:
    """Each history's texts in order (pages whose extraction fails are left out)."""
    from monitor.errors import MonitorError
    from monitor.extract.html import extract_text

    def texts(bodies: list[tuple[bytes, str]]) -> list[str]:
        found = []
        for body, ctype in bodies:
            try:
                found.append(extract_text(body, ctype))
            except MonitorError:
                continue
        return found

    out: dict[str, list[str]] = {}
    for kind in ("html", "versions"):
        for slug, makers in histories(kind):
            out[f"{kind}/{slug}"] = texts([(m(), "text/html") for m in makers])
    markdown = "text/markdown; charset=utf-8"
    for folder in sorted((CORPUS / "versions").iterdir()):
        if paths := sorted(folder.glob("*.md")):
            out[f"markdown/{folder.name}"] = texts([(p.read_bytes(), markdown) for p in paths])
    return out


def corpus_pairs(histories_texts: dict[str, list[str]]) -> list[Pair]:
    pairs: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    for name, texts in histories_texts.items():
        for i, (a, b) in enumerate(zip(texts, texts[1:], strict=False)):
            for label, old, new in ((f"{name}/{i}", a, b), (f"{name}/{i}/back", b, a)):
                if old != new and (old, new) not in seen:
                    seen.add((old, new))
                    pairs.append((label, old, new))
    versions = [(n, t[-1]) for n, t in histories_texts.items() if n.startswith("versions/")]
    for (name, old), (other, new) in zip(versions, versions[1:] + versions[:1], strict=True):
        pairs.append((f"rewrite/{name}->{other}", old, new))
    return pairs


def golden_pairs() -> list[Pair]:
    pairs: list[Pair] = []
    for file in ("diff_cases.yaml", "linediff_cases.yaml"):
        cases = yaml.safe_load((ROOT / "tests" / "data" / file).read_text(encoding="utf-8"))
        pairs += [(f"golden/{file}/{c['name']}", c["old"], c["new"]) for c in cases]
    return pairs


def diff_with(package_root: Path, pickled: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(pickled)], capture_output=True,
                          text=True, check=True, cwd=package_root)  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def digest(results: list[object]) -> str:
    return hashlib.sha256(json.dumps(results).encode()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="main", help="git revision of the old diff")
    parser.add_argument("--budget", type=float, default=1e9, help="diff_texts budget_seconds")
    parser.add_argument("--show", type=int, default=3, help="differing pairs to print whole")
    args = parser.parse_args()
    pairs = corpus_pairs(corpus_texts()) + golden_pairs()
    with tempfile.TemporaryDirectory() as tmp:
        pickled = Path(tmp) / "pairs.pickle"
        pickled.write_bytes(pickle.dumps(([(a, b) for _, a, b in pairs], args.budget)))
        old = diff_with(old_tree(args.old, Path(tmp) / "old"), pickled)
        new = diff_with(ROOT, pickled)
    old_results, new_results = old["results"], new["results"]
    assert isinstance(old_results, list) and isinstance(new_results, list)
    differ = [i for i in range(len(pairs)) if old_results[i] != new_results[i]]
    for i in differ[: args.show]:
        old_text, new_text = old_results[i][1][:2000], new_results[i][1][:2000]
        print(f"--- {pairs[i][0]}\nold: {old_text}\nnew: {new_text}")
    for i in differ:
        print(f"DIFFERS {pairs[i][0]}")
    kinds: dict[str, list[int]] = {}
    for i, (name, _, _) in enumerate(pairs):
        kinds.setdefault(name.split("/", 1)[0], [0, 0])[0] += 1
        kinds[name.split("/", 1)[0]][1] += i in differ
    summary = ", ".join(f"{k} {n - d}/{n} identical" for k, (n, d) in kinds.items())
    print(f"old {args.old}: {old['cpu']:.2f} s CPU, results {digest(old_results)}; "
          f"new: {new['cpu']:.2f} s CPU, results {digest(new_results)}")  # fmt: skip
    print(f"FIGURE diff parity (budget {args.budget:g} s) against {args.old}: {summary}; "
          f"{len(differ)} of {len(pairs)} pairs differ")  # fmt: skip


if __name__ == "__main__":
    main()
