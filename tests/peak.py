"""Runs a command in a fresh process and measures that process's own peak memory.

On Linux a child's peak RSS starts at its parent's RSS when it forked (exec keeps the
high-water mark), and a pytest worker may hold hundreds of MB after the tests before it;
so a small wrapper process starts the command, and the wrapper's RUSAGE_CHILDREN is the
command's alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

WRAPPER = (
    "import json, resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "out, err = (s.decode(errors='replace') for s in (done.stdout, done.stderr))\n"
    "print(json.dumps([done.returncode, out, err, peak]))\n"
)


@dataclass(frozen=True)
class Measured:
    code: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float


def run_with_peak(command: list[str], timeout: float, cwd: Path | None = None) -> Measured:
    """``command``'s exit status, output, peak resident memory (MB) and wall time."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *command], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, check=True)  # fmt: skip
    code, out, err, peak = json.loads(done.stdout)
    return Measured(int(code), str(out), str(err), float(peak), time.monotonic() - started)
