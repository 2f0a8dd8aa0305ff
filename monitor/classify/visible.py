"""Characters no reader sees, taken out of a sentence before the rules read it.

A page can hold, inside its words, characters a browser draws as nothing: soft hyphens
(``&shy;``, shown only where a line breaks), zero-width spaces and joiners, word joiners,
byte order marks, bidi marks, variation selectors, tag characters... Unicode lists them as
*default ignorable* code points. The extracted text keeps them (a publisher adding one has
edited the page; diffs show them as ``<U+00AD>``), but to the rules "tr\\u00adain" must read
as the "train" a reader sees. This is the one place that says which characters those are:
the rules read :func:`visible`'s text, sentences are compared by their words without them
(``sentences.py``), and a flag's phrase is still cut from the sentence as stored (its span
mapped back), so the evidence files and ``first-seen`` find it byte for byte. Letters of
other scripts drawn as Latin ones ("tr\\u0430in", a Cyrillic а) are read, the same way, as
the Latin letters a reader sees (``lookalike.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.classify.lookalike import latin

# Default_Ignorable_Code_Point (Unicode 15, DerivedCoreProperties.txt), but the Hangul
# fillers (U+115F, U+1160, U+3164, U+FFA0: letters, drawn as blanks in some fonts).
IGNORABLE = (
    "\u00ad\u034f\u061c\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\ufe00-\ufe0f\ufeff\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_IGNORABLE = re.compile(f"[{IGNORABLE}]")
# A RIGHT-TO-LEFT OVERRIDE's run: up to the POP DIRECTIONAL FORMATTING, another embedding
# or override, or the end. A browser shows its letters right to left, so "\u202esledom IA"
# reads "AI models"; nesting is not followed (a page hiding words needs none).
OVERRIDE = "\u202e"
_OVERRIDDEN = re.compile("\u202e([^\u202a-\u202e\u2066-\u2069\n]*)")


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a character :func:`visible` removes (never an ASCII text)."""
    return not text.isascii() and _IGNORABLE.search(text) is not None


def shown(text: str) -> str:
    """``text`` without the characters no reader sees."""
    return _IGNORABLE.sub("", text) if has_invisible(text) else text


def visible(text: str) -> tuple[str, Sequence[int]]:
    """:func:`shown` of ``text``, its look-alike letters read as the Latin ones a reader
    sees (``lookalike.py``: one for one), and for each of its characters where it is in
    ``text`` (``range(len(text))`` when nothing was removed: most sentences)."""
    if not has_invisible(text):
        return latin(text), range(len(text))
    if OVERRIDE in text:
        return _shown_order(text)
    kept: list[str] = []
    origin: list[int] = []
    last = 0
    for found in _IGNORABLE.finditer(text):
        kept.append(text[last : found.start()])
        origin.extend(range(last, found.start()))
        last = found.end()
    kept.append(text[last:])
    origin.extend(range(last, len(text)))
    return latin("".join(kept)), origin


def _shown_order(text: str) -> tuple[str, Sequence[int]]:
    """:func:`visible` of a text holding an override: each overridden run's characters in
    the order they are shown (reversed), ``origin`` giving each one's place in ``text``."""
    order = list(range(len(text)))
    for run in _OVERRIDDEN.finditer(text):
        start, end = run.span(1)
        order[start:end] = order[start:end][::-1]
    origin = [at for at in order if not _IGNORABLE.match(text[at])]
    return latin("".join(text[at] for at in origin)), origin
