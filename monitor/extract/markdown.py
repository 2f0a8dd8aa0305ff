"""Markdown (an Open Terms Archive version) to the HTML page it stands for (the one module
using markdown-it-py). CommonMark with tables, as Open Terms Archive writes its versions and
as the evaluation renders them; the policy goes inside <main><article>, so the extractor
reads it as it reads a published policy page."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # Imported here: only markdown pages need it, and it costs every check 50-100 ms.
    from markdown_it import MarkdownIt

    # Raw HTML inside the markdown passes through as CommonMark says; the extractor then
    # treats it as any page's markup (scripts, hidden elements and chrome dropped).
    return MarkdownIt("commonmark").enable("table")


def markdown_page(markdown: str) -> str:
    """The markdown rendered as an HTML page whose main content is the text."""
    body = _renderer().render(markdown)
    return f"<!doctype html><html><body><main><article>{body}</article></main></body></html>"
