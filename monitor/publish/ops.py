"""The operations feed: "monitoring failing" and "recovered" entries for operators.

Subscribers follow policy changes; whoever runs the monitor also wants to hear when a
document could not be checked N times in a row, and when it came back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from feedgen.feed import FeedGenerator

from monitor.models import HealthEvent, Watch
from monitor.publish.entry_html import clean_text
from monitor.publish.feed import EPOCH, GENERATOR, TAG_AUTHORITY, FeedSettings, as_utc
from monitor.publish.site.templates import render
from monitor.publish.specs import document_name, one_line

OPS_NAME = "operations"


def render_ops_feed(
    events: Sequence[HealthEvent], documents: Mapping[str, Watch], fmt: str, settings: FeedSettings
) -> bytes:
    """Newest first, at most ``settings.limit`` events; bytes change only with the events."""
    newest = sorted(events, key=lambda e: e.id, reverse=True)[: settings.limit]
    fg = FeedGenerator()
    fg.id(f"{TAG_AUTHORITY}:feed/{OPS_NAME}")
    fg.title(one_line(f"{settings.title}: monitoring health"))
    if settings.base_url:
        kind = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
        fg.link(href=f"{settings.base_url.rstrip('/')}/{OPS_NAME}.{fmt}", rel="self", type=kind)
    fg.link(href=clean_text(settings.link), rel="alternate")
    fg.description("Documents whose checks keep failing, and when they recover.")
    fg.generator(GENERATOR)
    fg.updated(as_utc(newest[0].at) if newest else EPOCH)
    for event in reversed(newest):  # feedgen prepends: add oldest first
        _add(fg, event, documents.get(event.document))
    return bytes(fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True))


def ops_title(event: HealthEvent, watch: Watch | None) -> str:
    # "Acme Acme AI Help" said the company twice: named as the change feeds name it
    name = document_name(watch.company, watch.title) if watch else event.document
    if event.kind == "failing":
        return f"Monitoring failing: {name} ({event.failures} failed checks in a row)"
    return f"Monitoring recovered: {name} (after {event.failures} failed checks)"


def _add(fg: FeedGenerator, event: HealthEvent, watch: Watch | None) -> None:
    entry = fg.add_entry()
    entry.id(f"{TAG_AUTHORITY}:health/{event.id}")
    entry.guid(f"policy-monitor:health:{event.id}", permalink=False)
    entry.title(one_line(ops_title(event, watch)))
    if watch:
        entry.link(href=clean_text(watch.url))
    when = as_utc(event.at)
    entry.published(when)
    entry.updated(when)
    entry.category(term=f"monitoring-{event.kind}")
    detail = event.error or "the last check succeeded"
    entry.description(render("ops_entry.html", detail=clean_text(detail)).strip())
