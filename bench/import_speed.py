"""Importing a history (issue 14) against replaying the same history through `check`, as a
ratio, measured in the same run.

Every history of ../shared/corpus (Open Terms Archive data, ODC-BY 1.0): `versions/` through
`import ota`, `html/` through `import snapshots`, each one `policy-monitor` process per
document (as an operator runs it). The same histories are replayed through `check` the way
../shared/eval/replay.py does (each state served on 127.0.0.1, one `check` process per
step); `--sample N` replays only the first N steps of each document (0: every step) and the
replay of the whole history is its seconds per step times the steps.

Run: .venv/bin/python bench/import_speed.py [--sample N] [--only SLUG ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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


def monitor(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True,
                          text=True, cwd=ROOT)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"`monitor {' '.join(args[:3])}` exited {done.returncode}: {done.stderr}")
    return time.perf_counter() - start


def import_all(docs: list[tuple[str, Path]], wl: Path, data: Path) -> dict[str, float]:
    seconds = {}
    for kind, folder in docs:
        how = (
            ["ota", str(folder), "--path", "x"]
            if kind == "versions"
            else ["snapshots", str(folder)]
        )
        seconds[folder.name] = monitor("import", *how, "--document", folder.name,
                                       "--watchlist", str(wl), "--data", str(data))  # fmt: skip
    return seconds


def replay_checks(replay: ModuleType, docs: list[tuple[str, Path]], sample: int, wl: Path,
                  data: Path, server: Any) -> dict[str, list[float]]:  # fmt: skip
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    times: dict[str, list[float]] = {}
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
    parser.add_argument("--only", nargs="*", default=[], metavar="SLUG")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    docs = histories(args.only)
    if not docs:
        raise SystemExit(f"no histories under {CORPUS}")
    replay = replay_module()
    server = replay.Server()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="import-speed-") as tmp:
            wl = Path(tmp) / "watchlist.yaml"
            watchlist(wl, docs, f"http://127.0.0.1:{server.port}")
            imported = import_all(docs, wl, Path(tmp) / "imported")
            checks = replay_checks(replay, docs, args.sample, wl, Path(tmp) / "checked", server)
    finally:
        server.close()
    for kind, folder in docs:
        man = json.loads((folder / "manifest.json").read_text())
        steps = len(man["versions"] if kind == "versions" else man["snapshots"])
        per_check = sum(checks[folder.name]) / len(checks[folder.name])
        rows.append({"document": folder.name, "steps": steps, "import_s": imported[folder.name],
                     "check_s_per_step": per_check, "replay_s": per_check * steps})  # fmt: skip
    report(rows, args.json)


def report(rows: list[dict[str, Any]], path: str | None) -> None:
    print(
        "| document | steps | import s | import s/step | check s/step | replay s (est.) | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['document']} | {r['steps']} | {r['import_s']:.1f} | "
              f"{r['import_s'] / r['steps']:.3f} | {r['check_s_per_step']:.3f} | "
              f"{r['replay_s']:.0f} | {r['replay_s'] / r['import_s']:.1f}x |")  # fmt: skip
    steps = sum(r["steps"] for r in rows)
    imp, rep = sum(r["import_s"] for r in rows), sum(r["replay_s"] for r in rows)
    print(f"| **all** | {steps} | {imp:.1f} | {imp / steps:.3f} | {rep / steps:.3f} | {rep:.0f} "
          f"| **{rep / imp:.1f}x** |")  # fmt: skip
    if path:
        Path(path).write_text(json.dumps({"documents": rows, "import_s": imp, "replay_s": rep,
                                          "ratio": rep / imp}, indent=1) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
