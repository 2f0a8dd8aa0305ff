"""The OPML file (to subscribe to every feed at once) and what the index page lists of the feeds
(the page itself: :mod:`monitor.publish.site.index`).

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

from monitor.publish.feed import (
    FeedSettings,
    feed_href,
    feed_title,
    feed_url,
    index_url,
)
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


def _href(settings: FeedSettings, spec: FeedSpec, fmt: str) -> str:
    return feed_url(settings, spec, fmt) or feed_href(spec, fmt)
