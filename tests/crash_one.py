"""Runs the CLI in a process where checking one document meets a bug.

``python -m tests.crash_one DOC ARGS...``: the check's decision (monitor/check/decide.py,
as the sweep and the daemon call it) raises ``RuntimeError`` for the document DOC, as a
bug in the monitor would (nothing else changes: the other documents are checked as
usual). How a cron ``check`` and the daemon report it is what the tests look at.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    from monitor.check import pipeline

    crashing, real = sys.argv[1], pipeline.decide

    def decide(state: Any, obs: Any, watch: Any, policy: Any) -> Any:
        if watch.id == crashing:
            raise RuntimeError(f"a bug met while deciding on {watch.id}\nsecond line")
        return real(state, obs, watch, policy)

    pipeline.decide = decide  # type: ignore[assignment]
    from monitor.cli import main as cli_main

    cli_main(sys.argv[2:])


if __name__ == "__main__":
    main()
