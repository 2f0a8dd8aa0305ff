"""Worst-case pages and diffs: time and peak RSS, each in its own subprocess, as ratios
against floors measured in the same run.

Extraction cases are tests/data/hostile_pages.yaml plus pages just under the limits; the
floor is a normal large page (the 1 MB dense policy of bench/speed.py) extracted in the
same kind of subprocess. Diff cases are tests/data/diff_budget_cases.yaml at the default
3 s budget; the floor is the diff of the same-size texts with one paragraph edited.
CPU time is reported besides wall time because other work on the machine inflates the
latter (the diff budget is wall time by design). Peak RSS is the child's own maximum
resident set, the interpreter and libraries included (the floor row shows that base).
Run: .venv/bin/python bench/hostile.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
POLICY = (
    "We collect the information you give us when you create an account, and we use it "
    "only to provide the service you asked for."
)
PARA = "We collect the information you provide and use it to run our services. " * 8
NEAR_LIMITS: list[dict[str, Any]] = [
    {"id": "floor: normal 1 MB policy page", "count": 700,
     "head": "<html><body><main>",
     "open": f"<section><h2>Part</h2><p>{PARA}</p><ul><li>{PARA}</li></ul></section>"},
    {"id": "49,000 table cells (just under 50,000 elements)", "count": 49000,
     "head": "<html><body><main><p>{P}</p><table><tr>", "open": "<td>cell</td>"},
    {"id": "divs nested 4,990 deep (just under 5,000)", "count": 4990,
     "head": "<html><body><main><p>{P}</p>", "open": "<div>", "middle": "x", "close": "</div>"},
    {"id": "4.9 MB of text in one line", "count": 980000,
     "head": "<html><body><main><p>{P}</p><p>", "open": "word "},
]  # fmt: skip
EXTRACT_CHILD = """
import json, resource, sys, time
from monitor.errors import ExtractError
from monitor.extract.html import extract_text
case, policy = json.loads(sys.argv[1]), sys.argv[2]
head, op, mid, close, tail = (
    case.get(k, "").replace("{P}", policy) for k in ("head", "open", "middle", "close", "tail")
)
page = (head + op * case["count"] + mid + close * case["count"] + tail).encode()
start, cpu = time.perf_counter(), time.process_time()
try:
    out = {"result": f"{len(extract_text(page, **case.get('kwargs', {})).split())} words"}
except ExtractError as exc:
    out = {"result": "ExtractError: " + str(exc)[:60] + "..."}
out.update(seconds=time.perf_counter() - start, cpu=time.process_time() - cpu, mb=len(page) / 1e6,
           rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""
DIFF_CHILD = """
import json, resource, sys, time
sys.path.insert(0, "tests")
from test_diff import generated
from monitor.diff import diff_texts
case = json.loads(sys.argv[1])
old_paras, new_paras = generated(case)
if case.get("floor"):
    new_paras = old_paras[:1] + [old_paras[1] + " We may update this."] + old_paras[2:]
old, new = "\\n".join(old_paras), "\\n".join(new_paras)
start, cpu = time.perf_counter(), time.process_time()
diff = diff_texts(old, new)
ok = "".join(t for o, t in diff.ops if o <= 0) == old and "".join(
    t for o, t in diff.ops if o >= 0) == new
print(json.dumps({"result": f"{len(diff.ops)} ops, rebuilds both: {ok}",
                  "seconds": time.perf_counter() - start, "mb": len(old) / 1e6,
                  "cpu": time.process_time() - cpu,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(child: str, case: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, "-c", child, json.dumps(case), POLICY]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    floor = rows[0][1]
    print(f"\n| {title} | MB | result | wall s | CPU s | CPU ratio to floor | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        ratio = r["cpu"] / floor["cpu"]
        print(f"| {name} | {r['mb']:.1f} | {r['result']} | {r['seconds']:.2f} | "
              f"{r['cpu']:.2f} | {ratio:.1f} | {r['rss']:.0f} |")  # fmt: skip


def main() -> None:
    pages = yaml.safe_load((DATA / "hostile_pages.yaml").read_text(encoding="utf-8"))
    rows = [(c["id"], run(EXTRACT_CHILD, c)) for c in NEAR_LIMITS + pages]
    table("extraction case", rows)
    diffs = yaml.safe_load((DATA / "diff_budget_cases.yaml").read_text(encoding="utf-8"))
    floor = {"id": "floor", "paragraphs": 2000, "change": "edit", "floor": True}
    drows = [("floor: 2,000 paragraphs, one edited", run(DIFF_CHILD, floor))]
    for case in diffs:
        if case["budget_seconds"] > 0:
            drows.append((case["id"], run(DIFF_CHILD, case)))
    table("diff case (3 s budget)", drows)


if __name__ == "__main__":
    main()
