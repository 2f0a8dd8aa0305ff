"""Builds the HTML body of one feed entry: flagged sentences, a short diff, the sizes.

Policy text is untrusted: every piece of it is HTML-escaped here, characters that XML 1.0
forbids (control characters, lone surrogates) are dropped, since one of them would make
the whole feed unreadable, and bidi overrides are shown as ``<U+202E>`` rather than
allowed to reorder what a reader sees.

Every part is bounded: a change is repeated in up to four feeds in two formats, so a
rewrite of a huge page must not make huge feeds. The diff is cut (with a note saying
how much) and each quoted sentence is cut around its matched words; the entry links to
the change's own page for the rest (:mod:`monitor.publish.change_page`).
"""

from __future__ import annotations

import re
from html import escape

from monitor.models import Change, Flag, Origin

DIFF_MAX_LINES = 40
DIFF_MAX_CHARS = 20_000
# A quoted sentence longer than this is cut around the words that matched.
QUOTE_MAX_CHARS = 1000
PHRASE_MAX_CHARS = 200
# A first version can flag dozens of sentences; the entry links to the document for the rest.
MAX_FLAGS = 10
MAX_AI_RELATED = 5

# XML 1.0 also allows C1 controls (U+0080-U+009F), but in text they are only ever
# mis-decoded bytes, and U+009B starts an escape sequence in some terminals: dropped too.
_NOT_XML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# diff.render marks changes inside one line: [-removed-] and {+added+}.
_MARK = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")


def clean_text(text: str) -> str:
    """Drops the characters XML 1.0 does not allow, and C1 controls."""
    return _NOT_XML.sub("", text)


def visible(text: str) -> str:
    """Policy text fit for a page: XML-safe, bidi overrides shown by name."""
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", clean_text(text))


def history_note(origin: Origin) -> str:
    """ "Imported from ota 4025d7400deb (archived 2020-08-12T13:04:12+00:00)"."""
    ref = origin.ref[:12] if len(origin.ref) == 40 else origin.ref
    when = origin.archived_at.isoformat(timespec="seconds")
    return f"Imported from {origin.archive} {ref} (archived {when})"


def entry_html(
    change: Change,
    link: str = "",
    diff_chars: int = DIFF_MAX_CHARS,
    diff_lines: int = DIFF_MAX_LINES,
) -> str:
    """The entry's body as an HTML fragment; ``link`` is the change's own page."""
    origin = change.origin
    parts = [
        f"<p><em>{_text(history_note(origin))}</em></p>" if origin else "",
        f"<p><em>{_text(change.note)}</em></p>" if change.note else "",
        _flags_html(change.flags),
        _ai_related_html(change.ai_related),
        _diff_html(change.diff_text, link, diff_chars, diff_lines),
        _sizes_html(change, link),
    ]
    return "\n".join(part for part in parts if part)


def highlight(sentence: str, phrase: str) -> str:
    """Escapes a sentence and wraps each occurrence of the matched phrase in <mark>."""
    sentence, phrase = visible(sentence), visible(phrase).strip()
    if not phrase:
        return escape(sentence)
    out: list[str] = []
    last = 0
    for match in re.finditer(re.escape(phrase), sentence, re.IGNORECASE):
        out.append(escape(sentence[last : match.start()]))
        out.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    out.append(escape(sentence[last:]))
    return "".join(out)


def excerpt(sentence: str, phrase: str, limit: int = QUOTE_MAX_CHARS) -> str:
    """The sentence, or at most ``limit`` characters of it around the matched phrase."""
    if len(sentence) <= limit:
        return sentence
    at = sentence.lower().find(phrase[:PHRASE_MAX_CHARS].lower()) if phrase else -1
    start = max(0, min(at - limit // 3, len(sentence) - limit)) if at >= 0 else 0
    cut = sentence[start : start + limit]
    return ("…" if start else "") + cut + ("…" if start + limit < len(sentence) else "")


def _flags_html(flags: tuple[Flag, ...]) -> str:
    if not flags:
        return ""
    quotes = [_quote_html(flag) for flag in flags[:MAX_FLAGS]]
    more = _more_html(len(flags) - MAX_FLAGS, "flagged sentence")
    return "\n".join(["<p><strong>AI-training language</strong></p>", *quotes, more]).strip()


def _quote_html(flag: Flag) -> str:
    phrase = flag.phrase[:PHRASE_MAX_CHARS]
    about = (
        f"<strong>{_text(flag.side)}</strong> · {_text(flag.category)} · matched “{_text(phrase)}”"
    )
    return (
        f"<blockquote><p>{highlight(excerpt(flag.sentence, phrase), phrase)}</p>"
        f"<p><small>{about}</small></p></blockquote>"
    )


def _ai_related_html(related: tuple[Flag, ...]) -> str:
    if not related:
        return ""
    items = [
        f"<li>{highlight(excerpt(f.sentence, f.phrase), f.phrase[:PHRASE_MAX_CHARS])} "
        f"<small>({_text(f.side)})</small></li>"
        for f in related[:MAX_AI_RELATED]
    ]
    more = _more_html(len(related) - MAX_AI_RELATED, "sentence")
    heading = "<p><strong>Other AI language</strong> (not about training)</p>"
    return "\n".join([heading, "<ul>", *items, "</ul>", more]).strip()


def _more_html(count: int, noun: str) -> str:
    if count <= 0:
        return ""
    return f"<p><em>… and {count} more {noun}{'s' if count > 1 else ''}.</em></p>"


def _diff_html(diff_text: str, link: str, max_chars: int, max_lines: int) -> str:
    text = visible(diff_text)
    shown, truncated = truncate_diff(text, max_chars, max_lines)
    if not shown.strip():
        return ""
    lines = "\n".join(marked_line_html(line) for line in shown.split("\n"))
    rest = f'<a href="{escape(link)}">{escape(link)}</a>' if link else "policy-monitor diff"
    note = f"\n{cut_note(len(shown), len(text), rest)}" if truncated else ""
    return f"<pre>{lines}</pre>{note}"


def cut_note(shown: int, total: int, rest: str) -> str:
    """Says how much of a diff is shown, and (``rest``, HTML) where the rest is."""
    return f"<p><em>diff cut at {shown:,} of {total:,} characters; full change: {rest}</em></p>"


def truncate_diff(
    diff_text: str, max_chars: int = DIFF_MAX_CHARS, max_lines: int = DIFF_MAX_LINES
) -> tuple[str, bool]:
    """The first ``max_lines`` lines and ``max_chars`` characters, and whether it was cut."""
    lines = diff_text[: max_chars + 1].split("\n")  # never split a huge text whole
    shown = "\n".join(lines[:max_lines])[:max_chars]
    return shown, shown != diff_text


def marked_line_html(line: str) -> str:
    """Escapes a diff line, turning its change marks into <del> and <ins>."""
    out: list[str] = []
    last = 0
    for match in _MARK.finditer(line):
        out.append(escape(line[last : match.start()]))
        removed, added = match.group(1), match.group(2)
        if removed is not None:
            out.append(f"<del>{escape(removed)}</del>")
        else:
            out.append(f"<ins>{escape(added)}</ins>")
        last = match.end()
    out.append(escape(line[last:]))
    return "".join(out)


def _sizes_html(change: Change, link: str) -> str:
    current = f'<a href="{escape(clean_text(change.url))}">current text</a>'
    what = "every sentence, the whole diff, the versions’ hashes"
    full = f' Full change: <a href="{escape(link)}">{what}</a>.' if link else ""
    if change.kind == "first":
        return f"<p>First version: {change.added_chars:,} characters. Read the {current}.{full}</p>"
    versions = f"version {change.to_version}"
    if change.from_version is not None:
        versions = f"version {change.from_version} → {change.to_version}"
    return (
        f"<p>{change.added_chars:,} characters added, {change.removed_chars:,} removed "
        f"({versions}). Read the {current}.{full}</p>"
    )


def _text(text: str) -> str:
    return escape(visible(text))
