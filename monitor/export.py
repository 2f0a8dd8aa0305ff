"""Changes as CSV for spreadsheets (`changes --format csv`), with the standard library's csv.

One row per change, oldest first, the columns of :data:`COLUMNS` (documented in the
README). Several values in one cell (flagged sentences, passages) are one per line.
Text comes from web pages: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'`` so no spreadsheet runs it as a formula, and escape sequences
and control characters are dropped or named as on the terminal.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from monitor.models import Change, Flag
from monitor.views import change_dict, terminal_safe

COLUMNS = (
    "id", "document", "company", "title", "url", "detected_at", "kind", "from_version",
    "to_version", "ai_training", "ai_direction", "severity", "ai_related", "added_chars",
    "removed_chars", "note", "classifier", "flags", "flagged_sentences", "origin",
    "origin_ref", "archived_at", "origin_source", "origin_path", "origin_url", "origin_commit_url",
)  # fmt: skip
DIFF_COLUMNS = ("diff", "added", "removed")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def changes_csv(changes: Sequence[Change], with_diff: bool = False) -> str:
    """The CSV text (RFC 4180: CRLF line ends, quoted where needed), header row first."""
    columns = COLUMNS + (DIFF_COLUMNS if with_diff else ())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for change in changes:
        record = change_dict(change, with_diff=with_diff)
        record["ai_direction"] = record["ai_direction"] or ""
        record["flags"] = len(change.flags)
        record["flagged_sentences"] = "\n".join(_flag_line(f) for f in change.flags)
        if with_diff:
            record["added"] = "\n".join(change.added)
            record["removed"] = "\n".join(change.removed)
        writer.writerow([_cell(record[column]) for column in columns])
    return out.getvalue()


def _flag_line(flag: Flag) -> str:
    return f"{flag.side}: {flag.sentence} [{flag.category}: {flag.phrase}]"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = terminal_safe(str(value))
    return "'" + text if text.startswith(FORMULA_START) else text
