"""Markdown (an Open Terms Archive version) to the HTML page it stands for (the one module
using markdown-it-py). CommonMark with tables, as Open Terms Archive writes its versions and
as the evaluation renders them; the policy goes inside <main><article>, so the extractor
reads it as it reads a published policy page.

Successive versions of a policy share most of their paragraphs, and an imported history
renders hundreds of versions: the inline parse of a paragraph (most of markdown-it's time) is
remembered by its text. It depends on nothing else unless the document defines link
references (then every paragraph is parsed as usual), so the HTML is the same byte for byte
(every corpus version: tests/test_extract_markdown.py). A remembered paragraph is joined
("text_join") once and rendered once too (import6: markdown 4.8 -> 3.6 s CPU for the 391
corpus versions; before, "text_join" copied every remembered list and dropped the memory).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})
# Paragraphs (inline texts) remembered; past it the memory starts again (a few MB).
MAX_REMEMBERED = 50_000
_INLINE: dict[str, list[Token]] = {}
# A table row's cell separators: a pipe not right after a backslash.
_CELL_PIPE = re.compile(r"(?<!\\)\|")
LIBRARY_SPLIT: list[Callable[[str], list[str]]] = []  # markdown-it's own, once replaced


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # Imported here: only markdown pages need it, and it costs every check 50-100 ms.
    from importlib import import_module

    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML

    class Renderer(RendererHTML):
        def renderInline(self, tokens: Sequence[Token], options: Any, env: Any) -> str:  # noqa: N802
            if not isinstance(tokens, _Remembered):
                return super().renderInline(tokens, options, env)
            if tokens.html is None:
                tokens.html = super().renderInline(tokens, options, env)
            return tokens.html

    table: Any = import_module("markdown_it.rules_block.table")  # the package's name is the rule

    # Raw HTML inside the markdown passes through as CommonMark says; the extractor then
    # treats it as any page's markup (scripts, hidden elements and chrome dropped).
    md = MarkdownIt("commonmark", renderer_cls=Renderer).enable("table")
    md.core.ruler.at("inline", _remembered_inline)
    md.core.ruler.at("text_join", _join_fresh)
    if table.escapedSplit is not escaped_split:  # the table rule's splitter, at C speed
        LIBRARY_SPLIT.append(table.escapedSplit)
        table.escapedSplit = escaped_split
    return md


def escaped_split(row: str) -> list[str]:
    """The cells of a table row as markdown-it's ``escapedSplit`` cuts them (a pipe not
    after a backslash separates two cells; an escaped pipe stays in its cell without the
    backslash), by one regex instead of a Python loop over each character: a third of the
    block parse of a policy with long table rows. The same lists for every string
    (tests/test_extract_markdown.py compares the two)."""
    return [cell.replace("\\|", "|") for cell in _CELL_PIPE.split(row)]


def _remembered_inline(state: StateCore) -> None:
    """markdown-it's core "inline" rule, each paragraph's tokens taken from memory when the
    same text was parsed before: already joined (the "text_join" rule finds nothing left to
    join in them), and never changed by rendering."""
    from markdown_it.rules_core import StateCore, inline, text_join

    if state.env.get("references"):  # a link may name a definition of this document
        inline(state)
        return
    for token in state.tokens:
        if token.type != "inline":
            continue
        children = _INLINE.get(token.content)
        if children is None:
            token.children = state.md.inline.parse(token.content, state.md, state.env, [])
            alone = StateCore("", state.md, state.env)
            alone.tokens = [token]
            text_join(alone)
            if len(_INLINE) >= MAX_REMEMBERED:
                _INLINE.clear()
            children = _INLINE[token.content] = _Remembered(token.children or [])
        token.children = children


def _join_fresh(state: StateCore) -> None:
    """markdown-it's core "text_join" rule for the paragraphs not taken from memory (those
    were joined once, when first parsed: joining them again would only copy their lists,
    and lose the HTML they remember)."""
    from markdown_it.rules_core import StateCore, text_join

    tokens = state.tokens
    fresh = [t for t in tokens if t.type == "inline" and not isinstance(t.children, _Remembered)]
    if fresh:
        alone = StateCore("", state.md, state.env)
        alone.tokens = fresh
        text_join(alone)


class _Remembered(list["Token"]):
    """A remembered paragraph's tokens, with their HTML once rendered: rendering depends
    on nothing else (the same renderer and options; link references, the one thing it reads
    from the document, turn the memory off), so each paragraph is rendered once too."""

    html: str | None = None


def markdown_page(markdown: str) -> str:
    """The markdown rendered as an HTML page whose main content is the text."""
    body = _renderer().render(markdown)
    return f"<!doctype html><html><body><main><article>{body}</article></main></body></html>"
