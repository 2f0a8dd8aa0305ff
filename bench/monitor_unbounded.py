"""Runs the policy-monitor CLI with a diff budget no load reaches (BUDGET seconds, default
1000), so that what two imports store depends on the code, not on how busy the machine
was (monitor/diff.py's budget is wall-clock). For bench/compare_data.py.

Run (in a worktree): python bench/monitor_unbounded.py import ota ../shared/corpus/versions/*/
    --watchlist W --data D
"""

from __future__ import annotations

import os
import sys

import monitor.diff as diff

BUDGET = float(os.environ.get("BUDGET", "1000"))
diff.BUDGET_SECONDS = BUDGET
for function in (diff.diff_texts, diff.diff_lengths, diff.remember, diff.remembered):
    assert function.__kwdefaults__ is not None
    function.__kwdefaults__["budget_seconds"] = BUDGET

from monitor.cli import main  # noqa: E402  (after the budget: the workers fork from here)

sys.argv[0] = "policy-monitor"
main()
