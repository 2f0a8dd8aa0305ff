"""How much markup extraction agrees to parse, checked before the tree is built.

BeautifulSoup's tree costs about half a kilobyte and 15-40 microseconds per element
(building, measuring, pruning, rendering), so a hostile or broken page of millions of tiny
tags (``<b>`` three million times is 9 MB) would take minutes and gigabytes; 50,000
elements take about 2 s on a 2-core machine. libxml2 counts elements and depth far more cheaply
than the tree is built: one streaming pass through lxml's parser with a counting target,
fed in chunks so that it stops as soon as a limit is passed. The defaults leave wide
headroom over real policies: in the Open Terms Archive corpus (../shared/corpus/html) the
largest page is 1.05 MB, the one with most elements has 3,900, nested 20 deep; Chromium's
parser itself stops nesting at 512 levels. Pure functions, no I/O.
"""

from __future__ import annotations

from lxml import etree

from monitor.errors import ExtractError

MAX_PARSE_BYTES = 5_000_000
MAX_ELEMENTS = 50_000
MAX_DEPTH = 5_000
_CHUNK = 256 * 1024  # characters fed to the counting parser between two checks


class _Counter:
    """lxml parser target that only counts elements and the deepest nesting."""

    def __init__(self) -> None:
        self.elements = 0
        self.depth = 0
        self.deepest = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.elements += 1
        self.depth += 1
        if self.depth > self.deepest:
            self.deepest = self.depth

    def end(self, tag: str) -> None:
        self.depth -= 1

    def close(self) -> None:
        return None


def check_size(size: int, max_parse_bytes: int) -> None:
    """Refuses a body larger than ``max_parse_bytes`` before it is decoded."""
    if size > max_parse_bytes:
        raise ExtractError(
            f"page is {_mb(size)}, over the limit of {_mb(max_parse_bytes)} of markup: "
            "if the policy page really is this large, raise --max-page-mb"
        )


def check_markup(markup: str, max_elements: int, max_depth: int) -> None:
    """Refuses markup with more than ``max_elements`` elements or nested deeper than
    ``max_depth``, stopping the count as soon as either is passed."""
    counter = _Counter()
    parser = etree.HTMLParser(target=counter, recover=True)
    for start in range(0, len(markup), _CHUNK):
        parser.feed(markup[start : start + _CHUNK])
        if counter.elements > max_elements or counter.deepest > max_depth:
            break
    else:
        if markup:
            parser.close()
    if counter.deepest > max_depth:
        raise ExtractError(
            f"page nests elements over {max_depth:,} levels deep, the limit (browsers stop "
            "at 512): broken or hostile page; raise max_depth if it is real"
        )
    if counter.elements > max_elements:
        raise ExtractError(
            f"page has over {_count(max_elements)} HTML elements, the limit: a policy is "
            "never this large (broken or hostile page?); raise --max-elements if it is real"
        )


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _count(n: int) -> str:
    return f"{n / 1_000_000:g} million" if n >= 1_000_000 else f"{n:,}"
