"""Start-up: `policy-monitor --help` and a one-document `check`, against the interpreter.

Floors measured in the same run: `python -c pass` (the interpreter), and the interpreter
plus one bare httpx GET of the same page (what a one-document check must at least do).
Each command runs RUNS times in a fresh process; medians of wall and CPU time.
The page is a real policy (bench/hosts.py, 1 host, 50 ms latency).
Targets (issue 15, read as numbers here): --help within the interpreter + 0.15 s;
a one-document check (first and unchanged) within 2x the interpreter + the fetch.

The package's bytecode is compiled first, as ``pip install`` does: with
PYTHONDONTWRITEBYTECODE set (as in these sessions) an editable checkout has none and
every run compiled each imported module of ours from source (0.1-0.15 s of a check)
while httpx, in site-packages, had its bytecode (to measure that way again: delete
monitor's ``__pycache__`` folders and run with PYTHONDONTWRITEBYTECODE=1 and ``--source``).

Run: .venv/bin/python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import compileall
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, machine, median, run_child, table, verdict

HELP_SLACK, CHECK_TARGET = 0.15, 2.0
BARE = "import sys, httpx; httpx.get(sys.argv[1])"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--source", action="store_true", help="compile no bytecode first")
    args = parser.parse_args()
    runs = args.runs
    if not args.source:
        compileall.compile_dir(str(ROOT / "monitor"), quiet=1)
    py = sys.executable
    script = str(Path(py).parent / "policy-monitor")
    server = subprocess.Popen([py, str(ROOT / "bench" / "hosts.py"), "1"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    url = f"http://127.0.0.2:{server.stdout.readline().split()[1]}/doc/0"
    results: dict[str, list[tuple[float, float]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            watchlist = Path(tmp) / "w.yaml"
            watchlist.write_text(f"documents:\n  - {{id: p, company: C, title: T, url: '{url}'}}\n")
            check = [script, "check", "--watchlist", str(watchlist), "--data"]
            commands = {
                "python -c pass": [py, "-c", "pass"],
                "python + bare httpx GET": [py, "-c", BARE, url],
                "policy-monitor --help": [script, "--help"],
                "check, first version": None,
                "check, unchanged (304)": [*check, f"{tmp}/data"],
            }
            for i in range(runs):
                for name, cmd in commands.items():
                    cmd = cmd or [*check, f"{tmp}/first{i}"]
                    run = run_child(cmd)
                    assert run.returncode == 0, run.stderr.decode()[-500:]
                    results.setdefault(name, []).append((run.wall, run.cpu))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    med = {
        name: (median([w for w, _ in v]), median([c for _, c in v])) for name, v in results.items()
    }
    rows = [[name, f"{w:.3f}", f"{c:.3f}", f"{c / med['python -c pass'][1]:.1f}",
             f"{c / med['python + bare httpx GET'][1]:.2f}"]
            for name, (w, c) in med.items()]  # fmt: skip
    how = "bytecode not compiled first" if args.source else "bytecode compiled"
    print(f"machine: {machine()}; median of {runs} runs; monitor {how}\n")
    print(table(["command", "wall s", "CPU s", "CPU x python", "CPU x python + fetch"], rows))
    # CPU time decides (the machine is shared: wall time waits for other work)
    python_cpu, fetch_cpu = med["python -c pass"][1], med["python + bare httpx GET"][1]
    helps = med["policy-monitor --help"][1]
    first = med["check, first version"][1] / fetch_cpu
    again = med["check, unchanged (304)"][1] / fetch_cpu
    print(f"\nFIGURE start-up (CPU): --help {helps:.2f} s vs python {python_cpu:.2f} s (target <= "
          f"python + {HELP_SLACK:g} s: {verdict(helps, python_cpu + HELP_SLACK)}); one-document "
          f"check {first:.1f}x python + fetch, unchanged {again:.1f}x (target <= "
          f"{CHECK_TARGET:g}x: {verdict(max(first, again), CHECK_TARGET)})")  # fmt: skip


if __name__ == "__main__":
    main()
