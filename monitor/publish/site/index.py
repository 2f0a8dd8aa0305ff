"""The site's front page (``index.html``): every feed with its RSS and Atom links, entries
and newest change, and the technical upgrades. A pure function of what it is given: no
clock, so it is rewritten only when what it shows changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from monitor.citation import is_ota
from monitor.models import Upgrade
from monitor.publish.feed import (
    FORMATS,
    FeedSettings,
    as_utc,
    change_title,
    feed_href,
    feed_title,
    feed_url,
)
from monitor.publish.index import FORMAT_NAMES, GROUPS, MEDIA_TYPES, OPML_NAME, FeedRow
from monitor.publish.site.document import DocumentData
from monitor.publish.site.templates import render
from monitor.publish.specs import OVERVIEW, FeedSpec, document_name, one_line


def index_html(
    rows: Sequence[FeedRow],
    settings: FeedSettings,
    upgrades: Sequence[Upgrade] = (),
    *,
    docs: Sequence[DocumentData] = (),
    ops_href: str = "../ops/operations.rss",
) -> bytes:
    """A plain, accessible HTML page: every feed with its RSS and Atom links, and the
    technical upgrades (new baselines that are not changes of any page)."""
    groups = [
        {"id": group, "heading": heading,
         "rows": [_row(row, settings) for row in rows if row.spec.group == group]}
        for group, heading in GROUPS
    ]  # fmt: skip
    opml = f"{settings.base_url.rstrip('/')}/{OPML_NAME}" if settings.base_url else OPML_NAME
    page = render(
        "index.html",
        title=one_line(settings.title), root="", index_href="index.html", scripts=[],
        feeds_links=_autodiscovery(rows, settings),
        description=one_line(settings.description), opml_href=opml,
        groups=[g for g in groups if g["rows"]],
        upgrades=[_upgrade(u) for u in upgrades], ops_href=ops_href,
        documents=[_document(d) for d in sorted(docs, key=_company_order)],
        ai_changes=_ai_changes(docs, settings.limit),
        ota=any(is_ota(c.origin) for d in docs for c in d.changes),
    )  # fmt: skip
    return page.encode("utf-8")


def _row(row: FeedRow, settings: FeedSettings) -> dict[str, Any]:
    return {
        "label": one_line(row.spec.label), "home": row.spec.home, "entries": row.entries,
        "latest": as_utc(row.latest) if row.latest else None,
        "links": [{"href": href(settings, row.spec, fmt), "type": MEDIA_TYPES[fmt],
                   "name": FORMAT_NAMES[fmt]} for fmt in FORMATS],
    }  # fmt: skip


def _upgrade(u: Upgrade) -> Upgrade:
    return replace(
        u, at=as_utc(u.at), document=one_line(u.document),
        old_extractor=one_line(u.old_extractor), new_extractor=one_line(u.new_extractor),
    )  # fmt: skip


def _autodiscovery(rows: Sequence[FeedRow], settings: FeedSettings) -> list[dict[str, str]]:
    """<link rel=alternate> for the two overview feeds, so browsers and readers find them."""
    return [
        {"type": MEDIA_TYPES[fmt], "href": href(settings, row.spec, fmt),
         "title": f"{feed_title(settings, row.spec)} ({FORMAT_NAMES[fmt]})"}
        for row in rows if row.spec.group == OVERVIEW for fmt in FORMATS
    ]  # fmt: skip


def href(settings: FeedSettings, spec: FeedSpec, fmt: str) -> str:
    """A feed's link: its public URL with a base URL, else relative to the folder."""
    return feed_url(settings, spec, fmt) or feed_href(spec, fmt)


def _company_order(doc: DocumentData) -> tuple[str, str]:
    return (one_line(doc.watch.company).casefold(), one_line(doc.watch.title).casefold())


def _document(doc: DocumentData) -> dict[str, Any]:
    s = doc.status
    last = doc.changes[-1] if doc.changes else None
    ai = [c for c in doc.changes if c.ai_training]
    return {
        "company": one_line(doc.watch.company), "path": doc.path,
        "name": one_line(document_name(doc.watch.company, doc.watch.title)),
        "versions": s.versions, "failures": s.consecutive_failures, "held": bool(s.suspect),
        # A check of this monitor's, never an archive's step (journalist8).
        "last_checked": as_utc(s.last_live_check) if s.last_live_check else None,
        "imported_only": s.last_fetch is not None and s.last_live_check is None,
        "failing_since": as_utc(s.failing_since) if s.failing_since else None,
        "last_change": {"id": last.id, "at": as_utc(last.detected_at),
                        "imported": last.origin is not None} if last else None,
        "last_ai": {"id": ai[-1].id, "at": as_utc(ai[-1].detected_at),
                    "direction": ai[-1].direction,
                    "imported": ai[-1].origin is not None} if ai else None,
        "ai_count": len(ai),
    }  # fmt: skip


def _ai_changes(docs: Sequence[DocumentData], limit: int) -> list[dict[str, Any]]:
    """The newest AI-training changes of every document, newest first."""
    found = sorted(
        (c for d in docs for c in d.changes if c.ai_training),
        key=lambda c: (as_utc(c.detected_at), c.id), reverse=True,
    )  # fmt: skip
    return [
        {"id": c.id, "title": one_line(change_title(c)), "direction": c.direction,
         "severity": c.severity, "at": as_utc(c.detected_at),
         "imported": c.origin is not None}
        for c in found[:limit]
    ]  # fmt: skip
