"""A worker process that ends when the process that started it is gone.

An import's worker processes (monitor/importer/ahead.py) wait on a pipe their parent
shares with them, so a parent killed by SIGKILL (the OOM killer, `kill -9`, a service
manager's last resort) never closes it: the workers would wait there for ever, orphans
holding their memory. Each worker watches its parent instead and exits once it changed.
"""

from __future__ import annotations

import os
import threading
import time

# Seconds between two looks at the parent (an orphan lingers at most this long).
INTERVAL = 0.5


def end_with_parent(interval: float = INTERVAL) -> None:
    """In a child process: exits it (at once, no clean-up to wait on) once its parent,
    the process that runs now, is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
