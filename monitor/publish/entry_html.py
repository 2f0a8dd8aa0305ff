"""Builds the HTML body of one feed entry: flagged sentences, a short diff, the sizes.

Policy text is untrusted: every piece of it is HTML-escaped (by the template), characters
that XML 1.0 forbids (control characters, lone surrogates) are dropped, since one of them would make
the whole feed unreadable, and bidi overrides are shown as ``<U+202E>`` rather than
allowed to reorder what a reader sees.

Every part is bounded: a change is repeated in up to four feeds in two formats, so a
rewrite of a huge page must not make huge feeds. The diff is cut (with a note saying
how much) and each quoted sentence is cut around its matched words; the entry links to
the change's own page for the rest (:mod:`monitor.publish.site.change`). The HTML comes
from the site's templates (``entry.html``, with the pieces it shares with the change pages).
"""

from __future__ import annotations

import re
from typing import Any

from monitor import citation
from monitor.models import Change, Flag, Origin
from monitor.publish.settings import DIFF_MAX_CHARS as DIFF_MAX_CHARS
from monitor.publish.settings import DIFF_MAX_LINES as DIFF_MAX_LINES

# A quoted sentence longer than this is cut around the words that matched.
QUOTE_MAX_CHARS = 1000
PHRASE_MAX_CHARS = 200
# A first version can flag dozens of sentences; the entry links to the document for the rest.
MAX_FLAGS = 10
MAX_AI_RELATED = 5

# XML 1.0 also allows C1 controls (U+0080-U+009F), but in text they are only ever
# mis-decoded bytes, and U+009B starts an escape sequence in some terminals: dropped too.
# Spelled as the characters dropped, not as those kept ("[^\t\n\r\x20-\x7e\xa0-\ud7ff
# \ue000-\ufffd\U00010000-\U0010ffff]"): the same set (a test compares every code point),
# compiled in 0.7 ms instead of 7.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
NOT_XML = _NOT_XML
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
    """ "Imported from ota 4025d7400deb (archived 2020-08-12T13:04:12+00:00), Open Terms
    Archive, https://github.com/OWNER/REPO: Service/Doc.md" (where, when recorded)."""
    ref = origin.ref[:12] if len(origin.ref) == 40 else origin.ref
    when = origin.archived_at.isoformat(timespec="seconds")
    name = citation.ARCHIVE_NAMES.get(origin.archive, origin.archive)
    where = f", {name}, {citation.where(origin)}" if origin.source or origin.path else ""
    return f"Imported from {origin.archive} {ref} (archived {when}){where}"


def origin_links(origin: Origin | None) -> list[tuple[str, str]]:
    """The permalinks of an imported version: the file at its commit (or the capture) and
    the commit, each (label, URL); none for a live check's or without a GitHub remote."""
    links = [("the archived file", citation.file_url(origin)),
             ("the commit", citation.commit_url(origin))]  # fmt: skip
    return [(label, clean_text(url)) for label, url in links if url]


def entry_html(
    change: Change,
    link: str = "",
    diff_chars: int = DIFF_MAX_CHARS,
    diff_lines: int = DIFF_MAX_LINES,
) -> str:
    """The entry's body as an HTML fragment; ``link`` is the change's own page."""
    from monitor.publish.site.templates import render  # jinja2: only where a feed is made

    text = visible(change.diff_text)
    shown, truncated = truncate_diff(text, diff_chars, diff_lines)
    cut = {"shown": len(shown), "total": len(text), "href": link, "command": "policy-monitor diff"}
    versions = f"version {change.to_version}"
    if change.from_version is not None:
        versions = f"version {change.from_version} → {change.to_version}"
    return render(
        "entry.html",
        history=visible(history_note(change.origin)) if change.origin else "",
        origin_links=origin_links(change.origin), ota=citation.is_ota(change.origin),
        note=visible(change.note),
        flags=[flag_view(f, QUOTE_MAX_CHARS) for f in change.flags[:MAX_FLAGS]],
        more_flags=len(change.flags) - MAX_FLAGS,
        related=[flag_view(f, QUOTE_MAX_CHARS) for f in change.ai_related[:MAX_AI_RELATED]],
        more_related=len(change.ai_related) - MAX_AI_RELATED,
        diff_lines=[diff_line_parts(line) for line in shown.split("\n")] if shown.strip() else [],
        cut=cut if truncated else None,
        kind=change.kind, added_chars=change.added_chars, removed_chars=change.removed_chars,
        versions=versions, url=clean_text(change.url), link=link,
    ).strip()  # fmt: skip


def flag_view(flag: Flag, limit: int) -> dict[str, Any]:
    """What a template shows of a flagged sentence: its parts (matched words marked), cut
    around the match when longer than ``limit``, and its side, category, rule and words."""
    phrase = flag.phrase[:PHRASE_MAX_CHARS]
    return {
        "parts": marked_parts(excerpt(flag.sentence, phrase, limit), phrase),
        "side": visible(flag.side),
        "category": visible(flag.category),
        "rule": visible(flag.rule),
        "phrase": visible(phrase),
    }


def marked_parts(sentence: str, phrase: str) -> list[tuple[str, bool]]:
    """The sentence in pieces, each occurrence of the matched phrase marked True."""
    sentence, phrase = visible(sentence), visible(phrase).strip()
    if not phrase:
        return [(sentence, False)]
    out: list[tuple[str, bool]] = []
    last = 0
    for match in re.finditer(re.escape(phrase), sentence, re.IGNORECASE):
        out += [(sentence[last : match.start()], False), (match.group(), True)]
        last = match.end()
    out.append((sentence[last:], False))
    return [part for part in out if part[0]]


def excerpt(sentence: str, phrase: str, limit: int = QUOTE_MAX_CHARS) -> str:
    """The sentence, or at most ``limit`` characters of it around the matched phrase."""
    if len(sentence) <= limit:
        return sentence
    at = sentence.lower().find(phrase[:PHRASE_MAX_CHARS].lower()) if phrase else -1
    start = max(0, min(at - limit // 3, len(sentence) - limit)) if at >= 0 else 0
    cut = sentence[start : start + limit]
    return ("…" if start else "") + cut + ("…" if start + limit < len(sentence) else "")


def truncate_diff(
    diff_text: str, max_chars: int = DIFF_MAX_CHARS, max_lines: int = DIFF_MAX_LINES
) -> tuple[str, bool]:
    """The first ``max_lines`` lines and ``max_chars`` characters, and whether it was cut."""
    lines = diff_text[: max_chars + 1].split("\n")  # never split a huge text whole
    shown = "\n".join(lines[:max_lines])[:max_chars]
    return shown, shown != diff_text


def diff_line_parts(line: str) -> list[tuple[str, str]]:
    """A diff line in pieces: ("", same), ("del", removed), ("ins", added)."""
    out: list[tuple[str, str]] = []
    last = 0
    for match in _MARK.finditer(line):
        out.append(("", line[last : match.start()]))
        removed, added = match.group(1), match.group(2)
        out.append(("del", removed) if removed is not None else ("ins", added))
        last = match.end()
    out.append(("", line[last:]))
    return [part for part in out if part[1]]
