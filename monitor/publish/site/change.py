"""One HTML page per change (``changes/<id>.html`` in the feeds folder): what a journalist
needs to check and cite it.

A feed entry shows a bounded excerpt; its page has every flagged sentence with the words
that matched, the category, direction and severity, the whole diff (up to a generous
cap, which it states) and both versions with the sha256 of the raw snapshot the site
served and when it was first seen. Like the feeds it is a pure function of what is
stored, and all policy text in it is escaped by the template.
"""

from __future__ import annotations

from typing import Any

from monitor.models import Change, Version
from monitor.publish.entry_html import diff_line_parts, flag_view, visible
from monitor.publish.feed import as_utc, change_title, rss_guid
from monitor.publish.site.templates import render
from monitor.publish.specs import one_line

SENTENCE_MAX_CHARS = 5000  # a longer "sentence" is a paragraph with no full stop
MAX_SENTENCES = 200


def change_page(
    change: Change,
    versions: tuple[Version | None, Version | None],
    *,
    index_href: str,
    diff_chars: int,
) -> bytes:
    """The page of ``change``; ``versions`` are its from and to versions (None if unknown)."""
    text = visible(change.diff_text)
    shown = text[:diff_chars]
    versions_arg = f"--from {change.from_version} --to {change.to_version}"
    command = f"policy-monitor diff {change.document} {versions_arg}"
    sentences = [
        (heading, [flag_view(f, SENTENCE_MAX_CHARS) for f in flags[:MAX_SENTENCES]],
         len(flags) - MAX_SENTENCES)
        for heading, flags in (("AI-training language", change.flags),
                               ("Other AI language (not about training)", change.ai_related))
    ]  # fmt: skip
    page = render(
        "change.html",
        title=one_line(change_title(change)), root="../", index_href=index_href,
        feeds_links=[], scripts=[], c=change_view(change),
        versions=[(label, v) for label, v in zip(("from", "to"), versions, strict=True) if v],
        sentences=sentences,
        diff_lines=[diff_line_parts(line) for line in shown.split("\n")] if text.strip() else [],
        cut={"shown": len(shown), "total": len(text), "href": "", "command": visible(command)}
        if len(shown) < len(text) else None,
    )  # fmt: skip
    return page.encode("utf-8")


def change_view(change: Change) -> dict[str, Any]:
    """The facts of a change as the templates show them (policy text made visible)."""
    categories = ", ".join(sorted({f.category for f in change.flags + change.ai_related}))
    return {
        "id": change.id, "document": visible(change.document),
        "company": one_line(change.company), "doc_title": one_line(change.title),
        "url": visible(change.url), "detected_at": as_utc(change.detected_at),
        "guid": rss_guid(change),
        "direction": f"AI-training language {change.direction}" if change.ai_training else "none",
        "severity": change.severity, "categories": visible(categories),
        "added_chars": change.added_chars, "removed_chars": change.removed_chars,
        "note": visible(change.note), "classifier": visible(change.classifier),
        "from_version": change.from_version, "to_version": change.to_version,
        "kind": change.kind, "ai_training": change.ai_training,
    }  # fmt: skip
