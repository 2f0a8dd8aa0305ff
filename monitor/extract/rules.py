"""What counts as page chrome (used by monitor.extract.html).

Chrome is what changes between two fetches of an unchanged policy
(menus, cookie banners, clocks, "trending" boxes, hidden pop-ups, scripts), so dropping it is
what keeps the monitor from reporting noise. Every rule that looks at attributes rather than
at the tag is guarded by the element's share of the page's text: a container that holds a
large part of the words is the policy, whatever its class names say. And inside the
policy's content (<main>, <article>, the selected or detected content block) a section of
prose with no controls is policy text even when its id or class names cookies or consent:
privacy policies have sections with exactly those ids. So is such a section hidden
(``hidden``, ``aria-hidden``, ``display: none``): a collapsed accordion panel is text the
reader unfolds with a click, as a closed <details>, and policies put whole chapters in
them (an AI-training clause added to one must not go unseen); a hidden block with
controls, pinned over the page, with a dialog's role or of few words stays out.

The tree is lxml's (monitor.extract.limits.parse): text lives in an element's ``text`` and
in its children's ``tail``; an element is removed with :func:`drop`, which keeps its tail.
Every walk keeps its own stack or works bottom-up over one list of elements, and no
element looks at all its ancestors or descendants, so a page nested thousands of levels
deep costs time linear in its elements and never meets Python's recursion limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, NamedTuple

from lxml import etree

# An lxml element (lxml ships no type hints: Any to mypy).
Tag = Any
# An element's attributes: a dict of them, or lxml's ``attrib`` (anything with get and in).
Attrs = Mapping[str, str]
_NO_ATTRIBUTES: Attrs = {}

# Never readable text, wherever they are.
ALWAYS_DROP = frozenset(
    "script style noscript template svg math iframe frame frameset object embed canvas video "
    "audio map head title meta link base input button select option optgroup textarea "
    "datalist output progress meter dialog".split()
)
# Ruby annotations (the reading printed above a word): extractor version 2, built on
# BeautifulSoup, never counted their text (bs4 keeps it apart from plain strings).
RUBY_NOTES = frozenset({"rt", "rp"})
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

# Form controls: a block holding one (an "Accept all" button) is an interface, not prose.
CONTROL_TAGS = frozenset({"button", "input", "select", "textarea"})
CONTROLS_MARK = "data-monitor-controls"  # set on the ancestors of a dropped control
# Prose: this many words with at least one sentence this long, within the first
# PROSE_LOOKAHEAD nodes of the element (enough for a heading and a paragraph).
PROSE_WORDS = 20
SENTENCE_WORDS = 8
PROSE_LOOKAHEAD = 400

# Consent platforms' containers, named in one word ("CybotCookiebotDialog", camelCase ids
# are not split) or in words of their own ("qc-cmp2-container"): found anywhere in the
# lower-cased names (also hints: the words are checked after the hint).
CONSENT_VENDORS = (
    "onetrust cookiebot didomi usercentrics trustarc truste- qc-cmp osano- iubenda "
    "cookieyes cky-consent sp_message cmpbox".split()
)
_CONSENT_VENDOR = re.compile("|".join(re.escape(name) for name in CONSENT_VENDORS))
# Searched in lower-cased names: an IGNORECASE alternation is 15x slower on the long class
# lists of utility-CSS pages.
_CHROME_HINT = re.compile("|".join([*sorted(CHROME_WORDS), *map(re.escape, CONSENT_VENDORS)]))
_HIDDEN_STYLE = re.compile(r"display:\s*none|visibility:\s*hidden", re.I)
_OVERLAY_STYLE = re.compile(r"position:\s*(?:fixed|sticky)", re.I)
_SENTENCE_END = re.compile(r"[.!?;:](?:\s+|$)")
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


_NEVER_TEXT = tuple(sorted(ALWAYS_DROP | RUBY_NOTES))
_CONTROLS = tuple(sorted(CONTROL_TAGS))


class Stats(NamedTuple):
    """Text measures of one element: characters (whitespace excluded), those inside links,
    and how many links go elsewhere / to an anchor of the same page."""

    text: int
    link_text: int
    links: int
    anchors: int
    holds_content: bool = False  # a <main> or <article> lies somewhere inside


_ASCII_SPACES = " \t\n\r\f"


def chars(text: str | None) -> int:
    """Characters of a text node, spaces and newlines not counted; a node of nothing but
    whitespace counts nothing (as BeautifulSoup, which reduced it to one space, counted)."""
    if not text:
        return 0
    n = len(text) - text.count(" ") - text.count("\n")
    if n and not text.strip(_ASCII_SPACES):
        return 0
    return n


def measure(root: Tag) -> dict[Tag, Stats]:
    """Stats of every element under ``root`` (and of root), keyed by element, in one pass
    (the hot loop of extraction: text counts inlined, tuples made without a Python call)."""
    stats: dict[Tag, Stats] = {}
    new, spaces = tuple.__new__, _ASCII_SPACES
    content = set(root.iter(*CONTENT))
    for el in reversed(list(root.iter())):  # children before their parents
        s = el.text
        text = len(s) - s.count(" ") - s.count("\n") if s else 0
        if text and not s.strip(spaces):
            text = 0
        link_text = links = anchors = 0
        holds = False
        for child in el:
            sub = stats[child]
            s = child.tail
            if s:
                n = len(s) - s.count(" ") - s.count("\n")
                if n and s.strip(spaces):
                    text += n
            text += sub[0]
            link_text += sub[1]
            links += sub[2]
            anchors += sub[3]
            holds = holds or sub[4] or child in content
        if el.tag == "a" or el.get("role") in CLICKABLE_ROLES:
            link_text = text
            in_page = "#" in (el.get("href") or "")
            links, anchors = links + (not in_page), anchors + in_page
        stats[el] = new(Stats, (text, link_text, links, anchors, holds))
    return stats


def _class_words(el: Tag) -> Iterator[str]:
    # camelCase is split for classes only: ids are often section anchors such as
    # "ConsentWeProcessYour" that must not read as "consent".
    for token in (el.get("class") or "").split():
        for part in _SPLIT.split(_CAMEL.sub("-", token)):
            yield part.lower()
    ident = el.get("id")
    if ident is not None:
        yield from (part.lower() for part in _SPLIT.split(ident))


def is_hidden(el: Tag) -> bool:
    return _hidden(el.attrib)


def _hidden(attrs: Attrs) -> bool:
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    classes = attrs.get("class")
    if classes and not SCREEN_READER_ONLY.isdisjoint(classes.split()):
        return True
    return bool(_HIDDEN_STYLE.search(attrs.get("style") or ""))


def is_content_tag(el: Tag) -> bool:
    return el.tag in CONTENT or el.get("role") == "main"


def is_chrome(el: Tag, in_main: bool = False) -> bool:
    """Chrome by tag, role, class or id, or hidden (share guard applied by the caller);
    ``in_main``: the element lies inside a <main>/<article>."""
    if el.tag in CHROME_TAGS:
        return not (el.tag == "header" and in_main)
    return _chrome_by_attributes(el, el.tag, el.attrib)


def _chrome_by_attributes(el: Tag, tag: str, attrs: Attrs) -> bool:
    """is_chrome of an element whose tag is not a chrome tag, from its attributes (a dict
    made once per element by the chrome walk, or lxml's attrib)."""
    if (attrs.get("role") or "").lower() in CHROME_ROLES or _hidden(attrs):
        return True
    if _OVERLAY_STYLE.search(attrs.get("style") or ""):
        return True  # pinned over the page: a banner, a bar, a chat button (never prose)
    if tag == "a" and (attrs.get("href") or "").startswith("#") and _is_skip_link(el):
        return True
    return _named(el, attrs)


def _named(el: Tag, attrs: Attrs) -> bool:
    names = (attrs.get("class") or "") + " " + (attrs.get("id") or "")
    if not _CHROME_HINT.search(names.lower()):  # most elements: no need to split their names
        return False
    if _CONSENT_VENDOR.search(names.lower()):
        return True
    return any(word in CHROME_WORDS for word in _class_words(el))


def _is_skip_link(el: Tag) -> bool:
    words = " ".join(s.strip() for s in el.itertext() if s.strip())
    return words.lower().startswith("skip to")


def is_policy_prose(el: Tag, st: Stats, words: int = PROSE_WORDS) -> bool:
    """A block of sentences a reader reads, not an interface: no form controls or buttons,
    not pinned over the page, mostly words outside links, and prose (PROSE_WORDS words
    with a sentence of SENTENCE_WORDS words) near its start. A cookie banner is short or
    has its "Accept" buttons; a "Cookies" section of a privacy policy is neither."""
    if el.get(CONTROLS_MARK) is not None or _OVERLAY_STYLE.search(el.get("style") or ""):
        return False
    if 2 * st.link_text > st.text:
        return False
    strings = _leading_strings(el)
    if strings is None:
        return False
    text = " ".join(strings)
    if len(text.split()) < words:
        return False
    return any(len(s.split()) >= SENTENCE_WORDS for s in _SENTENCE_END.split(text))


def _leading_strings(el: Tag) -> list[str] | None:
    """The text nodes among the first PROSE_LOOKAHEAD nodes (elements and text nodes, in
    document order) inside ``el``; None when one of those elements is a control."""
    strings: list[str] = []
    seen = 0
    for event, node in etree.iterwalk(el, events=("start", "end")):
        here = node is not el
        if event == "start":
            if here:
                seen += 1
                if seen > PROSE_LOOKAHEAD:
                    break
                if _is_control(node):
                    return None
            text = node.text
        else:
            text = node.tail if here else None
        if text:
            seen += 1
            if seen > PROSE_LOOKAHEAD:
                break
            strings.append(text)
    return strings


def _is_control(el: Tag) -> bool:
    """A button in disguise: role=button, or a link that goes nowhere (script handlers)."""
    if el.get("role") == "button":
        return True
    if el.tag != "a":
        return False
    href = el.get("href", "-").strip().lower()
    return href in ("", "#") or href.startswith("javascript:")


def drop(el: Tag) -> None:
    """Remove ``el`` and what it holds from the tree, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        before = el.getprevious()
        if before is None:
            parent.text = (parent.text or "") + tail
        else:
            before.tail = (before.tail or "") + tail
    parent.remove(el)


def prune(root: Tag, unwanted: Callable[[Tag], bool]) -> None:
    """Remove every element under ``root`` for which ``unwanted`` says so, outermost first
    (what lies inside a removed element is never looked at)."""
    stack = [root]
    while stack:
        for child in list(stack.pop()):
            if unwanted(child):
                drop(child)
            else:
                stack.append(child)


def open_shadow_roots(root: Tag) -> None:
    """``<template shadowrootmode="open|closed">`` (``shadowroot``, its first name) is not
    inert: the browser attaches its content to the parent as a shadow root and shows it
    (Chromium 111+, Firefox 123+, Safari 16.4+). Read as the ``div`` it is drawn as; the
    host's own children are read too (shown only where the root has a slot)."""
    for el in list(root.iter("template")):
        if el.get("shadowrootmode") is not None or el.get("shadowroot") is not None:
            el.tag = "div"


_OVERRIDE_STYLE = re.compile(r"unicode-bidi:\s*bidi-override", re.I)
_RTL_STYLE = re.compile(r"direction:\s*rtl", re.I)
_MAY_OVERRIDE = etree.XPath("//bdo | //*[contains(@style, 'bidi')]")  # (found by libxml2)


def write_overrides(root: Tag) -> None:
    """``<bdo dir="rtl">`` and an inline ``unicode-bidi: bidi-override; direction: rtl``
    draw their letters right to left ("sledom IA" shows "AI models"): their text is put
    between RIGHT-TO-LEFT OVERRIDE and POP DIRECTIONAL FORMATTING, the characters that
    say so in text, which the rules read as shown (classify/visible.py)."""
    for el in _MAY_OVERRIDE(root):
        if el.tag == "bdo":
            if (el.get("dir") or "").strip().lower() != "rtl":
                continue
        else:
            style = el.get("style") or ""
            if "bidi" not in style or not (_OVERRIDE_STYLE.search(style)
                                           and _RTL_STYLE.search(style)):  # fmt: skip
                continue
        el.text = "\u202e" + (el.text or "")
        last = el[-1] if len(el) else None
        if last is None:
            el.text += "\u202c"
        else:
            last.tail = (last.tail or "") + "\u202c"


def drop_always(root: Tag) -> None:
    """Remove what is never text (the outermost such elements: what lies inside one is
    never looked at); the ancestors of a removed form control are marked (CONTROLS_MARK),
    so that an interface is still told from prose once it is gone. libxml2 finds and
    removes the elements (``strip_elements`` keeps each one's tail, as :func:`drop`); only
    the controls are looked at in Python. A template that is a declarative shadow root
    is shown by browsers in its host: it is read as a ``div`` (:func:`open_shadow_roots`)."""
    open_shadow_roots(root)
    write_overrides(root)
    for el in root.iter(*_CONTROLS):
        if next(el.iterancestors(*_NEVER_TEXT), None) is not None:
            continue  # inside another one, removed with it
        for parent in el.iterancestors():  # stops at the first marked one: linear
            if parent.get(CONTROLS_MARK) is not None:
                break
            parent.set(CONTROLS_MARK, "")
    etree.strip_elements(root, *_NEVER_TEXT, with_tail=False)


def drop_chrome(
    root: Tag,
    keep: AbstractSet[Tag] = frozenset(),
    *,
    content: Tag | None = None,
    in_content: bool = False,
    in_main: bool | None = None,
    stats: dict[Tag, Stats] | None = None,
) -> list[tuple[Tag, Stats]]:
    """Remove chrome under ``root`` unless it holds over MAX_CHROME_SHARE of root's text;
    returns each removed element's former parent with the removed element's stats.

    ``keep``: elements never removed (the selected blocks). ``content``: the block
    detected as the policy; ``in_content``: all of root is the policy (a selected block).
    Inside either, or inside <main>/<article>, prose named like chrome stays
    (is_policy_prose). ``in_main``: root lies inside a <main>/<article> (found from its
    ancestors when not given). ``stats``: measure(root), when already made."""
    stats = measure(root) if stats is None else stats
    total = stats[root].text
    tag_most, most = TAG_CHROME_SHARE * total, MAX_CHROME_SHARE * total

    def unwanted(el: Tag, tag: str, attrs: Attrs, in_main: bool, inside: bool) -> bool:
        if el in keep:
            return False
        st = stats[el]
        if tag in CHROME_TAGS:  # marked up as chrome by the page's author
            chrome = st.text <= tag_most and is_chrome(el, in_main)
        elif st.text > most:
            chrome = False
        elif not attrs:  # no class, id, role, style or href: only a link list
            chrome = is_link_list(st)
        elif _chrome_by_attributes(el, tag, attrs):
            chrome = not ((inside or in_main) and _folded(el, attrs) and _kept_prose(el, st))
        else:
            chrome = is_link_list(st)
        return chrome and not st.holds_content

    if in_main is None:
        in_main = any(is_content_tag(p) for p in root.iterancestors())
    removed = _prune_in_context(root, unwanted, in_main, in_content, content)
    return [(parent, stats[el]) for parent, el in removed]


def discount(stats: dict[Tag, Stats], removed: list[tuple[Tag, Stats]]) -> None:
    """Update ``stats`` (made by measure) in place after elements were removed: each
    removed element's text, link text and links no longer count in its ancestors, as a
    new measure would find (whether a <main> lies inside is left as it was). Linear in
    the removed elements times their depth, where a new measure walks the whole tree."""
    for parent, gone in removed:
        text, link_text, links, anchors = gone.text, gone.link_text, gone.links, gone.anchors
        node = parent
        while node is not None and node in stats:
            old = stats[node]
            new_text = old.text - text
            if node.tag == "a" or node.get("role") in CLICKABLE_ROLES:
                new_link = new_text  # a link's words are all link words
                link_text = old.link_text - new_link
            else:
                new_link = old.link_text - link_text
            stats[node] = Stats(new_text, new_link, old.links - links, old.anchors - anchors,
                                old.holds_content)  # fmt: skip
            text = old.text - new_text
            node = node.getparent()


def _folded(el: Tag, attrs: Attrs) -> bool:
    """Chrome by its name (``cookies``, ``modal``...) or hidden (``hidden``, ``aria-hidden``,
    ``display: none``) but neither by its role nor hidden for sight only (``sr-only``):
    inside the policy's content, such an element holding prose is a section of the
    policy (a "Cookies" section; an accordion's collapsed panel, which scripts and
    ``hidden="until-found"`` unfold, as ``<details>``): the caller keeps it then."""
    if _roled(el) or _CONSENT_VENDOR.search(f"{attrs.get('class')} {attrs.get('id')}".lower()):
        return False  # a consent platform's box is never a section of the policy
    classes = attrs.get("class")
    return not (classes and not SCREEN_READER_ONLY.isdisjoint(classes.split()))


def _kept_prose(el: Tag, st: Stats) -> bool:
    """Prose a folded element keeps: PROSE_WORDS words, or, for the answer to a question
    right before it (:func:`_answers`), one sentence of SENTENCE_WORDS."""
    if is_policy_prose(el, st):
        return True
    return _answers(el) and is_policy_prose(el, st, words=SENTENCE_WORDS)


def _answers(el: Tag) -> bool:
    """A block right after what toggles it open: a heading, a <dt>, an element that says
    it expands (``aria-expanded``) or holding one (an accordion's button in its heading).
    A tooltip or a hint follows the text it explains, not a question. Looked at locally
    (its previous sibling and that one's children), so a page of many panels stays linear."""
    if el.tag not in BLOCK_TAGS or el.tag in _HEADINGS:
        return False
    before = el.getprevious()
    if before is None or not isinstance(before.tag, str):
        return False
    if before.tag in _HEADINGS or before.get("role") == "heading" or _expands(before):
        return str(el.tag) != "dt"
    return len(before) <= _FEW_CHILDREN and any(_expands(child) for child in before)


def _expands(el: Tag) -> bool:
    return el.get("aria-expanded") is not None or el.tag == "dt"


_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_FEW_CHILDREN = 3


def _roled(el: Tag) -> bool:
    return (el.get("role") or "").lower() in CHROME_ROLES


def _prune_in_context(
    root: Tag,
    unwanted: Callable[[Tag, str, Attrs, bool, bool], bool],
    in_main: bool,
    inside: bool,
    content: Tag | None,
) -> list[tuple[Tag, Tag]]:
    """prune() that tells ``unwanted`` whether the element lies inside a <main>/<article>
    (or role=main) and inside the content block, without walking its ancestors; returns
    the (parent, element) pairs it removed. Each element's attributes are read from
    libxml2 once, into a dict (one call, where each attribute looked up was one)."""
    removed: list[tuple[Tag, Tag]] = []
    stack = [(root, in_main or is_content_tag(root), inside or root is content)]
    while stack:
        node, node_in_main, node_inside = stack.pop()
        for child in list(node):
            tag = child.tag
            items = child.items()
            attrs = dict(items) if items else _NO_ATTRIBUTES
            if unwanted(child, tag, attrs, node_in_main, node_inside):
                removed.append((node, child))
                drop(child)
                continue
            child_in_main = node_in_main or tag in CONTENT or attrs.get("role") == "main"
            child_inside = node_inside or child is content
            stack.append((child, child_in_main, child_inside))
    return removed


def is_link_list(st: Stats) -> bool:
    """Nearly all words are short links to other pages: a menu, a footer, a language list.
    In-page anchors (a table of contents) and long link titles (a list of the other notices a
    policy incorporates) are the policy's own words and stay."""
    if st.links < LINK_LIST_MIN or st.link_text < LINK_LIST_SHARE * st.text:
        return False
    return st.link_text <= LINK_LIST_CHARS * (st.links + st.anchors)
