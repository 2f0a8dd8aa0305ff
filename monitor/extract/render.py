"""Rendering a cleaned HTML tree to lines of text (used by monitor.extract.html).

One line per block (heading, paragraph, list item "- ", table row with cells joined by
" | "). lxml walks the tree (iterwalk, no recursion), so a page nested thousands of levels
deep renders without touching Python's recursion limit. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from lxml import etree

from monitor.extract.rules import BLOCK_TAGS

CELL = "\x00"  # marks a table cell start in the line buffer; decoded text never holds it


def render(roots: Iterable[Any]) -> list[str]:
    """Lines of text: one per block (heading, paragraph, list item "- ", table row)."""
    out = _Lines()
    buf = out.buf
    for root in roots:
        for event, node in etree.iterwalk(root, events=("start", "end")):
            name = node.tag
            if event == "start":
                if name in BLOCK_TAGS:
                    if buf:  # flush() of nothing does nothing: most block edges
                        out.flush()
                    if name == "li":
                        # Headings get no "#": a paragraph restyled as a heading is not a
                        # change of the text.
                        out.prefix = "- "
                elif name == "br":
                    if buf:
                        out.flush()
                elif name == "td" or name == "th":
                    buf.append(CELL)
                if node.text:
                    buf.append(node.text)
                continue
            if name in BLOCK_TAGS:
                if buf:
                    out.flush()
                if name == "li":
                    out.prefix = ""
            if node.tail and node is not root:
                buf.append(node.tail)
        out.flush()
    return out.lines


class _Lines:
    """Collects inline text until a block boundary turns it into a line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""

    def flush(self) -> None:
        if not self.buf:
            return
        joined = "".join(self.buf)
        if CELL in joined:
            cells = (" ".join(part.split()) for part in joined.split(CELL))
            text = " | ".join(cell for cell in cells if cell)
        else:  # not in a table: the same, without a generator per line
            text = " ".join(joined.split())
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
