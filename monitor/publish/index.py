"""The OPML file (to subscribe to every feed at once) and the index page listing the feeds.

Both are pure functions of the feeds and their entries, like the feeds themselves: no
clock, so they are rewritten only when a feed gains or loses an entry. Links are the
public URLs when a base URL is configured, and paths relative to the feeds folder
otherwise (the index then works wherever the folder is served; the OPML needs the base
URL to be imported by most readers).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from monitor.models import Upgrade
from monitor.publish.feed import (
    FORMATS,
    FeedSettings,
    as_utc,
    feed_href,
    feed_title,
    feed_url,
    index_url,
)
from monitor.publish.page import html_page
from monitor.publish.specs import COMPANY, DOCUMENT, OVERVIEW, FeedSpec, one_line

OPML_NAME = "feeds.opml"
INDEX_NAME = "index.html"
FORMAT_NAMES = {"rss": "RSS 2.0", "atom": "Atom"}
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
GROUPS = (
    (OVERVIEW, "All documents"),
    (COMPANY, "By company"),
    (DOCUMENT, "By document"),
)


@dataclass(frozen=True)
class FeedRow:
    """A published feed and what it holds now."""

    spec: FeedSpec
    entries: int
    latest: datetime | None  # the newest entry's detection time


def opml(rows: Sequence[FeedRow], settings: FeedSettings, folder_url: str = "") -> bytes:
    """OPML 2.0 listing each feed once, in RSS 2.0, grouped like the index page.

    No dates: the file changes only when a feed appears or is renamed, not on each entry.
    Without a base URL, ``folder_url`` (the feeds folder's file:// URL) makes the feed
    links absolute: readers (newsboat) cannot import relative ones.
    """
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = one_line(settings.title)
    ET.SubElement(head, "ownerName").text = one_line(settings.author)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    for group, heading in GROUPS:
        members = [row for row in rows if row.spec.group == group]
        if members:
            outline = ET.SubElement(body, "outline", text=heading, title=heading)
            for row in members:
                attributes = _opml_attributes(row.spec, settings, folder_url)
                ET.SubElement(outline, "outline", attributes)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def _opml_attributes(spec: FeedSpec, settings: FeedSettings, folder_url: str) -> dict[str, str]:
    name = feed_title(settings, spec)
    href = _href(settings, spec, "rss")
    return {
        "text": name,
        "title": name,
        "type": "rss",
        "version": "RSS2",
        "xmlUrl": f"{folder_url.rstrip('/')}/{href}"
        if folder_url and not settings.base_url
        else href,
        "htmlUrl": spec.home or index_url(settings),
    }


def index_html(
    rows: Sequence[FeedRow], settings: FeedSettings, upgrades: Sequence[Upgrade] = ()
) -> bytes:
    """A plain, accessible HTML page: every feed with its RSS and Atom links, and the
    technical upgrades (new baselines that are not changes of any page)."""
    title = escape(one_line(settings.title))
    body = [
        f"<p>{escape(one_line(settings.description))}</p>",
        _opml_paragraph(settings),
        *[_section(rows, group, heading, settings) for group, heading in GROUPS],
        _upgrades_html(upgrades),
    ]
    return html_page(title, body, head=_autodiscovery(rows, settings))


def _upgrades_html(upgrades: Sequence[Upgrade]) -> str:
    if not upgrades:
        return ""
    items = [
        f"<li>{_time_html(u.at)}: {escape(one_line(u.document))}: v{u.from_version}'s stored "
        f"snapshot re-read by extractor {escape(one_line(u.new_extractor))} (was "
        f"{escape(one_line(u.old_extractor))}) as v{u.to_version}</li>"
        for u in upgrades
    ]
    return "\n".join([
        "<h2>Technical upgrades</h2>",
        "<p>The monitor's text extraction improved: these documents got a new baseline read"
        " from the same stored page. They are not changes of the pages and raised no alert.</p>",
        "<ul>", *items, "</ul>",
    ])  # fmt: skip


def _autodiscovery(rows: Sequence[FeedRow], settings: FeedSettings) -> list[str]:
    """<link rel=alternate> for the two overview feeds, so browsers and readers find them."""
    return [
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
        f'title="{escape(feed_title(settings, row.spec))} ({FORMAT_NAMES[fmt]})" '
        f'href="{escape(_href(settings, row.spec, fmt))}">'
        for row in rows
        if row.spec.group == OVERVIEW
        for fmt in FORMATS
    ]


def _opml_paragraph(settings: FeedSettings) -> str:
    href = escape(
        f"{settings.base_url.rstrip('/')}/{OPML_NAME}" if settings.base_url else OPML_NAME
    )
    return (
        f'<p>To follow every feed at once, import <a href="{href}" type="text/x-opml">'
        f"the list of all feeds (OPML)</a> into your feed reader.</p>"
    )


def _section(rows: Sequence[FeedRow], group: str, heading: str, settings: FeedSettings) -> str:
    members = [row for row in rows if row.spec.group == group]
    if not members:
        return ""
    lines = [
        f'<section aria-labelledby="{group}">',
        f'<h2 id="{group}">{escape(heading)}</h2>',
        "<table>",
        f"<caption>{escape(heading)}: feeds, their entries and newest change</caption>",
        '<thead><tr><th scope="col">Feed</th><th scope="col">Entries</th>'
        '<th scope="col">Newest change</th><th scope="col">Subscribe</th></tr></thead>',
        "<tbody>",
        *[_row_html(row, settings) for row in members],
        "</tbody>",
        "</table>",
        "</section>",
    ]
    return "\n".join(lines)


def _row_html(row: FeedRow, settings: FeedSettings) -> str:
    label = escape(one_line(row.spec.label))
    if row.spec.home:
        label = f'<a href="{escape(row.spec.home)}">{label}</a>'
    links = " · ".join(
        f'<a href="{escape(_href(settings, row.spec, fmt))}" type="{MEDIA_TYPES[fmt]}">'
        f"{FORMAT_NAMES[fmt]}</a>"
        for fmt in FORMATS
    )
    return (
        f'<tr><th scope="row">{label}</th><td>{row.entries}</td>'
        f"<td>{_time_html(row.latest)}</td><td>{links}</td></tr>"
    )


def _time_html(moment: datetime | None) -> str:
    if moment is None:
        return "none yet"
    utc = as_utc(moment)
    return f'<time datetime="{utc.isoformat()}">{utc:%Y-%m-%d %H:%M} UTC</time>'


def _href(settings: FeedSettings, spec: FeedSpec, fmt: str) -> str:
    return feed_url(settings, spec, fmt) or feed_href(spec, fmt)
