"""`make bench`: every benchmark in bench/, one after another.

The first six and classify_speed.py print one `FIGURE` line each (issue 15's targets and
issue 12's ratio, as ratios to floors measured in the same run; bench/README.md has the
table); the others are the extraction and classification evaluations.
`make bench BENCH=sweep.py` runs one of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = (
    "snapshot.py",
    "diff_budget.py",
    "sweep.py",
    "storage.py",
    "startup.py",
    "queries.py",
    "speed.py",
    "classify_eval.py",
    "classify_speed.py",
    "extract_compare.py",
    "hostile.py",
    "feed_counts.py",
    "first_seen.py",
    "site.py",
)


def main() -> int:
    failed = 0
    for name in sys.argv[1:] or BENCHES:
        print(f"\n## {name}\n", flush=True)
        failed |= subprocess.run([sys.executable, str(HERE / name)]).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
