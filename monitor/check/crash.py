"""A bug met while checking one document: one line, the traceback kept in a file.

A cron ``check`` and the daemon both turn an unexpected exception in one document's
check (not a fetch, extraction or database error, which have their own lines) into a
failed outcome whose message names the cause in one line and the file under
``DATA/crashes/`` that keeps its traceback (the newest ``KEEP`` are kept), for whoever
reports the bug; the other documents are checked as usual.
"""

from __future__ import annotations

import sqlite3
import traceback
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import MonitorError
from monitor.models import CheckOutcome

FOLDER = "crashes"
KEEP = 50  # traceback files kept; older ones are removed as new ones come


def unexpected(exc: BaseException) -> bool:
    """Whether ``exc`` is a bug's: not a stop asked for (KeyboardInterrupt, SystemExit), nor
    one of ours, the disk's or the database's, which say what to do in their own line."""
    return isinstance(exc, Exception) and not isinstance(exc, (MonitorError, OSError,
                                                                   sqlite3.Error))  # fmt: skip


def crashed(document: str, exc: BaseException, data_dir: str | Path, then: str) -> CheckOutcome:
    """The failed outcome of a check that met ``exc``; ``then`` says what follows."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    cause = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    kept = keep_traceback(document, exc, Path(data_dir))
    message = f"crashed: {cause} (a bug in policy-monitor: traceback in {kept}; report it); {then}"
    return CheckOutcome(document, "failed", message)


def keep_traceback(document: str, exc: BaseException, data_dir: Path) -> str:
    """Writes the traceback to a new file in ``data_dir/crashes``; where it is (or why not)."""
    folder = data_dir / FOLDER
    now = datetime.now(UTC)
    path = folder / f"{now:%Y%m%dT%H%M%S.%f}Z-{document}.txt"
    text = "".join(traceback.format_exception(exc))
    try:
        folder.mkdir(exist_ok=True)
        path.write_text(f"{now.isoformat()} document={document}\n{text}", errors="replace")
        for old in sorted(folder.glob("*.txt"))[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError as exc_file:
        return f"no file ({exc_file.strerror or exc_file}: it could not be written)"
    return str(path)


__all__ = ["crashed", "keep_traceback", "unexpected"]
