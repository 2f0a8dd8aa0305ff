"""Renders recorded changes as an RSS 2.0 or Atom feed (the only module importing feedgen).

The feed is a pure projection of the changes passed in: the same changes always give the
same bytes. Nothing depends on the clock (feedgen's "now" defaults are overridden by the
newest entry's date), and every entry keeps one id for life, so feed readers never show
a change twice. Entry bodies are built by :mod:`monitor.feed_html`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from feedgen.feed import FeedGenerator

from monitor.feed_html import clean_text, entry_html
from monitor.models import Change

FORMATS = ("rss", "atom")
# Fixed for ever: changing it would change every entry's id and re-notify subscribers.
TAG_AUTHORITY = "tag:policy-monitor,2026"
# An empty feed still needs a date; a fixed one keeps regeneration byte-identical.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR = "policy-monitor"


@dataclass(frozen=True)
class FeedSettings:
    """What the feed says about itself."""

    title: str = "policy-monitor: terms and privacy policy changes"
    link: str = "https://github.com/policy-monitor/policy-monitor"  # public base URL / home
    description: str = (
        "Changes to the terms of service and privacy policies of Meta, Amazon, OpenAI, "
        "LinkedIn and Google, with AI-training language flagged."
    )
    author: str = "policy-monitor"
    limit: int = 50

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError(f"feed limit must be 0 or more, not {self.limit}")


DEFAULT_SETTINGS = FeedSettings()


def change_title(change: Change) -> str:
    """Says what happened, e.g. "LinkedIn Privacy Policy: AI-training language added"."""
    return f"{_document_name(change.company, change.title)}: {_what_happened(change)}"


def render_feed(
    changes: Sequence[Change],
    fmt: str = "rss",
    settings: FeedSettings = DEFAULT_SETTINGS,
    *,
    ai_only: bool = False,
    self_url: str | None = None,
) -> bytes:
    """Renders the newest ``settings.limit`` changes, newest first, as "rss" or "atom"."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}: use one of {', '.join(FORMATS)}")
    entries = select_changes(changes, limit=settings.limit, ai_only=ai_only)
    fg = _feed_generator(settings, fmt, ai_only=ai_only, self_url=self_url)
    fg.updated(_utc(entries[0].detected_at) if entries else EPOCH)
    for change in entries:
        _add_entry(fg, change, fmt)
    if fmt == "atom":
        return bytes(fg.atom_str(pretty=True))
    return bytes(fg.rss_str(pretty=True))


def select_changes(changes: Iterable[Change], *, limit: int, ai_only: bool) -> list[Change]:
    """The changes a feed shows: newest first, one per id, AI-training only if asked."""
    ordered = sorted(changes, key=lambda c: (_utc(c.detected_at), c.id, c.document), reverse=True)
    seen: set[tuple[str, int]] = set()
    picked: list[Change] = []
    for change in ordered:
        key = (change.document, change.id)
        if key in seen or (ai_only and not change.flags):
            continue
        seen.add(key)
        picked.append(change)
    return picked[: max(limit, 0)]


def rss_guid(change: Change) -> str:
    """The RSS guid of a change; never changes, whatever else about the change does."""
    return clean_text(f"policy-monitor:change:{change.document}:{change.id}")


def atom_id(change: Change) -> str:
    """The Atom id of a change: a tag: URI, as stable as the RSS guid."""
    return f"{TAG_AUTHORITY}:change/{quote(clean_text(change.document), safe='')}/{change.id}"


def _document_name(company: str, title: str) -> str:
    company, title = _one_line(company), _one_line(title)
    if not company or _starts_with_word(title, company):
        return title or "Document"
    return f"{company} {title}".strip()


def _starts_with_word(text: str, prefix: str) -> bool:
    """True if text begins with prefix as a whole word ("Meta Terms", not "Metadata")."""
    if not text.casefold().startswith(prefix.casefold()):
        return False
    return len(text) == len(prefix) or not text[len(prefix)].isalnum()


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


def _feed_generator(
    settings: FeedSettings, fmt: str, *, ai_only: bool, self_url: str | None
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(f"{TAG_AUTHORITY}:feed/{'ai-training' if ai_only else 'all'}")
    fg.title(_one_line(settings.title))
    if self_url:
        kind = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
        fg.link(href=clean_text(self_url), rel="self", type=kind)
    # Added last because feedgen uses the last link as RSS's <link>.
    fg.link(href=clean_text(settings.link), rel="alternate")
    fg.description(_one_line(settings.description))
    fg.author(name=_one_line(settings.author))
    # The default generator carries feedgen's version; ours keeps the bytes stable.
    fg.generator(GENERATOR)
    if fmt == "rss":
        # RSS's own author fields need an e-mail address; dc:creator takes a name.
        fg.load_extension("dc", atom=False, rss=True)
        fg.dc.dc_creator(_one_line(settings.author))
    return fg


def _add_entry(fg: FeedGenerator, change: Change, fmt: str) -> None:
    entry = fg.add_entry(order="append")
    if fmt == "atom":
        entry.id(atom_id(change))
    else:
        entry.guid(rss_guid(change), permalink=False)
    entry.title(change_title(change))
    entry.link(href=clean_text(change.url), rel="alternate")
    when = _utc(change.detected_at)
    entry.published(when)
    entry.updated(when)
    for term in _categories(change):
        entry.category(term=term)
    entry.content(entry_html(change), type="html")


def _categories(change: Change) -> list[str]:
    terms = ["ai-training"] if change.flags else []
    if change.ai_related:
        terms.append("ai-related")
    company = _one_line(change.company)
    if company and company not in terms:
        terms.append(company)
    return terms


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def _utc(when: datetime) -> datetime:
    """Stored times are UTC; a naive one is read as UTC rather than rejected."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
