"""Where the monitor keeps its caches between processes: one folder per cache.

``regex`` (compiled rule patterns, monitor/classify/regex_cache.py) and ``templates``
(compiled page templates, monitor/publish/site/templates.py) live in
``$XDG_CACHE_HOME/policy-monitor`` (default ``~/.cache/policy-monitor``).
``$POLICY_MONITOR_CACHE``, when set, is the ``regex`` folder itself and holds the others
(``templates/`` inside it), as README.md says. Imports nothing of ours.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "POLICY_MONITOR_CACHE"
MAIN = "regex"  # the cache that $POLICY_MONITOR_CACHE names (it came first)


def cache_folder(name: str) -> Path:
    """The folder of the cache ``name`` (not created; ``Path.home`` may raise
    RuntimeError when there is no home folder)."""
    chosen = os.environ.get(ENV)
    if chosen:
        return Path(chosen) if name == MAIN else Path(chosen) / name
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policy-monitor" / name
