"""Rendering a cleaned HTML tree to lines of text (used by monitor.extract.html).

One line per block (heading, paragraph, list item "- ", table row with cells joined by
" | "). The walk keeps its own stack, so a page nested thousands of levels deep renders
without touching Python's recursion limit. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from bs4 import Tag
from bs4.element import NavigableString, PageElement

from monitor.extract.rules import BLOCK_TAGS

CELL = "\x00"  # marks a table cell start in the line buffer; decoded text never holds it


def render(roots: Iterable[Tag]) -> list[str]:
    """Lines of text: one per block (heading, paragraph, list item "- ", table row)."""
    out = _Lines()
    for root in roots:
        stack: list[tuple[PageElement, bool]] = [(root, False)]
        while stack:
            node, closing = stack.pop()
            if isinstance(node, Tag):
                _visit(node, closing, out, stack)
            elif type(node) is NavigableString:
                out.buf.append(str(node))
        out.flush()
    return out.lines


def _visit(node: Tag, closing: bool, out: _Lines, stack: list[tuple[PageElement, bool]]) -> None:
    name = node.name
    if closing:
        out.flush()
        if name == "li":
            out.prefix = ""
        return
    if name == "br" or name == "hr":
        out.flush()
    elif name in ("td", "th"):
        out.buf.append(CELL)
    if name not in BLOCK_TAGS:
        stack.extend((c, False) for c in reversed(node.contents))
        return
    out.flush()
    if name == "li":
        # Headings get no "#": a paragraph restyled as a heading is not a change of the text.
        out.prefix = "- "
    stack.append((node, True))
    stack.extend((c, False) for c in reversed(node.contents))


class _Lines:
    """Collects inline text until a block boundary turns it into a line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""

    def flush(self) -> None:
        if not self.buf:
            return
        cells = (" ".join(part.split()) for part in "".join(self.buf).split(CELL))
        text = " | ".join(cell for cell in cells if cell)
        self.buf.clear()
        if text and not _is_json(text):
            self.lines.append(self.prefix + text)
            self.prefix = ""


def _is_json(text: str) -> bool:
    # Server state dumped into the page (hydration data) is not text a reader sees.
    if len(text) < 40 or text[0] not in "{[" or text[-1] not in "}]":
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
