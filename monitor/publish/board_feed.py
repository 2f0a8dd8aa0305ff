"""The board's feed (``board.rss``, ``board.atom``) and page (``board.html``), issue 16.

One feed entry per change of a cell, saying from what to what, quoting the sentence the
new value rests on, with the version it first appeared in and a link to its evidence.
Pure functions of the recorded rows, like the other feeds: no clock, stable ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from feedgen.feed import FeedGenerator

from monitor.models import BoardEntry, Watch
from monitor.publish.entry_html import clean_text, visible
from monitor.publish.feed import (
    EPOCH,
    GENERATOR,
    TAG_AUTHORITY,
    FeedSettings,
    as_utc,
    change_page_href,
    index_url,
)
from monitor.publish.site.templates import render
from monitor.publish.specs import document_name, file_safe, one_line

BOARD_NAME = "board"
CELL_NAMES = {
    "trains_on_user_data": "Trains AI on people's data",
    "opt_out": "Opt-out or objection",
    "legal_basis": "Legal basis",
    "data_used": "Data used",
    "regions": "Regions named",
}


def evidence_href(entry: BoardEntry) -> str:
    """The page proving a cell, relative to the feeds folder: the change that recorded
    the cited version, else that version's own page."""
    if entry.evidence_change is not None:
        return change_page_href(entry.evidence_change)
    return version_href(entry.document, entry.sentence_version or entry.version)


def version_href(document: str, number: int) -> str:
    """The site's page of a version (monitor/publish/site/), relative to the feeds folder."""
    return f"documents/{file_safe(document)}/v{number}.html"


def value_text(value: str, which: Sequence[str]) -> str:
    """ "yes (posts, photos)", "not stated"."""
    return f"{value} ({', '.join(which)})" if which else value


def entry_title(entry: BoardEntry) -> str:
    name = document_name(entry.company, entry.title)
    cell = CELL_NAMES.get(entry.cell, entry.cell)
    before = value_text(entry.previous_value, entry.previous_which)
    return one_line(f"{name}: {cell}: {before} → {value_text(entry.value, entry.which)}")


def _link(settings: FeedSettings, href: str) -> str:
    base = settings.base_url or settings.local_url
    return f"{base.rstrip('/')}/{href}" if base else href


def entry_body(entry: BoardEntry, link: str) -> str:
    """The entry's HTML: from what to what, the sentence, its version and first date."""
    first = as_utc(entry.first_seen).isoformat() if entry.first_seen else "unknown"
    return render(
        "board_entry.html", cell=CELL_NAMES.get(entry.cell, entry.cell),
        before=value_text(entry.previous_value, entry.previous_which),
        after=value_text(entry.value, entry.which), version=entry.version,
        sentence=visible(entry.sentence), sentence_version=entry.sentence_version, first=first,
        where=visible(entry.where), previous=visible(entry.previous_sentence), link=link,
    ).strip()  # fmt: skip


def render_board_feed(
    entries: Sequence[BoardEntry], fmt: str, settings: FeedSettings, since: datetime | None = None
) -> bytes:
    """The board feed, newest first (``entries`` as :func:`board_changes` returns them)."""
    fg = FeedGenerator()
    fg.id(f"{TAG_AUTHORITY}:feed/{BOARD_NAME}")
    fg.title(f"AI-training board — {one_line(settings.title)}")
    if settings.base_url:
        kind = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
        fg.link(href=_link(settings, f"{BOARD_NAME}.{fmt}"), rel="self", type=kind)
    fg.link(href=clean_text(index_url(settings)), rel="alternate")
    fg.description("Each change of where a company stands on AI training, with its citation.")
    fg.author(name=one_line(settings.author))
    fg.generator(GENERATOR)
    shown = list(entries)[: settings.limit]
    fg.updated(as_utc(shown[0].at) if shown else as_utc(since or EPOCH))
    for entry in shown:
        item = fg.add_entry(order="append")
        if fmt == "atom":
            item.id(f"{TAG_AUTHORITY}:board/{quote(entry.document, safe='')}/{entry.id}")
        else:
            item.guid(f"policy-monitor:board:{entry.document}:{entry.id}", permalink=False)
        link = _link(settings, evidence_href(entry))
        item.title(entry_title(entry))
        item.link(href=clean_text(link), rel="alternate")
        item.published(as_utc(entry.at))
        item.updated(as_utc(entry.at))
        item.category(term="board")
        item.category(term=one_line(entry.company))
        item.content(entry_body(entry, link), type="html")
    return bytes(fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True))


def board_page(rows: Sequence[tuple[Watch, dict[str, BoardEntry]]]) -> bytes:
    """The board as one page of the site: a table per document, each cell with its
    sentence, version, first date and evidence link. Everything escaped, no script."""
    documents = [
        {"id": watch.id, "name": document_name(watch.company, watch.title), "url": watch.url,
         "cells": [_cell_view(cells[name]) for name in CELL_NAMES if name in cells]}
        for watch, cells in rows
    ]  # fmt: skip
    page = render("board.html", title="Where each company stands on AI training", root="",
                  index_href="index.html", feeds_links=[], scripts=[], board=BOARD_NAME,
                  documents=documents)  # fmt: skip
    return page.encode("utf-8")


def _cell_view(entry: BoardEntry) -> dict[str, str]:
    first = as_utc(entry.first_seen).date().isoformat() if entry.first_seen else "?"
    return {
        "name": CELL_NAMES.get(entry.cell, entry.cell),
        "answer": value_text(entry.value, entry.which), "where": visible(entry.where),
        "sentence": visible(entry.sentence), "since": first,
        "sentence_version": str(entry.sentence_version), "version": str(entry.version),
        "evidence": evidence_href(entry),
    }  # fmt: skip
