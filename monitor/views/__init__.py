"""What the read-only commands print: tables, JSON records and diff reports.

Split by what each part shows: ``safe`` (terminal safety, times, JSON), ``origin`` (where
an imported row came from), ``changes`` (a change's record, table, `explain`),
``documents`` (`history`, `diff`, `status`) and ``checks`` (alerts, logfmt). Callers
import every name from here (``from monitor import views``), as before the split.
"""

from __future__ import annotations

from monitor.views.changes import (
    change_dict,
    change_records,
    changes_table,
    explain_report,
    require_change,
    severity_reason,
)
from monitor.views.checks import alert, log_fields, pointed_to_held
from monitor.views.documents import (
    DIFF_CONTEXT,
    PLAIN,
    DiffStyle,
    diff_report,
    history_report,
    require_document,
    status_dict,
    status_table,
)
from monitor.views.origin import origin_fields, origin_note, source_lines
from monitor.views.safe import json_text, terminal_safe, when

__all__ = [
    "DIFF_CONTEXT", "PLAIN", "DiffStyle", "alert", "change_dict", "change_records",
    "changes_table", "diff_report", "explain_report", "history_report", "json_text",
    "log_fields", "origin_fields", "origin_note", "pointed_to_held", "require_change",
    "require_document", "severity_reason", "source_lines", "status_dict", "status_table",
    "terminal_safe", "when",
]  # fmt: skip
