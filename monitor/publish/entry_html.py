"""Builds the HTML body of one feed entry: flagged sentences, a short diff, the sizes.

Policy text is untrusted: every piece of it is HTML-escaped here, and characters that
XML 1.0 forbids (control characters, lone surrogates) are dropped, since one of them
would make the whole feed unreadable.
"""

from __future__ import annotations

import re
from html import escape

from monitor.models import Change, Flag

DIFF_MAX_LINES = 40
DIFF_MAX_CHARS = 4000
# A first version can flag dozens of sentences; the entry links to the document for the rest.
MAX_FLAGS = 10
MAX_AI_RELATED = 5

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# diff.render marks changes inside one line: [-removed-] and {+added+}.
_MARK = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")


def clean_text(text: str) -> str:
    """Drops the characters XML 1.0 does not allow."""
    return _NOT_XML.sub("", text)


def entry_html(change: Change) -> str:
    """The entry's body as an HTML fragment."""
    parts = [
        _flags_html(change.flags),
        _ai_related_html(change.ai_related),
        _diff_html(change.diff_text),
        _sizes_html(change),
    ]
    return "\n".join(part for part in parts if part)


def highlight(sentence: str, phrase: str) -> str:
    """Escapes a sentence and wraps each occurrence of the matched phrase in <mark>."""
    sentence, phrase = clean_text(sentence), clean_text(phrase).strip()
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


def _flags_html(flags: tuple[Flag, ...]) -> str:
    if not flags:
        return ""
    quotes = [_quote_html(flag) for flag in flags[:MAX_FLAGS]]
    more = _more_html(len(flags) - MAX_FLAGS, "flagged sentence")
    return "\n".join(["<p><strong>AI-training language</strong></p>", *quotes, more]).strip()


def _quote_html(flag: Flag) -> str:
    about = (
        f"<strong>{_text(flag.side)}</strong> · {_text(flag.category)}"
        f" · matched “{_text(flag.phrase)}”"
    )
    return (
        f"<blockquote><p>{highlight(flag.sentence, flag.phrase)}</p>"
        f"<p><small>{about}</small></p></blockquote>"
    )


def _ai_related_html(related: tuple[Flag, ...]) -> str:
    if not related:
        return ""
    items = [
        f"<li>{highlight(flag.sentence, flag.phrase)} <small>({_text(flag.side)})</small></li>"
        for flag in related[:MAX_AI_RELATED]
    ]
    more = _more_html(len(related) - MAX_AI_RELATED, "sentence")
    heading = "<p><strong>Other AI language</strong> (not about training)</p>"
    return "\n".join([heading, "<ul>", *items, "</ul>", more]).strip()


def _more_html(count: int, noun: str) -> str:
    if count <= 0:
        return ""
    return f"<p><em>… and {count} more {noun}{'s' if count > 1 else ''}.</em></p>"


def _diff_html(diff_text: str) -> str:
    excerpt, truncated = truncate_diff(clean_text(diff_text))
    if not excerpt.strip():
        return ""
    lines = "\n".join(_marked_line_html(line) for line in excerpt.split("\n"))
    note = "\n<p><em>(diff truncated)</em></p>" if truncated else ""
    return f"<pre>{lines}</pre>{note}"


def truncate_diff(diff_text: str) -> tuple[str, bool]:
    """The first DIFF_MAX_LINES lines and DIFF_MAX_CHARS characters, and whether it was cut."""
    lines = diff_text.split("\n")
    excerpt = "\n".join(lines[:DIFF_MAX_LINES])
    if len(excerpt) > DIFF_MAX_CHARS:
        excerpt = excerpt[:DIFF_MAX_CHARS]
    return excerpt, excerpt != diff_text


def _marked_line_html(line: str) -> str:
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


def _sizes_html(change: Change) -> str:
    link = f'<a href="{escape(clean_text(change.url))}">current text</a>'
    if change.kind == "first":
        return f"<p>First version: {change.added_chars:,} characters. Read the {link}.</p>"
    versions = f"version {change.to_version}"
    if change.from_version is not None:
        versions = f"version {change.from_version} → {change.to_version}"
    return (
        f"<p>{change.added_chars:,} characters added, {change.removed_chars:,} removed "
        f"({versions}). Read the {link}.</p>"
    )


def _text(text: str) -> str:
    return escape(clean_text(text))
