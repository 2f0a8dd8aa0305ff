"""`make bench`: every benchmark in bench/, one after another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = (
    "speed.py",
    "classify_eval.py",
    "extract_compare.py",
    "hostile.py",
    "feed_counts.py",
    "first_seen.py",
    "site.py",
)


def main() -> int:
    failed = 0
    for name in BENCHES:
        print(f"\n## {name}\n", flush=True)
        failed |= subprocess.run([sys.executable, str(HERE / name)]).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
