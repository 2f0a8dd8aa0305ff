"""What the issue-15 benchmarks share: the corpus as pages, timing, a child's CPU and RSS.

The pages are those ../shared/eval/replay.py serves (read in place, never copied): the
raw Open Terms Archive snapshots of ``corpus/html`` (ODC-BY 1.0), and the markdown
versions of ``corpus/versions`` rendered and wrapped in chrome that changes on every
request. Ratios are taken against floors measured in the same run, because the machine
is shared: CPU time (``time.process_time``) is used where the work is single-threaded.
"""

from __future__ import annotations

import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SHARED / "eval"))


def machine() -> str:
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, load {load:.1f} at start"
    )


def histories(kind: str, limit: int = 0) -> Iterator[tuple[str, list[Callable[[], bytes]]]]:
    """(slug, page makers in order) for every history of ``kind`` ("html" or "versions"),
    exactly as replay.py serves them."""
    import json

    import replay  # ../shared/eval/replay.py
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    steps = replay.versions_steps if kind == "versions" else replay.html_steps
    for folder in sorted(p for p in (CORPUS / kind).iterdir() if (p / "manifest.json").exists()):
        man = json.loads((folder / "manifest.json").read_text())
        pairs = itertools.islice(steps(folder, man, md), limit or None)
        yield man["slug"], [serve for serve, _ in pairs]


def cpu_best(runs: int, action: Callable[[], object]) -> float:
    """The least CPU time of ``runs`` calls (the floor: what the work costs undisturbed)."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        action()
        best = min(best, time.process_time() - start)
    return best


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class ChildRun:
    """One child process: wall seconds, CPU seconds (user + system), peak RSS in MB."""

    wall: float
    cpu: float
    rss_mb: float
    returncode: int
    stdout: bytes
    stderr: bytes


def run_child(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 1800) -> ChildRun:
    """Runs ``cmd`` under GNU time: its own CPU time and peak RSS, not the children's max."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        timed = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", report.name, *cmd]
        proc = subprocess.run(timed, capture_output=True, env=env, timeout=timeout)
        wall, user, system, rss_kb = report.read().split()[-4:]
    return ChildRun(float(wall), float(user) + float(system), int(rss_kb) / 1024,
                    proc.returncode, proc.stdout, proc.stderr)  # fmt: skip


def verdict(value: float, target: float) -> str:
    return "holds" if value <= target else "MISSED"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
