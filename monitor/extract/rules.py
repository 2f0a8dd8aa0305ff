"""What counts as page chrome, and how a cleaned HTML tree is rendered to lines of text.

Used by monitor.extract.html. Chrome is what changes between two fetches of an unchanged policy
(menus, cookie banners, clocks, "trending" boxes, hidden pop-ups, scripts), so dropping it is
what keeps the monitor from reporting noise. Every rule that looks at attributes rather than
at the tag is guarded by the element's share of the page's text: a container that holds a
large part of the words is the policy, whatever its class names say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from bs4 import Tag
from bs4.element import NavigableString, PageElement

# Never readable text, wherever they are.
ALWAYS_DROP = frozenset(
    "script style noscript template svg math iframe frame frameset object embed canvas video "
    "audio map head title meta link base input button select option optgroup textarea "
    "datalist output progress meter dialog".split()
)
# Page chrome by tag; header is kept inside <main>/<article> where it holds the title.
CHROME_TAGS = frozenset({"nav", "header", "footer", "aside", "form", "label", "menu"})
CHROME_ROLES = frozenset(
    "navigation banner contentinfo complementary menu menubar search dialog alertdialog "
    "tooltip toolbar".split()
)
# Whole words of class names / ids that name chrome (split on - _ . and camelCase).
CHROME_WORDS = frozenset(
    "cookie cookies consent gdpr banner breadcrumb breadcrumbs skip skiplink skiplinks menu "
    "navbar trending related share social newsletter popup modal tooltip langpicker "
    "language languages locale switcher picker".split()
)
# Classes that hide text from sight but not from screen readers ("opens in a new window").
SCREEN_READER_ONLY = frozenset(
    "sr-only visually-hidden visuallyhidden screen-reader-text screen-reader-only a11y-hidden "
    "assistive-text offscreen".split()
)
BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details div dl dt fieldset "
    "figcaption figure footer h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main nav ol p "
    "pre section summary table tbody tfoot thead tr ul".split()
)
CELL = "\x00"  # marks a table cell start in the line buffer; decoded text never holds it

_CHROME_HINT = re.compile("|".join(sorted(CHROME_WORDS)), re.I)
_HIDDEN_STYLE = re.compile(r"display:\s*none|visibility:\s*hidden", re.I)
_SPLIT = re.compile(r"[-_.:/\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# A share of the page's text above which an element is content, never chrome: for chrome
# found by attributes and link density, and for <nav>/<header>/<footer>/<aside>/<form>
# (a page wrapped in one <form> still has its text).
MAX_CHROME_SHARE = 0.2
TAG_CHROME_SHARE = 0.5
LINK_LIST_MIN = 4
LINK_LIST_SHARE = 0.85
LINK_LIST_CHARS = 20  # menu labels are short: at most this many characters per link on average
CONTENT = ("main", "article")
# Scripted pages build links and menu items from divs; for link density they are links.
CLICKABLE_ROLES = frozenset({"link", "button", "menuitem", "tab", "option"})


class Stats(NamedTuple):
    """Text measures of one element: characters (whitespace excluded), those inside links,
    and how many links go elsewhere / to an anchor of the same page."""

    text: int
    link_text: int
    links: int
    anchors: int


def measure(root: Tag) -> dict[int, Stats]:
    """Stats of every element under ``root`` (and of root), keyed by id(), in one pass."""
    stats: dict[int, Stats] = {}
    for el in [*root.find_all(True)[::-1], root]:  # children before their parents
        text = link_text = links = anchors = 0
        for child in el.children:
            if type(child) is NavigableString:
                text += len(child) - child.count(" ") - child.count("\n")
            elif isinstance(child, Tag) and id(child) in stats:
                sub = stats[id(child)]
                text, link_text = text + sub.text, link_text + sub.link_text
                links, anchors = links + sub.links, anchors + sub.anchors
        if el.name == "a" or el.get("role") in CLICKABLE_ROLES:
            link_text = text
            in_page = "#" in str(el.get("href", ""))
            links, anchors = links + (not in_page), anchors + in_page
        stats[id(el)] = Stats(text, link_text, links, anchors)
    return stats


def _class_words(el: Tag) -> Iterator[str]:
    # camelCase is split for classes only: ids are often section anchors such as
    # "ConsentWeProcessYour" that must not read as "consent".
    for token in el.get("class") or ():
        for part in _SPLIT.split(_CAMEL.sub("-", token)):
            yield part.lower()
    ident = el.get("id")
    if isinstance(ident, str):
        yield from (part.lower() for part in _SPLIT.split(ident))


def is_hidden(el: Tag) -> bool:
    if el.has_attr("hidden") or str(el.get("aria-hidden", "")).lower() == "true":
        return True
    if not SCREEN_READER_ONLY.isdisjoint(el.get("class") or ()):
        return True
    return bool(_HIDDEN_STYLE.search(str(el.get("style", ""))))


def _in_content(el: Tag) -> bool:
    return any(p.name in ("main", "article") or p.get("role") == "main" for p in el.parents)


def is_chrome(el: Tag) -> bool:
    """Chrome by tag, role, class or id, or hidden (share guard applied by the caller)."""
    if el.name in CHROME_TAGS:
        return not (el.name == "header" and _in_content(el))
    if str(el.get("role", "")).lower() in CHROME_ROLES or is_hidden(el):
        return True
    if el.name == "a" and str(el.get("href", "")).startswith("#") and _is_skip_link(el):
        return True
    return _named_chrome(el)


def _named_chrome(el: Tag) -> bool:
    names = " ".join(el.get("class") or ()) + " " + str(el.get("id") or "")
    if not _CHROME_HINT.search(names):  # most elements: no need to split their names
        return False
    return any(word in CHROME_WORDS for word in _class_words(el))


def _is_skip_link(el: Tag) -> bool:
    return el.get_text(" ", strip=True).lower().startswith("skip to")


def prune(root: Tag, unwanted: Callable[[Tag], bool]) -> None:
    """Remove every element under ``root`` for which ``unwanted`` says so, outermost first
    (what lies inside a removed element is never looked at)."""
    stack = [root]
    while stack:
        for child in stack.pop().contents[:]:
            if not isinstance(child, Tag):
                continue
            if unwanted(child):
                child.decompose()
            else:
                stack.append(child)


def drop_always(root: Tag) -> None:
    prune(root, lambda el: el.name in ALWAYS_DROP)


def drop_chrome(root: Tag, keep: Iterable[Tag] = ()) -> None:
    """Remove chrome under ``root`` unless it holds over MAX_CHROME_SHARE of root's text."""
    kept = set(map(id, keep))
    stats = measure(root)
    total = stats[id(root)].text

    def unwanted(el: Tag) -> bool:
        if id(el) in kept:
            return False
        size = stats[id(el)].text
        if el.name in CHROME_TAGS:  # marked up as chrome by the page's author
            chrome = size <= TAG_CHROME_SHARE * total and is_chrome(el)
        else:
            named = is_chrome(el) or is_link_list(stats[id(el)])
            chrome = size <= MAX_CHROME_SHARE * total and named
        return chrome and el.find(CONTENT) is None

    prune(root, unwanted)


def is_link_list(st: Stats) -> bool:
    """Nearly all words are short links to other pages: a menu, a footer, a language list.
    In-page anchors (a table of contents) and long link titles (a list of the other notices a
    policy incorporates) are the policy's own words and stay."""
    if st.links < LINK_LIST_MIN or st.link_text < LINK_LIST_SHARE * st.text:
        return False
    return st.link_text <= LINK_LIST_CHARS * (st.links + st.anchors)


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
