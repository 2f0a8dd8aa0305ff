"""Markdown versions (Open Terms Archive) render to the same HTML whether a paragraph's inline
parse is remembered from an earlier version or not: every corpus version, rendered after the
others, equals a fresh markdown-it rendering; a document with link references is parsed as
usual."""

from __future__ import annotations

import json

from markdown_it import MarkdownIt

from monitor.extract import markdown
from monitor.extract.markdown import markdown_page
from tests.import_scoring import CORPUS
from tests.shared import need

PAGE = "<!doctype html><html><body><main><article>{}</article></main></body></html>"


def fresh(text: str) -> str:
    return PAGE.format(MarkdownIt("commonmark").enable("table").render(text))


def test_every_corpus_version_renders_as_a_fresh_markdown_it_does() -> None:
    texts: list[str] = []
    for manifest in sorted(need(CORPUS / "versions").glob("*/manifest.json")):
        entries = json.loads(manifest.read_text())["versions"]
        texts += dict.fromkeys((manifest.parent / v["file"]).read_text() for v in entries)
    assert len(texts) > 150
    remembered = [markdown_page(text) for text in texts]
    assert len(markdown._INLINE) > 1000  # paragraphs were remembered...
    again = [markdown_page(text) for text in texts]  # ... and taken from memory here
    assert remembered == again == [fresh(text) for text in texts]


def test_link_references_and_repeated_paragraphs_render_as_markdown_it_does() -> None:
    texts = [
        "See [the policy][p] and *this*.\n\n[p]: https://example.org/p\n",
        "See [the policy][p] and *this*.\n",  # the same paragraph, no definition: plain text
        "A \\*b\\* c `d` ![img *alt*](x.png) e\n\nA \\*b\\* c `d` ![img *alt*](x.png) e\n",
        "| a | b |\n|---|---|\n| *x* | [y](z) |\n\n| a | b |\n|---|---|\n| *x* | [y](z) |\n",
    ]
    for text in texts + texts:
        assert markdown_page(text) == fresh(text)
