"""Importing a history (issue 14) against replaying the same history through `check`, as a
ratio, measured in the same run, in wall time and in CPU time (the machine is shared: CPU
seconds, `resource.getrusage` of the child processes, worker processes included, move far
less with the load than wall seconds).

Every history of ../shared/corpus (Open Terms Archive data, ODC-BY 1.0): `versions/` through
one `import ota` command and `html/` through one `import snapshots` command (every folder of
a kind in one process, `--jobs` worker processes; `--separate`: one process per document, as
before). The same histories are replayed through `check` the way ../shared/eval/replay.py
does (each state served on 127.0.0.1, one `check` process per step); `--sample N` replays
only the first N steps of each document (0: every step) and the replay of the whole history
is its seconds per step times the steps.

Run: .venv/bin/python bench/import_speed.py [--sample N] [--jobs N] [--separate]
     [--only SLUG ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


def replay_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay", SHARED / "eval" / "replay.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def histories(only: list[str]) -> list[tuple[str, Path]]:
    found = [(kind, p.parent) for kind in ("versions", "html")
             for p in sorted((CORPUS / kind).glob("*/manifest.json"))]  # fmt: skip
    return [(k, f) for k, f in found if not only or f.name in only]


def watchlist(path: Path, docs: list[tuple[str, Path]], url: str) -> None:
    lines = ["documents:"]
    for _kind, folder in docs:
        man = json.loads((folder / "manifest.json").read_text())
        company = json.dumps(man.get("company", man.get("service", "unknown")))
        title = json.dumps(man.get("title", folder.name))
        lines += [f"  - id: {folder.name}", f"    company: {company}", f"    title: {title}",
                  f"    url: {url}/{folder.name}", "    fetcher: http"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


Cost = tuple[float, float]  # wall seconds, CPU seconds (the processes and their workers)


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def monitor(*args: str) -> Cost:
    start, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True,
                          text=True, cwd=ROOT)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"`monitor {' '.join(args[:3])}` exited {done.returncode}: {done.stderr}")
    return time.perf_counter() - start, children_cpu() - cpu


def import_all(
    docs: list[tuple[str, Path]], wl: Path, data: Path, jobs: int | None, separate: bool
) -> dict[str, Cost]:
    """Each kind's folders in one command (or one command per folder): wall and CPU."""
    costs: dict[str, Cost] = {}
    options = ["--watchlist", str(wl), "--data", str(data)]
    options += [] if jobs is None else ["--jobs", str(jobs)]
    for kind, command in (("versions", "ota"), ("html", "snapshots")):
        folders = [str(f) for k, f in docs if k == kind]
        groups = (
            [[f, "--document", Path(f).name] for f in folders]
            if separate
            else ([folders] if folders else [])
        )
        runs = [monitor("import", command, *group, *options) for group in groups]
        costs[kind] = (sum(w for w, _ in runs), sum(c for _, c in runs))
    return costs


def replay_checks(replay: ModuleType, docs: list[tuple[str, Path]], sample: int, wl: Path,
                  data: Path, server: Any) -> dict[str, list[Cost]]:  # fmt: skip
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    times: dict[str, list[Cost]] = {}
    for kind, folder in docs:
        man = json.loads((folder / "manifest.json").read_text())
        make = replay.versions_steps if kind == "versions" else replay.html_steps
        steps = list(make(folder, man, md))
        times[folder.name] = []
        for serve, _truth in steps[: sample or len(steps)]:
            server.body = serve
            check = ["check", "--only", folder.name, "--watchlist", str(wl), "--data", str(data)]
            times[folder.name].append(monitor(*check))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=8, help="checks per document (0: all)")
    parser.add_argument("--jobs", type=int, default=None, help="import --jobs (default: its own)")
    parser.add_argument("--separate", action="store_true", help="one import per document")
    parser.add_argument("--only", nargs="*", default=[], metavar="SLUG")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    docs = histories(args.only)
    if not docs:
        raise SystemExit(f"no histories under {CORPUS}")
    replay = replay_module()
    server = replay.Server()
    load = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="import-speed-") as tmp:
            wl = Path(tmp) / "watchlist.yaml"
            watchlist(wl, docs, f"http://127.0.0.1:{server.port}")
            imported = import_all(docs, wl, Path(tmp) / "imported", args.jobs, args.separate)
            checks = replay_checks(replay, docs, args.sample, wl, Path(tmp) / "checked", server)
    finally:
        server.close()
    rows = []
    for kind in ("versions", "html"):
        steps, replay_wall, replay_cpu = 0, 0.0, 0.0
        for k, folder in docs:
            if k != kind:
                continue
            man = json.loads((folder / "manifest.json").read_text())
            count = len(man["versions"] if kind == "versions" else man["snapshots"])
            costs = checks[folder.name]
            steps += count
            replay_wall += count * sum(w for w, _ in costs) / len(costs)
            replay_cpu += count * sum(c for _, c in costs) / len(costs)
        if steps:
            wall, cpu = imported[kind]
            rows.append({"kind": kind, "steps": steps, "import_wall_s": wall, "import_cpu_s": cpu,
                         "replay_wall_s": replay_wall, "replay_cpu_s": replay_cpu})  # fmt: skip
    report(rows, args.json, (load, os.getloadavg()[0]))


def report(rows: list[dict[str, Any]], path: str | None, load: tuple[float, float]) -> None:
    print(f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end")
    print("| histories | steps | import wall s | import CPU s | replay wall s (est.) "
          "| replay CPU s (est.) | ratio wall | ratio CPU |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    total = {k: sum(r[k] for r in rows) for k in rows[0] if k != "kind"} if rows else {}
    for r in [*rows, {"kind": "**all**", **total}] if rows else []:
        print(f"| {r['kind']} | {r['steps']} | {r['import_wall_s']:.1f} | {r['import_cpu_s']:.1f} "
              f"| {r['replay_wall_s']:.0f} | {r['replay_cpu_s']:.0f} "
              f"| {r['replay_wall_s'] / r['import_wall_s']:.1f}x "
              f"| {r['replay_cpu_s'] / r['import_cpu_s']:.1f}x |")  # fmt: skip
    if path and rows:
        ratios = {"ratio_wall": total["replay_wall_s"] / total["import_wall_s"],
                  "ratio_cpu": total["replay_cpu_s"] / total["import_cpu_s"]}  # fmt: skip
        result = {"rows": rows, "total": total, "load": load, **ratios}
        Path(path).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
