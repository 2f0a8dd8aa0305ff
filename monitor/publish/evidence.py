"""A change's evidence as a folder to attach to a story (`policy-monitor evidence`).

    before-v3-snapshot-<sha256>.html   the raw bytes as fetched (the store's, byte for byte)
    after-v4-snapshot-<sha256>.html
    before-v3-text.txt, after-v4-text.txt   the extracted texts (UTF-8)
    change-12.diff                     the texts' unified diff
    manifest.json                      every file's sha256 and size; fetch times, URLs,
                                       HTTP status and headers; the change and its flags
    README.txt                         what each file is and how to verify it
    SHA256SUMS                         for `sha256sum -c SHA256SUMS`

Nothing in it depends on the clock: the same change gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from monitor import __version__, citation
from monitor.errors import ConfigError
from monitor.models import Change, Origin, Version
from monitor.store import Store
from monitor.store.evidence import SnapshotFetch, snapshot_fetch

SUMS_NAME, MANIFEST_NAME, README_NAME = "SHA256SUMS", "manifest.json", "README.txt"
ARCHIVES = {
    "ota": "Open Terms Archive, commit",
    "snapshots": "a saved snapshot, file",
    "wayback": "the Wayback Machine, capture",
}
EXTENSIONS = {"html": ".html", "pdf": ".pdf", "plain": ".txt", "markdown": ".md", "xml": ".xml",
              "json": ".json"}  # fmt: skip


def write_evidence(
    store: Store, change: Change, out: Path, *, record: dict[str, Any], diff: str
) -> list[Path]:
    """Writes the folder; ``record`` is the change's JSON record, ``diff`` its unified diff.
    ConfigError when ``out`` exists and is not an empty folder (nothing is overwritten)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} exists and is not an empty folder: choose a new --out folder")
    files: dict[str, bytes] = {}
    sides = {}
    versions = (
        ("before", store.version(change.document, change.from_version or 0)),
        ("after", store.version(change.document, change.to_version)),
    )
    for label, version in versions:
        if version is not None:
            sides[label] = _side(store, change.document, label, version, files)
    files[f"change-{change.id}.diff"] = diff.encode("utf-8")
    manifest = {
        "generated_by": f"policy-monitor {__version__}",
        "change": record,
        "versions": sides,
        "files": {name: _digest(data) for name, data in sorted(files.items())},
    }
    files[MANIFEST_NAME] = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
    files[README_NAME] = _readme(change, sides).encode("utf-8")
    files[SUMS_NAME] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode()
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return [out / name for name in sorted(files)]


def _side(
    store: Store, document: str, label: str, version: Version, files: dict[str, bytes]
) -> dict[str, Any]:
    """Adds one version's raw snapshot and text to ``files``; returns its manifest entry."""
    try:
        body, content_type = store.snapshot(version.snapshot_sha256)
    except KeyError:  # never stored (or lost): the texts and hashes are evidence still
        body, content_type = None, ""
    fetch = snapshot_fetch(store, document, version.snapshot_sha256)
    raw = f"{label}-v{version.number}-snapshot-{version.snapshot_sha256}{_extension(content_type)}"
    text = f"{label}-v{version.number}-text.txt"
    if body is not None:
        files[raw] = body
    files[text] = version.text.encode("utf-8")
    return {
        "version": version.number,
        "first_seen": version.first_seen.isoformat(),
        "last_seen": version.last_seen.isoformat(),
        "snapshot_file": raw if body is not None else None,
        "snapshot_sha256": version.snapshot_sha256,
        "text_file": text,
        "text_sha256": version.text_sha256,
        "extractor": version.extractor,
        "fetch": _fetch_record(fetch),
        "origin": _origin_record(version.origin),
    }


def _origin_record(origin: Origin | None) -> dict[str, str | None] | None:
    """Where an imported version came from (None: fetched by policy-monitor itself)."""
    if origin is None:
        return None
    return {
        "archive": origin.archive, "ref": origin.ref,
        "archived_at": origin.archived_at.isoformat(),
        # journalist8: where to find the same bytes without this tool
        "source": origin.source or None, "path": origin.path or None,
        "url": citation.file_url(origin) or None,
        "commit_url": citation.commit_url(origin) or None,
    }  # fmt: skip


def _fetch_record(fetch: SnapshotFetch) -> dict[str, Any]:
    return {
        "fetched_at": fetch.started_at.isoformat() if fetch.started_at else None,
        "url": fetch.url,
        "final_url": fetch.final_url,
        "http_status": fetch.http_status,
        "headers": [list(pair) for pair in fetch.headers],
        "content_type": fetch.content_type,
        "size": fetch.size,
        "stored_at": fetch.stored_at.isoformat() if fetch.stored_at else None,
    }


def _digest(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _extension(content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    return next((ext for key, ext in EXTENSIONS.items() if kind.endswith(key)), ".bin")


def _provenance(side: dict[str, Any]) -> str:
    """How the raw page came to the store: fetched by policy-monitor, or imported (whose
    HTTP status and headers in the manifest are the import's, not a real response's)."""
    origin = side["origin"]
    if origin is None:
        fetched = side["fetch"]["fetched_at"] or "(no recorded fetch)"
        return f"as fetched at {fetched}, byte for byte; its name carries its sha256"
    source = ARCHIVES.get(origin["archive"], origin["archive"])
    return (
        f"as {source} {origin['ref']} holds it (archived at {origin['archived_at']}),"
        "\n      byte for byte as imported; its name carries its sha256. Not fetched by"
        "\n      policy-monitor: cite the archive (the manifest's HTTP status and headers"
        "\n      are the import's, not a server's)"
    )


def _dated(change: Change) -> str:
    """When the change happened, and who says so: an imported change was never detected
    by the monitor, its time is the archive's."""
    when = change.detected_at.isoformat()
    if change.origin is None:
        return f"detected {when}"
    source = ARCHIVES.get(change.origin.archive, change.origin.archive)
    return (f"dated {when} by the archive ({source} {change.origin.ref});"
            " imported, not seen by policy-monitor")  # fmt: skip


def _window(change: Change) -> list[str]:
    """When it happened, as far as is known (journalist9: a story says "between X and Y";
    ``explain`` and ``changes --json`` give the same window)."""
    if change.opened_at is None or change.from_version is None:
        return []
    then = "by the archive" if change.opened_by_archive else "by a check"
    now = "by the archive" if change.origin else "by a check"
    return [f"happened between {change.opened_at.isoformat()} (v{change.from_version} last "
            f"seen, {then}) and {change.detected_at.isoformat()} (v{change.to_version} first "
            f"seen, {now}): it is only known to lie in this window"]  # fmt: skip


def _cited(origin: Origin | None) -> list[str]:
    """Where to find the after version's bytes without this tool (journalist8)."""
    if origin is None or not origin.source:
        return []
    link = citation.file_url(origin)
    lines = [f"source: {citation.cite(origin)}"] + ([f"file: {link}"] if link else [])
    return lines + ([f"licence: {citation.ATTRIBUTION}"] if citation.is_ota(origin) else [])


def _readme(change: Change, sides: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"Evidence of change #{change.id} of {change.document} ({change.title}, {change.company})",
        _dated(change) + f"; page: {change.url}",
        *_window(change),
        *_cited(change.origin),
        "",
        "Files:",
    ]
    for label, side in sides.items():
        lines += (
            [
                f"  {side['snapshot_file']}",
                f"      the raw page of version {side['version']} ({label} the change) "
                + _provenance(side),
            ]
            if side["snapshot_file"]
            else [
                f"  (no raw page of version {side['version']} ({label} the change): the database"
                f" holds no snapshot {side['snapshot_sha256']})",
            ]
        )
        lines += [
            f"  {side['text_file']}",
            f"      the text policy-monitor extracted from it (sha256 {side['text_sha256']})",
        ]
    lines += [
        f"  change-{change.id}.diff",
        "      the unified diff of the two texts",
        f"  {MANIFEST_NAME}",
        "      the change, its AI-training flags, fetch times, URLs, HTTP status and headers,",
        "      and the sha256 and size of every file above",
        "",
        "To verify that no file was altered, in this folder run:",
        "",
        f"    sha256sum -c {SUMS_NAME}",
        "",
        "Every line must end in OK. A snapshot's sha256 is also the key it is stored under in",
        f"policy-monitor's database (`policy-monitor history {change.document}` lists them).",
    ]
    return "\n".join(lines) + "\n"
