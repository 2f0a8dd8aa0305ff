"""One HTML page per change (``changes/<id>.html`` in the feeds folder): what a journalist
needs to check and cite it.

A feed entry shows a bounded excerpt; its page has every flagged sentence with the words
that matched, the category, direction and severity, the whole diff (up to a generous
cap, which it states) and both versions with the sha256 of the raw snapshot the site
served and when it was first seen. Like the feeds it is a pure function of what is
stored, and all policy text in it is escaped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from monitor.models import Change, Flag, Version
from monitor.publish.entry_html import (
    cut_note,
    excerpt,
    highlight,
    history_note,
    marked_line_html,
    visible,
)
from monitor.publish.feed import as_utc, change_title, rss_guid
from monitor.publish.page import html_page
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
    title = escape(one_line(change_title(change)))
    return html_page(title, [
        f'<p><a href="{escape(index_href)}">All feeds</a></p>',
        _facts_html(change),
        _versions_html(versions),
        _sentences_html("AI-training language", change.flags),
        _sentences_html("Other AI language (not about training)", change.ai_related),
        _diff_html(change, diff_chars),
    ])  # fmt: skip


def _facts_html(change: Change) -> str:
    direction = f"AI-training language {change.direction}" if change.ai_training else "none"
    categories = ", ".join(sorted({f.category for f in change.flags + change.ai_related}))
    url = _text(change.url)
    rows = [
        ("Document", _text(f"{one_line(change.company)} · {one_line(change.title)}")
         + f" ({_text(change.document)})"),
        ("Page", f'<a href="{url}">{url}</a>'),
        ("Detected", _time_html(change.detected_at)),
        ("Change", _text(f"#{change.id} · {rss_guid(change)}")),
        ("AI-training", _text(direction)),
        ("Severity", _text(change.severity)),
        ("Categories", _text(categories or "none")),
        ("Size", f"{change.added_chars:,} characters added, {change.removed_chars:,} removed"),
        ("Note", _text(change.note or "none")),
        ("Rules", _text(change.classifier or "-")),
    ]  # fmt: skip
    if change.origin is not None:  # imported history (issue 14): say where it came from
        rows.insert(3, ("Imported", _text(history_note(change.origin))))
    cells = [f'<tr><th scope="row">{name}</th><td>{value}</td></tr>' for name, value in rows]
    return "\n".join(["<h2>The change</h2>", "<table>", *cells, "</table>"])


def _versions_html(versions: tuple[Version | None, Version | None]) -> str:
    rows = [
        f'<tr><th scope="row">{label} v{v.number}</th><td>{_time_html(v.first_seen)}</td>'
        f"<td><code>{escape(v.snapshot_sha256)}</code></td>"
        f"<td><code>{escape(v.text_sha256)}</code></td></tr>"
        for label, v in zip(("from", "to"), versions, strict=True)
        if v is not None
    ]
    if not rows:
        return ""
    return "\n".join([
        "<h2>Versions</h2>",
        "<p>The raw snapshot is the exact bytes the site served, kept in the monitor's "
        "database under its sha256; the text is what was read from it.</p>",
        "<table>",
        '<thead><tr><th scope="col">Version</th><th scope="col">First seen</th>'
        '<th scope="col">Raw snapshot sha256</th><th scope="col">Text sha256</th></tr></thead>',
        "<tbody>", *rows, "</tbody>", "</table>",
    ])  # fmt: skip


def _sentences_html(heading: str, flags: tuple[Flag, ...]) -> str:
    if not flags:
        return ""
    quotes = [
        f"<blockquote><p>{highlight(excerpt(f.sentence, f.phrase, SENTENCE_MAX_CHARS), f.phrase)}"
        f"</p><p><small><strong>{_text(f.side)}</strong> · category {_text(f.category)} · "
        f"rule {_text(f.rule)} · matched “{_text(f.phrase)}”</small></p></blockquote>"
        for f in flags[:MAX_SENTENCES]
    ]
    more = len(flags) - MAX_SENTENCES
    note = f"<p><em>… and {more} more (see `policy-monitor explain`).</em></p>" if more > 0 else ""
    return "\n".join([f"<h2>{escape(heading)}</h2>", *quotes, note])


def _diff_html(change: Change, max_chars: int) -> str:
    text = visible(change.diff_text)
    if not text.strip():
        return ""
    shown = text[:max_chars]
    lines = "\n".join(marked_line_html(line) for line in shown.split("\n"))
    versions = f"--from {change.from_version} --to {change.to_version}"
    rest = f"<code>{_text(f'policy-monitor diff {change.document} {versions}')}</code>"
    note = cut_note(len(shown), len(text), rest) if len(shown) < len(text) else ""
    legend = "<p>Removed words are struck through, added ones underlined.</p>"
    parts = ["<h2>Diff</h2>", legend, f"<pre>{lines}</pre>", note]
    return "\n".join(part for part in parts if part)


def _time_html(moment: datetime) -> str:
    utc = as_utc(moment)
    return f'<time datetime="{utc.isoformat()}">{utc:%Y-%m-%d %H:%M:%S} UTC</time>'


def _text(text: str) -> str:
    return escape(visible(text))
