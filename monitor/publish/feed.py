"""Renders recorded changes as an RSS 2.0 or Atom feed (the only module importing feedgen).

The feed is a pure projection of the changes passed in: the same changes always give the
same bytes. Nothing depends on the clock (feedgen's "now" defaults are overridden by the
newest entry's date), and every entry keeps one id for life, so feed readers never show
a change twice. Entry bodies are built by :mod:`monitor.publish.entry_html`, the list of feeds by
:mod:`monitor.publish.specs`, the OPML file and index page by :mod:`monitor.publish.index`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from monitor.models import Change
from monitor.publish.entry_html import clean_text, entry_html
from monitor.publish.settings import DEFAULT_SETTINGS as DEFAULT_SETTINGS
from monitor.publish.settings import FeedSettings as FeedSettings
from monitor.publish.settings import as_utc as as_utc
from monitor.publish.settings import settings_from_config as settings_from_config
from monitor.publish.specs import AI_TRAINING, ALL, FeedSpec, document_name, document_type, one_line

if TYPE_CHECKING:  # imported where a feed is made: a check that publishes nothing needs none
    from feedgen.feed import FeedGenerator

FORMATS = ("rss", "atom")
# Fixed for ever: changing it would change every entry's id and re-notify subscribers.
TAG_AUTHORITY = "tag:policy-monitor,2026"
# An empty feed still needs a date: when its documents began to be watched (stored, so
# regeneration stays byte-identical); this one only when even that is unknown.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR = "policy-monitor"
CHANGES_DIR = "changes"  # one HTML page per change, in the feeds folder
# One change shows in up to four feeds, in two formats, at every sweep; its body (the
# costly part: the diff's markup) is built once. Changes are frozen, so they are the key.
_entry_body = lru_cache(maxsize=2048)(entry_html)


def feed_url(settings: FeedSettings, spec: FeedSpec, fmt: str) -> str | None:
    """The public URL of a published feed file; None without a base URL."""
    if not settings.base_url or not spec.published:
        return None
    return f"{settings.base_url.rstrip('/')}/{feed_href(spec, fmt)}"


def feed_href(spec: FeedSpec, fmt: str) -> str:
    """The feed file's path relative to the feeds folder."""
    return f"{quote(spec.path, safe='/')}.{fmt}"


def change_page_href(change_id: int) -> str:
    """The change page's path relative to the feeds folder."""
    return f"{CHANGES_DIR}/{change_id}.html"


def change_link(settings: FeedSettings, change_id: int, spec: FeedSpec) -> str:
    """The link to a change's page from a feed: public with a base URL, else relative to
    the feed file (``company/x.rss`` is one folder down, so ``../changes/1.html``)."""
    if settings.base_url:
        return f"{settings.base_url.rstrip('/')}/{change_page_href(change_id)}"
    if settings.local_url:
        return f"{settings.local_url.rstrip('/')}/{change_page_href(change_id)}"
    up = "../" * spec.path.count("/") if spec.published else ""
    return up + change_page_href(change_id)


def index_url(settings: FeedSettings) -> str:
    """The index page's public URL (or local file:// URL), else the project's home."""
    if settings.base_url or settings.local_url:
        return f"{(settings.base_url or settings.local_url).rstrip('/')}/index.html"
    return settings.link


def change_title(change: Change) -> str:
    """Says what happened, e.g. "LinkedIn Privacy Policy: AI-training language added"."""
    return f"{document_name(change.company, change.title)}: {_what_happened(change)}"


def render_feed(
    changes: Sequence[Change],
    fmt: str = "rss",
    settings: FeedSettings = DEFAULT_SETTINGS,
    *,
    ai_only: bool = False,
    self_url: str | None = None,
    spec: FeedSpec | None = None,
    since: datetime | None = None,
) -> bytes:
    """Renders the newest ``settings.limit`` changes ``spec`` shows, newest first.

    ``fmt`` is "rss" or "atom". Without a spec: all changes, or the AI-training ones if
    ``ai_only``. ``self_url`` overrides the self-link made from ``settings.base_url``.
    ``since``: the date of a feed with no entry (when its documents began to be watched).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}: use one of {', '.join(FORMATS)}")
    spec = spec or (AI_TRAINING if ai_only else ALL)
    entries = select_changes(changes, limit=settings.limit, spec=spec)
    fg = _feed_generator(settings, fmt, spec, self_url or feed_url(settings, spec, fmt))
    fg.updated(as_utc(entries[0].detected_at) if entries else as_utc(since or EPOCH))
    for change in entries:
        body = _entry_body(
            change, change_link(settings, change.id, spec), settings.diff_chars, settings.diff_lines
        )
        _add_entry(fg, change, fmt, body, spec)
    if fmt == "atom":
        return bytes(fg.atom_str(pretty=True))
    return bytes(fg.rss_str(pretty=True))


def select_changes(
    changes: Iterable[Change], *, limit: int, ai_only: bool = False, spec: FeedSpec | None = None
) -> list[Change]:
    """The changes a feed shows: newest first, one per id, those ``spec`` matches."""
    spec = spec or (AI_TRAINING if ai_only else ALL)
    ordered = sorted(changes, key=lambda c: (as_utc(c.detected_at), c.id, c.document), reverse=True)
    seen: set[tuple[str, int]] = set()
    picked: list[Change] = []
    for change in ordered:
        key = (change.document, change.id)
        if key in seen or not spec.matches(change):
            continue
        seen.add(key)
        picked.append(change)
    return picked[: max(limit, 0)]


def rss_guid(change: Change, spec: FeedSpec = ALL) -> str:
    """The RSS guid of a change in the feed ``spec``; never changes, whatever else about
    the change does. Distinct per feed (the feed's path appended, but in "all"): readers
    such as newsboat keep one copy of a guid across feeds, so a shared one would vanish
    from all but one of them."""
    guid = f"policy-monitor:change:{change.document}:{change.id}"
    return clean_text(guid if spec.path == ALL.path else f"{guid}:{spec.path}")


def atom_id(change: Change, spec: FeedSpec = ALL) -> str:
    """The Atom id of a change in a feed: a tag: URI, as stable and distinct as the guid."""
    tag = f"{TAG_AUTHORITY}:change/{quote(clean_text(change.document), safe='')}/{change.id}"
    return tag if spec.path == ALL.path else f"{tag}/{quote(clean_text(spec.path), safe='/')}"


def _what_happened(change: Change) -> str:
    if change.kind == "first":
        return "first version recorded"
    sides = {flag.side for flag in change.flags}
    if not sides:
        return "text changed"
    if sides == {"added"}:
        return "AI-training language added"
    if sides == {"removed"}:
        return "AI-training language removed"
    return "AI-training language changed"


def feed_title(settings: FeedSettings, spec: FeedSpec) -> str:
    """ "Google — policy-monitor: ..."; what tells feeds apart comes first, as readers cut."""
    title = one_line(settings.title)
    return title if spec == ALL else f"{one_line(spec.label)} — {title}"


def _feed_generator(
    settings: FeedSettings, fmt: str, spec: FeedSpec, self_url: str | None
) -> FeedGenerator:
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(f"{TAG_AUTHORITY}:feed/{quote(clean_text(spec.path), safe='/')}")
    fg.title(feed_title(settings, spec))
    if self_url:
        kind = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
        fg.link(href=clean_text(self_url), rel="self", type=kind)
    # Added last because feedgen uses the last link as RSS's <link>.
    fg.link(href=clean_text(spec.home or index_url(settings)), rel="alternate")
    fg.description(one_line(f"{settings.description} {spec.summary}"))
    fg.author(name=one_line(settings.author))
    # The default generator carries feedgen's version; ours keeps the bytes stable.
    fg.generator(GENERATOR)
    if fmt == "rss":
        # RSS's own author fields need an e-mail address; dc:creator takes a name.
        fg.load_extension("dc", atom=False, rss=True)
        fg.dc.dc_creator(one_line(settings.author))
    return fg


def _add_entry(fg: FeedGenerator, change: Change, fmt: str, body: str, spec: FeedSpec) -> None:
    entry = fg.add_entry(order="append")
    if fmt == "atom":
        entry.id(atom_id(change, spec))
    else:
        entry.guid(rss_guid(change, spec), permalink=False)
    entry.title(change_title(change))
    entry.link(href=clean_text(change.url), rel="alternate")
    when = as_utc(change.detected_at)
    entry.published(when)
    entry.updated(when)
    for term in categories(change):
        entry.category(term=term)
    entry.content(body, type="html")


def categories(change: Change) -> list[str]:
    """ai-training, ai-related (when they apply), the company, the document type."""
    terms = ["ai-training"] if change.flags else []
    if change.ai_related:
        terms.append("ai-related")
    for term in (one_line(change.company), document_type(change.title)):
        if term and term not in terms:
            terms.append(term)
    return terms
