"""A folder of raw snapshots (HTML or PDF) with their times.

Two layouts: the evaluation corpus's (``manifest.json`` listing ``snapshots`` with ``file``,
``fetched_at``, ``sha256`` and ``source_url``; files may be gzipped), or files named by their
time, ``2024-06-26T10:00:00Z.html``, ``20240626100000.pdf`` (a Wayback timestamp) or
``2024-06-26.html.gz``. Each file is checked against its manifest's sha256 when it has one.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from monitor.errors import ArchiveError
from monitor.importer.steps import Body, Step, parse_time, read_inside, sniff_type

MAX_FILE_BYTES = 50_000_000
SUFFIXES = (".html", ".htm", ".xhtml", ".pdf")
_STAMP = re.compile(r"\d{14}")


def snapshot_steps(folder: Path) -> list[Step]:
    """The folder's snapshots, oldest first."""
    if not folder.is_dir():
        raise ArchiveError(f"{folder} is not a folder of snapshots")
    if (folder / "manifest.json").is_file():
        return _manifest_steps(folder)
    steps = [_file_step(p) for p in sorted(folder.iterdir()) if _is_snapshot(p)]
    if not steps:
        raise ArchiveError(f"{folder} has no manifest.json and no snapshot named by its time "
                           "(like 2024-06-26T10:00:00Z.html)")  # fmt: skip
    return sorted(steps, key=lambda s: (s.at, s.ref))


def _manifest_steps(folder: Path) -> list[Step]:
    try:
        manifest: dict[str, Any] = json.loads(read_inside(folder, "manifest.json", MAX_FILE_BYTES))
        url = str(manifest.get("source_url") or "")
        steps, seen = [], set()
        for s in manifest["snapshots"]:
            name, at = str(s["file"]), parse_time(s["fetched_at"])
            # A file listed again (a folder keeping each distinct page once, by its hash:
            # A, B, then A again) is a step of its own, not "already imported".
            ref = f"{name}@{at.isoformat()}" if name in seen else name
            seen.add(name)
            load = partial(_load, folder, name, s.get("sha256"), str(s.get("source_url") or url))
            steps.append(Step(ref=ref, at=at, load=load, source=folder.resolve().name, path=name))
    except (ArchiveError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ArchiveError(f"{folder}/manifest.json is not a snapshots manifest ({exc})") from None
    return sorted(steps, key=lambda s: s.at)


def _is_snapshot(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return path.is_file() and not name.startswith(".") and name.endswith(SUFFIXES)


def _file_step(path: Path) -> Step:
    stem = path.name.removesuffix(".gz")
    stem = stem[: stem.rfind(".")] if "." in stem else stem
    load = partial(_load, path.parent, path.name, None, "")
    return Step(
        ref=path.name,
        at=_file_time(stem, path),
        load=load,
        source=path.parent.resolve().name,
        path=path.name,
    )


def _file_time(stem: str, path: Path) -> datetime:
    if _STAMP.fullmatch(stem):
        return datetime.strptime(stem, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    # Colons are awkward in file names: 2024-06-26T10-00-00Z reads as 10:00:00, and
    # 2024-06-26T10-00-00+02-00 (`date -Iseconds | tr : -`) as 10:00:00+02:00.
    dashed = _DASHED.fullmatch(stem)
    text = _with_colons(dashed) if dashed else stem
    try:
        return parse_time(text)
    except ValueError:
        advice = "name snapshots like 2024-06-26T10:00:00Z.html, or give a manifest.json"
        raise ArchiveError(f"{path.name}: its name is not a time ({advice})") from None


_DASHED = re.compile(r"(\d{4}-\d\d-\d\dT\d\d)-(\d\d)(?:-(\d\d(?:\.\d+)?))?"
                     r"(Z|[+-]\d\d(?:-?\d\d)?)?")  # fmt: skip


def _with_colons(dashed: re.Match[str]) -> str:
    hour, minute, second, offset = dashed.groups()
    seconds = f":{second}" if second else ""
    zone = offset[:3] + ":" + offset[3:].lstrip("-") if offset and len(offset) > 3 else offset
    return f"{hour}:{minute}{seconds}{zone or ''}"


def _load(folder: Path, name: str, digest: str | None, url: str) -> Body:
    path = Path(name)
    raw = read_inside(folder, name, MAX_FILE_BYTES)
    try:
        data = _gunzip(raw, path.name) if path.name.endswith(".gz") else raw
    except zlib.error as exc:
        raise ArchiveError(f"cannot read {path.name}: {exc}") from None
    if digest and hashlib.sha256(data).hexdigest() != digest:
        raise ArchiveError(f"{path.name} does not match its sha256 in manifest.json")
    kind = "application/pdf" if path.name.lower().removesuffix(".gz").endswith(".pdf") else ""
    return Body(data, sniff_type(data, kind), url)


def _gunzip(raw: bytes, name: str) -> bytes:
    """A gzip file's bytes, refusing one that inflates past the size cap."""
    inflater = zlib.decompressobj(wbits=31)
    data = inflater.decompress(raw, MAX_FILE_BYTES)
    if inflater.unconsumed_tail:
        raise ArchiveError(f"{name} inflates to over {MAX_FILE_BYTES // 1_000_000} MB")
    if not inflater.eof:  # half a page would be a version with half the policy "removed"
        raise ArchiveError(f"{name} is cut short (a download interrupted?): not read")
    return data
