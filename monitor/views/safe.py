"""Terminal safety: what stored text may print, and how times and JSON are shown.

Stored text (titles, URLs, sentences, diffs, servers' error messages) comes from web pages
and servers we do not control. Before it reaches a terminal, :func:`terminal_safe` drops
escape sequences (which can clear the screen, retitle the window or write to the
clipboard) and shows other control characters and bidi overrides as ``<U+XXXX>``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

# ESC/8-bit sequences as terminals read them: CSI (ESC [ or U+009B, parameters, a final
# byte); OSC, DCS, SOS, PM and APC strings up to their terminator (or the line's end);
# other two-character escapes (ESC c resets the terminal).
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# What is left to show by name: C0 and C1 controls but tab and newline, bidi embeddings,
# overrides and isolates (they reorder what follows), lone surrogates (unprintable).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\n\t]")


def _codepoint(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def terminal_safe(text: str, *, newlines: bool = True) -> str:
    """``text`` with no escape sequence, control character or bidi override left in it.

    Sequences are dropped; other such characters are shown as ``<U+XXXX>``, so a reader
    sees that something was there. Newlines stay when ``newlines`` (a diff's layout);
    otherwise, like tabs, they become spaces. Accents, CJK and quotes are untouched.
    """
    text = _UNSAFE.sub(_codepoint, _SEQUENCE.sub("", text))
    return text if newlines else _LINE_BREAKS.sub(" ", text)


def _one(text: str) -> str:
    """A field of a table row: safe and on one line."""
    return terminal_safe(text, newlines=False)


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # one encoder, not one per record


def json_text(value: Any) -> str:
    """JSON for the terminal: readable UTF-8, but C1 controls, bidi overrides and lone
    surrogates escaped as ``\\uXXXX`` (json.dumps already escapes C0 controls)."""
    if isinstance(value, list):  # one record per line: json's C encoder (indent= is Python)
        records = ",\n".join(map(_ENCODER.encode, value))
        text = f"[\n{records}\n]" if value else "[]"
    else:
        text = json.dumps(value, ensure_ascii=False, indent=1)
    # json escapes every C0 control: ASCII text without DEL has nothing _UNSAFE matches
    # (isascii() is a flag, `in` a memchr; the regex scan was 18 ms of 5.8 MB of changes)
    if text.isascii() and "\x7f" not in text:
        return text
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


when = _when
