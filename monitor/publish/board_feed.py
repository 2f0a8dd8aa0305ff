"""The board's feed (``board.rss``, ``board.atom``) and page (``board.html``), issue 16.

One feed entry per change of a cell, saying from what to what, quoting the sentence the
new value rests on, with the version it first appeared in and a link to its evidence.
Pure functions of the recorded rows, like the other feeds: no clock, stable ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
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
from monitor.publish.page import html_page
from monitor.publish.specs import document_name, one_line

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
    return f"{BOARD_NAME}/{quote(document, safe='')}-v{number}.html"


def value_text(value: str, which: Sequence[str]) -> str:
    """ "yes (posts, photos)", "not stated"."""
    return f"{value} ({', '.join(which)})" if which else value


def entry_title(entry: BoardEntry) -> str:
    name = document_name(entry.company, entry.title)
    cell = CELL_NAMES.get(entry.cell, entry.cell)
    before = value_text(entry.previous_value, entry.previous_which)
    return one_line(f"{name}: {cell}: {before} → {value_text(entry.value, entry.which)}")


def _link(settings: FeedSettings, href: str) -> str:
    return f"{settings.base_url.rstrip('/')}/{href}" if settings.base_url else href


def entry_body(entry: BoardEntry, link: str) -> str:
    """The entry's HTML: from what to what, the sentence, its version and first date."""
    parts = [
        f"<p>{escape(CELL_NAMES.get(entry.cell, entry.cell))}: "
        f"<del>{escape(value_text(entry.previous_value, entry.previous_which))}</del> → "
        f"<ins>{escape(value_text(entry.value, entry.which))}</ins> "
        f"(as of version {entry.version}).</p>",
    ]
    if entry.sentence:
        first = as_utc(entry.first_seen).isoformat() if entry.first_seen else "unknown"
        parts.append(f"<blockquote>{escape(visible(entry.sentence))}</blockquote>")
        parts.append(
            f"<p>In the text since version {entry.sentence_version}, first seen {first}.</p>"
        )
    if entry.where:
        parts.append(f"<p>Where: {escape(visible(entry.where))}</p>")
    if entry.previous_sentence:
        parts.append(f"<p>Before, it rested on:</p><blockquote>"
                     f"{escape(visible(entry.previous_sentence))}</blockquote>")  # fmt: skip
    parts.append(f'<p><a href="{escape(link)}">Evidence</a></p>')
    return "\n".join(parts)


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
    """The board as one plain HTML page: a table per document, each cell with its
    sentence, version, first date and evidence link. Everything escaped, no script."""
    body = ['<p><a href="index.html">All feeds</a> · '
            f'<a href="{BOARD_NAME}.rss">Board feed (RSS)</a> · '
            f'<a href="{BOARD_NAME}.atom">Atom</a></p>']  # fmt: skip
    for watch, cells in rows:
        body.append(f'<section id="{escape(watch.id)}">')
        body.append(f"<h2>{escape(document_name(watch.company, watch.title))}</h2>")
        body.append(f'<p><a href="{escape(watch.url)}">{escape(watch.url)}</a></p>')
        if not cells:
            body.append("<p>Not read yet: no version recorded.</p></section>")
            continue
        body.append("<table><tr><th>Question</th><th>Answer</th><th>Citation</th></tr>")
        body += [_cell_row(cells[name]) for name in CELL_NAMES if name in cells]
        body.append("</table></section>")
    return html_page("Where each company stands on AI training", body)


def _cell_row(entry: BoardEntry) -> str:
    answer = escape(value_text(entry.value, entry.which))
    if entry.where:
        answer += f"<br>where: {escape(entry.where)}"
    if entry.sentence:
        first = as_utc(entry.first_seen).date().isoformat() if entry.first_seen else "?"
        cite = (f"<q>{escape(visible(entry.sentence))}</q> "
                f"(v{entry.sentence_version}, since {first})")  # fmt: skip
    else:
        cite = f"nothing says so (since v{entry.version})"
    link = f' <a href="{escape(evidence_href(entry))}">evidence</a>'
    name = escape(CELL_NAMES.get(entry.cell, entry.cell))
    return f"<tr><td>{name}</td><td>{answer}</td><td>{cite}{link}</td></tr>"


def version_page(watch: Watch, number: int, first_seen: str, snapshot: str, text: str) -> bytes:
    """A version's whole text, for cells whose evidence is a version no change recorded
    (a document's first version)."""
    title = escape(f"{document_name(watch.company, watch.title)}: version {number}")
    return html_page(title, [
        f'<p><a href="../{BOARD_NAME}.html">Board</a></p>',
        f"<p>First seen {escape(first_seen)}; raw snapshot sha256 <code>{escape(snapshot)}"
        "</code>.</p>",
        f"<pre>{escape(visible(text))}</pre>",
    ])  # fmt: skip
