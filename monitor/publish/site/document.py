"""A document's pages: its timeline (``documents/<id>.html``: every change and technical
upgrade, every version), each version's text (``documents/<id>/v<N>.html`` and ``.txt``),
and the data the timeline's search box reads (``documents/<id>/search-data.js``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.citation import is_ota
from monitor.models import Change, DocumentStatus, Upgrade, Version, Watch
from monitor.publish.entry_html import history_note, origin_links, visible
from monitor.publish.feed import as_utc, change_title
from monitor.publish.site.evidence import snapshot_href
from monitor.publish.site.templates import render
from monitor.publish.specs import document_name, one_line
from monitor.store.site_queries import SnapshotEvidence

TEXT_MAX_CHARS = 2_000_000  # a version page shows this much; its .txt has it all
SEARCH_GLOBAL = "policyMonitorSearch"


@dataclass(frozen=True)
class DocumentData:
    """What a document's pages show, read once from the store."""

    watch: Watch
    path: str  # its file-safe name under documents/
    status: DocumentStatus
    versions: tuple[Version, ...]  # without text
    changes: tuple[Change, ...]  # oldest first
    upgrades: tuple[Upgrade, ...]
    evidence: dict[str, SnapshotEvidence]  # by snapshot sha256

    def content_type(self, digest: str) -> str:
        found = self.evidence.get(digest)
        return found.content_type if found else ""


def timeline_page(doc: DocumentData, *, index_href: str) -> bytes:
    name = document_name(doc.watch.company, doc.watch.title)
    by_version: dict[int, Change] = {}
    for change in doc.changes:  # the change that first led to each version
        by_version.setdefault(change.to_version, change)
    page = render(
        "timeline.html",
        title=f"{one_line(name)}: every version and change", root="../",
        index_href=index_href, feeds_links=[], doc=_doc_view(doc),
        events=_events(doc), versions=[_version_row(doc, v, by_version) for v in doc.versions],
        scripts=[f"{doc.path}/search-data.js", "../search.js"],  # the data first
        ota=any(is_ota(v.origin) for v in doc.versions),
    )  # fmt: skip
    return page.encode("utf-8")


def _doc_view(doc: DocumentData) -> dict[str, Any]:
    s = doc.status
    return {
        "id": visible(doc.watch.id), "path": doc.path, "company": one_line(doc.watch.company),
        "url": visible(doc.watch.url), "held": visible(s.suspect),
        "failing_since": as_utc(s.failing_since) if s.failing_since else None,
        "failures": s.consecutive_failures, "current": s.current_version,
        "last_checked": as_utc(s.last_live_check) if s.last_live_check else None,
        "imported_only": s.last_fetch is not None and s.last_live_check is None,
        "ai_changes": sum(1 for c in doc.changes if c.ai_training),
    }  # fmt: skip


def _events(doc: DocumentData) -> list[dict[str, Any]]:
    """Changes and technical upgrades, newest first."""
    events = [
        {"kind": "change", "at": as_utc(c.detected_at), "id": c.id,
         "what": one_line(change_title(c).rsplit(": ", 1)[-1]), "from": c.from_version,
         "to": c.to_version, "ai": c.ai_training, "direction": c.direction or "",
         "severity": c.severity, "note": visible(c.note), "held": "held as suspect" in c.note,
         "added": c.added_chars, "removed": c.removed_chars,
         "imported": visible(history_note(c.origin)) if c.origin else "",
         "origin_links": origin_links(c.origin)}
        for c in doc.changes
    ] + [
        {"kind": "upgrade", "at": as_utc(u.at), "id": u.id, "from": u.from_version,
         "to": u.to_version, "old": one_line(u.old_extractor), "new": one_line(u.new_extractor)}
        for u in doc.upgrades
    ]  # fmt: skip
    return sorted(events, key=lambda e: (e["at"], e["kind"] == "change", e["id"]), reverse=True)


def _version_row(doc: DocumentData, v: Version, by_version: dict[int, Change]) -> dict[str, Any]:
    change = by_version.get(v.number)
    content_type = doc.content_type(v.snapshot_sha256)
    return {
        "number": v.number, "first_seen": as_utc(v.first_seen), "last_seen": as_utc(v.last_seen),
        "upgrade": v.upgrade, "current": v.number == doc.status.current_version,
        "change": change.id if change else None, "snapshot": v.snapshot_sha256,
        "snapshot_href": "../" + snapshot_href(v.snapshot_sha256, content_type)
        if v.snapshot_sha256 in doc.evidence else None,
        "extractor": one_line(v.extractor),
    }  # fmt: skip


def version_page(doc: DocumentData, version: Version, *, index_href: str) -> bytes:
    """A version's whole text (up to TEXT_MAX_CHARS; the .txt beside it has it all)."""
    name = document_name(doc.watch.company, doc.watch.title)
    text = visible(version.text)
    content_type = doc.content_type(version.snapshot_sha256)
    page = render(
        "version.html",
        title=f"{one_line(name)}: version {version.number}", root="../../",
        index_href=index_href, feeds_links=[], scripts=[], doc=_doc_view(doc),
        v=version, first_seen=as_utc(version.first_seen),
        text=text[:TEXT_MAX_CHARS], total=len(text), extractor=one_line(version.extractor),
        snapshot_href="../../" + snapshot_href(version.snapshot_sha256, content_type),
        ota=is_ota(version.origin),
    )  # fmt: skip
    return page.encode("utf-8")


def version_text(version: Version) -> bytes:
    """The version's text as stored (its sha256 is the page's text sha256)."""
    return version.text.encode("utf-8")


def search_data(doc: DocumentData, texts: Sequence[Version]) -> bytes:
    """A script defining the document's lines, each version's lines and the changes, for
    the search box (a <script src> works from a folder opened from disk; fetch() does not).
    Each distinct line is stored once: versions of a policy share most of them."""
    lines: dict[str, int] = {}
    versions = [
        [v.number, as_utc(v.first_seen).isoformat(),
         sorted({lines.setdefault(line, len(lines)) for line in v.text.split("\n") if line})]
        for v in texts
    ]  # fmt: skip
    changes = [
        [c.id, c.from_version, c.to_version, as_utc(c.detected_at).isoformat()] for c in doc.changes
    ]
    record = {"document": doc.watch.id, "path": doc.path, "lines": list(lines),
              "versions": versions, "changes": changes}  # fmt: skip
    body = json.dumps(record, ensure_ascii=True, separators=(",", ":"))
    return f"{search_key(doc)}\nwindow.{SEARCH_GLOBAL} = {body};\n".encode()


def search_key(doc: DocumentData) -> str:
    """The first line of the search data: a hash of the versions and changes it is made of
    (a sweep that brings neither leaves the document's files alone without reading texts)."""
    parts: list[tuple[object, ...]] = [
        (v.number, v.text_sha256, v.first_seen.isoformat()) for v in doc.versions
    ]
    parts += [(c.id, c.from_version, c.to_version, c.detected_at.isoformat())
              for c in doc.changes]  # fmt: skip
    return f"/* {hashlib.sha256(repr([doc.path, parts]).encode()).hexdigest()} */"
