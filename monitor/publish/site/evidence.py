"""What a journalist attaches to a story: the raw snapshots as files named by their sha256,
a change as JSON, and a plain unified diff of two versions' texts."""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict
from typing import Any

from monitor.models import Change, Version
from monitor.publish.feed import as_utc, change_title, rss_guid
from monitor.store.site_queries import SnapshotEvidence

SNAPSHOTS_DIR = "snapshots"
# A snapshot is saved under a name that never runs: an HTML page from a policy site opened
# from this folder would run its scripts on the site's origin. PDFs and plain text are
# inert and keep their extension; anything else is ``.raw`` (served as a download).
_INERT = {"application/pdf": "pdf", "text/plain": "txt", "text/markdown": "md"}
_SUGGESTED = {"text/html": "html", "application/xhtml+xml": "xhtml", **_INERT}


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def snapshot_href(digest: str, content_type: str) -> str:
    """The snapshot's file, relative to the site's folder."""
    return f"{SNAPSHOTS_DIR}/{digest}.{_INERT.get(_media_type(content_type), 'raw')}"


def download_name(document: str, number: int, digest: str, content_type: str) -> str:
    """The name a browser saves the snapshot under (with the extension its type has)."""
    ext = _SUGGESTED.get(_media_type(content_type), "bin")
    return f"{document}-v{number}-{digest[:12]}.{ext}"


def change_json(
    change: Change, versions: dict[str, tuple[Version, SnapshotEvidence | None]]
) -> bytes:
    """The change as one JSON object, with both versions' hashes and fetch evidence."""
    flags = [asdict(f) for f in change.flags]
    record: dict[str, Any] = {
        "id": change.id, "guid": rss_guid(change), "title": change_title(change),
        "document": change.document, "company": change.company, "document_title": change.title,
        "url": change.url, "detected_at": as_utc(change.detected_at).isoformat(),
        "kind": change.kind, "from_version": change.from_version,
        "to_version": change.to_version, "ai_training": change.ai_training,
        "ai_direction": change.direction, "severity": change.severity, "flags": flags,
        "ai_related": [asdict(f) for f in change.ai_related],
        "added_chars": change.added_chars, "removed_chars": change.removed_chars,
        "added": list(change.added), "removed": list(change.removed), "note": change.note,
        "classifier": change.classifier, "diff": change.diff_text,
        # journalist9: when it happened, as far as is known (as in `changes --json`)
        "window_start": as_utc(change.opened_at).isoformat() if change.opened_at else None,
        "window_start_by": _by(change.opened_by_archive) if change.opened_at else None,
        "window_end": as_utc(change.detected_at).isoformat(),
        "window_end_by": _by(change.origin is not None),
        "versions": {side: _version_json(v, e) for side, (v, e) in versions.items()},
    }  # fmt: skip
    return json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def _by(archive: bool) -> str:
    return "archive" if archive else "check"


def _version_json(version: Version, evidence: SnapshotEvidence | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "number": version.number, "first_seen": as_utc(version.first_seen).isoformat(),
        "text_sha256": version.text_sha256, "snapshot_sha256": version.snapshot_sha256,
    }  # fmt: skip
    if evidence is not None:
        record |= {
            "snapshot_file": snapshot_href(evidence.sha256, evidence.content_type),
            "snapshot_size": evidence.size, "content_type": evidence.content_type,
            "fetched_at": as_utc(evidence.fetched_at).isoformat() if evidence.fetched_at else None,
            "http_status": evidence.http_status, "fetched_url": evidence.final_url or evidence.url,
            "headers": [list(pair) for pair in evidence.headers],
        }  # fmt: skip
    return record


def unified_diff(change: Change, old: Version | None, new: Version) -> bytes:
    """A plain unified diff of the two texts (``patch`` applies it to the old text)."""
    old_lines = old.text.splitlines() if old else []
    old_name = _diff_name(change.document, old) if old else "/dev/null"
    lines = difflib.unified_diff(
        old_lines, new.text.splitlines(), old_name, _diff_name(change.document, new), lineterm=""
    )
    return ("\n".join(lines) + "\n").encode("utf-8")


def _diff_name(document: str, version: Version) -> str:
    return f"{document} v{version.number} {as_utc(version.first_seen):%Y-%m-%dT%H:%M:%SZ}"
