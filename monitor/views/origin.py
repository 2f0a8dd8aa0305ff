"""Where an imported change or version came from: its JSON fields and its citation lines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitor import citation
from monitor.models import Origin
from monitor.views.safe import _when


def origin_fields(origin: Origin | None) -> dict[str, Any]:
    """Where an imported change or version came from; all None for a live check's."""
    return {
        "origin": origin.archive if origin else None,  # "ota", "snapshots", "wayback"
        "origin_ref": origin.ref if origin else None,  # the commit, file or capture
        "archived_at": _when(origin.archived_at) if origin else None,
        # journalist8: the repository (or folder, archive) and the file (or capture URL),
        # and permalinks to cite (None when unknown: no GitHub remote, an older import).
        "origin_source": (origin.source or None) if origin else None,
        "origin_path": (origin.path or None) if origin else None,
        "origin_url": citation.file_url(origin) or None,
        "origin_commit_url": citation.commit_url(origin) or None,
    }


# A live check's origin fields, built once: `changes --json` lists 10,000 rows (perf9).
LIVE_ORIGIN = origin_fields(None)


def _row_origin(r: Mapping[str, Any]) -> Origin | None:
    """A listing row's origin (its columns as ``Origin`` has them), None for a live check's."""
    if not r["origin"]:
        return None
    return Origin(r["origin"], r["origin_ref"] or "", datetime.fromisoformat(r["archived_at"]),
                  r["origin_source"] or "", r["origin_path"] or "")  # fmt: skip


def source_lines(origin: Origin) -> list[str]:
    """Where to find an imported version without this tool: the archive, repository and
    file, and the permalinks when there are (the licence too, for Open Terms Archive)."""
    lines = [f"source: {citation.cite(origin)}"]
    for what, url in (("file", citation.file_url(origin)), ("commit", citation.commit_url(origin))):
        if url and not (what == "file" and origin.archive == "wayback"):
            lines.append(f"{what}: {url}")
    if citation.is_ota(origin):
        lines.append(f"licence: {citation.OTA_LICENCE} (cite Open Terms Archive)")
    return lines


def origin_note(origin: Origin | None) -> str:
    """``imported from ota 4025d7400deb`` (a commit cut to 12 characters), or ""."""
    if origin is None:
        return ""
    ref = origin.ref[:12] if len(origin.ref) == 40 else origin.ref
    return f"imported from {origin.archive} {ref}"
