"""One HTML page per change (``changes/<id>.html`` in the site's folder, a permalink): what a
journalist needs to check and cite it.

A feed entry shows a bounded excerpt; the page has every flagged sentence with the words
that matched, the category, direction and severity, the diff inline and side by side
(unchanged passages folded, the whole capped at a stated budget), both versions' texts, and
the evidence: both raw snapshots with their sha256, fetch time, HTTP status and headers, and
how to verify them. A pure function of what is stored; the template escapes every value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.citation import is_ota
from monitor.models import Change, Version
from monitor.publish.entry_html import flag_view, history_note, origin_links, visible
from monitor.publish.feed import as_utc, change_title, rss_guid
from monitor.publish.site.diffview import diff_view
from monitor.publish.site.evidence import download_name, snapshot_href
from monitor.publish.site.templates import render
from monitor.publish.specs import one_line
from monitor.store.site_queries import SnapshotEvidence

SENTENCE_MAX_CHARS = 5000  # a longer "sentence" is a paragraph with no full stop
MAX_SENTENCES = 200
HEADERS_MAX = 100


@dataclass(frozen=True)
class Side:
    """A version of a change (with its text) and the evidence of its snapshot."""

    version: Version
    evidence: SnapshotEvidence | None


def change_page(
    change: Change,
    sides: tuple[Side | None, Side | None],
    *,
    index_href: str,
    doc_path: str,
    diff_chars: int,
) -> bytes:
    """The page of ``change``; ``sides`` its from and to versions (None if unknown);
    ``doc_path`` the document's folder name under ``documents/``."""
    before, after = sides
    view = None
    if before is not None and after is not None:
        # Inline and side by side share the budget: the page stays under it.
        flags = change.flags + change.ai_related
        view = diff_view(before.version.text, after.version.text, max(diff_chars // 2, 1), flags)
    versions_arg = f"--from {change.from_version} --to {change.to_version}"
    page = render(
        "change.html",
        title=one_line(change_title(change)), root="../", index_href=index_href,
        timeline_href=f"../documents/{doc_path}.html", feeds_links=[], scripts=[],
        c=change_view(change), sentences=_sentences(change), view=view,
        command=visible(f"policy-monitor diff {change.document} {versions_arg}"),
        before=_link(before, doc_path), after=_link(after, doc_path),
        evidence=[_evidence(label, side, change.document, doc_path)
                  for label, side in (("Before", before), ("After", after)) if side],
        ota=any(is_ota(o) for o in (change.origin, *(s.version.origin for s in sides if s))),
    )  # fmt: skip
    return page.encode("utf-8")


def _sentences(change: Change) -> list[tuple[str, list[dict[str, Any]], int]]:
    return [
        (heading, [flag_view(f, SENTENCE_MAX_CHARS) for f in flags[:MAX_SENTENCES]],
         len(flags) - MAX_SENTENCES)
        for heading, flags in (("AI-training language", change.flags),
                               ("Other AI language (not about training)", change.ai_related))
    ]  # fmt: skip


def _link(side: Side | None, doc_path: str) -> dict[str, Any] | None:
    if side is None:
        return None
    v = side.version
    href = f"../documents/{doc_path}/v{v.number}.html"
    return {"number": v.number, "first_seen": as_utc(v.first_seen), "href": href}


def _evidence(label: str, side: Side, document: str, doc_path: str) -> dict[str, Any]:
    v, e = side.version, side.evidence
    base = f"../documents/{doc_path}/v{v.number}"
    record: dict[str, Any] = {
        "label": label, "v": v, "e": e, "text_href": f"{base}.html", "txt_href": f"{base}.txt",
        "headers": [], "download": f"{v.snapshot_sha256}",
        "imported": visible(history_note(v.origin)) if v.origin else "",
        "origin_links": origin_links(v.origin),
    }  # fmt: skip
    if e is not None:
        record |= {
            "href": "../" + snapshot_href(e.sha256, e.content_type),
            "download": download_name(doc_path, v.number, e.sha256, e.content_type),
            "fetched_at": as_utc(e.fetched_at) if e.fetched_at else None,
            "fetched_url": visible(e.final_url or e.url),
            "headers": [(visible(k), visible(val)) for k, val in e.headers[:HEADERS_MAX]],
        }  # fmt: skip
    return record


def change_view(change: Change) -> dict[str, Any]:
    """The facts of a change as the templates show them (policy text made visible)."""
    categories = ", ".join(sorted({f.category for f in change.flags + change.ai_related}))
    return {
        "id": change.id, "document": visible(change.document),
        "company": one_line(change.company), "doc_title": one_line(change.title),
        "url": visible(change.url), "detected_at": as_utc(change.detected_at),
        "guid": rss_guid(change), "direction_word": change.direction or "",
        "direction": f"AI-training language {change.direction}" if change.ai_training else "none",
        "severity": change.severity, "categories": visible(categories),
        "added_chars": change.added_chars, "removed_chars": change.removed_chars,
        "note": visible(change.note), "classifier": visible(change.classifier),
        "from_version": change.from_version, "to_version": change.to_version,
        "kind": change.kind, "ai_training": change.ai_training,
        # imported history (issue 14): where it came from
        "history": visible(history_note(change.origin)) if change.origin else "",
        "origin_links": origin_links(change.origin),
        # journalist9: the window it happened in (the last step that read the old version)
        "opened_at": as_utc(change.opened_at) if change.opened_at else None,
        "opened_by": "by the archive" if change.opened_by_archive else "by a check",
        "detected_by": "by the archive" if change.origin else "by a check",
    }  # fmt: skip
