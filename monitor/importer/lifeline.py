"""A worker process that ends when the process that started it is gone.

An import's worker processes (monitor/importer/ahead.py) wait on a pipe their parent
shares with them, so a parent killed by SIGKILL (the OOM killer, `kill -9`, a service
manager's last resort) never closes it: the workers would wait there for ever, orphans
holding their memory. Each worker watches its parent instead and exits once it changed.
The parent is the one that forked it, passed down (the pool's initializer): a parent
that died before the worker's watcher started is not mistaken for the one adopting it.
"""

from __future__ import annotations

import os
import threading
import time

# Seconds between two looks at the parent (an orphan lingers at most this long).
INTERVAL = 0.5


def end_with_parent(parent: int, interval: float = INTERVAL) -> None:
    """In a child process: exits it (at once, no clean-up to wait on) once its parent is
    no longer ``parent``, the pid of the process that forked it (dead already: at once)."""
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
