"""How much markup extraction agrees to parse, and the parse itself (lxml's own tree).

A hostile or broken page of millions of tiny tags (``<b>`` three million times is 9 MB)
must be refused before a tree of millions of elements is built. Counting elements with a
parser target costs a Python call per tag, so it runs only when a cheap bound cannot
settle it: the parser makes at most two elements per ``<`` in the markup (a tag, and a
paragraph it implies) plus html, head and body, so a page with few ``<`` is under any
element limit without counting. Otherwise one streaming pass through lxml's parser with a
counting target, fed in chunks, stops as soon as a limit is passed.

libxml2 builds a tree at most 2,048 levels deep and silently drops what lies deeper *and
everything after it*; a tree that reaches that depth is therefore rebuilt from the parser's
events (slow, but only for pages no real policy resembles). The defaults leave wide
headroom over real policies: in the Open Terms Archive corpus (../shared/corpus/html) the
largest page is 1.05 MB, the one with most elements has 3,900, nested 20 deep; Chromium's
parser itself stops nesting at 512 levels. Pure functions, no I/O.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import etree

from monitor.errors import ExtractError
from monitor.extract.version import MAX_ELEMENTS, MAX_PARSE_BYTES

__all__ = ["MAX_DEPTH", "MAX_ELEMENTS", "MAX_PARSE_BYTES", "check_size", "parse"]

MAX_DEPTH = 5_000
_CHUNK = 256 * 1024  # characters fed to the counting parser between two checks
LIBXML2_DEPTH = 2_048  # libxml2's own nesting limit for a tree (huge_tree)


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


def parse(markup: str, max_elements: int, max_depth: int) -> Any:
    """lxml's tree of the markup (its <html> element), without comments and processing
    instructions; raises ExtractError past ``max_elements`` elements or ``max_depth``
    levels, counted before the tree is built when the page could be that large."""
    if 2 * markup.count("<") + 3 > max_elements:
        check_markup(markup, max_elements, max_depth)
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        parser.feed(markup)
        root = parser.close()
    except etree.LxmlError as exc:
        raise ExtractError(f"page could not be parsed as HTML ({exc})") from exc
    if root is None:
        return etree.Element("html")
    # The first depth that matters: past max_depth, or libxml2's own limit.
    levels = min(max_depth, LIBXML2_DEPTH - 1) + 1
    deep = levels <= 1 or _reaches(levels)(root)
    if deep and levels > max_depth:
        _too_deep(max_depth)
    if deep and levels >= LIBXML2_DEPTH:  # libxml2 dropped what lies deeper: count, rebuild
        check_markup(markup, max_elements, max_depth)
        return _rebuilt(markup)
    _body_out_of_head(root)
    return root


# What HTML allows in <head>; any other element there is where the body began.
_HEAD_TAGS = frozenset(("base", "link", "meta", "noscript", "script", "style", "template", "title"))


def _body_out_of_head(root: Any) -> None:
    """Moves body content libxml2 left in <head> into <body>, as browsers place it.

    libxml2 parses HTML 4: on a page that starts with ``<meta>`` and has no <html> or
    <body> tag, an element it does not know (``<main>``, ``<section>``, ``<article>``) and
    everything after it stay inside <head>, which extraction drops, so the page would
    give no text. HTML5 (and every browser) ends the head at the first element that does
    not belong there; the same is done here."""
    head = root.find("head")
    if head is None:
        return
    first = next((el for el in head if el.tag not in _HEAD_TAGS), None)
    if first is None:
        return
    body = root.find("body")
    if body is None:
        body = etree.SubElement(root, "body")
    moved = [first, *first.itersiblings()]
    for index, el in enumerate(moved):
        body.insert(index, el)


@lru_cache(maxsize=8)
def _reaches(levels: int) -> Any:
    """XPath: whether an element lies ``levels`` levels down from the context element (which
    is level 1). One child step per level, evaluated by libxml2 in C, linear in the elements
    (a level-by-level walk in Python cost 5-8 times more on real pages)."""
    return etree.XPath("boolean(" + "/".join(["*"] * (levels - 1)) + ")")


class _Builder:
    """Parser target building an lxml tree of any depth, for pages libxml2 would cut."""

    def __init__(self) -> None:
        self.root = etree.Element("html")
        self.stack: list[Any] = []
        self.last: Any = None  # where text goes: (element, as its tail?)
        self.tail = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else etree.Element("detached")
        if not self.stack and len(self.root) == 0 and tag == "html":
            el = self.root
        else:
            el = etree.SubElement(parent, _safe_tag(tag))
        for name, value in attrib.items():
            try:
                el.set(name, value)
            except ValueError:  # a name XML refuses ("<p 2=x>"): not one our rules read
                continue
        self.stack.append(el)
        self.last, self.tail = el, False

    def end(self, tag: str) -> None:
        if self.stack:
            self.last, self.tail = self.stack.pop(), True

    def data(self, text: str) -> None:
        if self.last is None:
            return
        if self.tail:
            self.last.tail = (self.last.tail or "") + text
        else:
            self.last.text = (self.last.text or "") + text

    def close(self) -> Any:
        return self.root


def _safe_tag(tag: str) -> str:
    try:
        etree.Element(tag)
    except ValueError:
        return "span"
    return tag


def _rebuilt(markup: str) -> Any:
    builder = _Builder()
    parser = etree.HTMLParser(target=builder, recover=True, remove_comments=True)
    parser.feed(markup)
    return parser.close()


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
        _too_deep(max_depth)
    if counter.elements > max_elements:
        raise ExtractError(
            f"page has over {_count(max_elements)} HTML elements, the limit: a policy is "
            "never this large (broken or hostile page?); raise --max-elements if it is real"
        )


def _too_deep(max_depth: int) -> None:
    raise ExtractError(
        f"page nests elements over {max_depth:,} levels deep, the limit (browsers stop "
        "at 512): broken or hostile page; raise max_depth if it is real"
    )


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _count(n: int) -> str:
    return f"{n / 1_000_000:g} million" if n >= 1_000_000 else f"{n:,}"
