"""Markdown versions (Open Terms Archive) render to the same HTML whether a paragraph's inline
parse is remembered from an earlier version or not, and whether table rows are split by our
regex or by markdown-it's own loop: every corpus version, rendered after the others, equals a
fresh markdown-it rendering; a document with link references is parsed as usual."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from markdown_it import MarkdownIt

from monitor.extract import markdown
from monitor.extract.markdown import escaped_split, markdown_page
from tests.import_scoring import CORPUS
from tests.shared import need

table: Any = import_module("markdown_it.rules_block.table")  # the package's name is the rule
PAGE = "<!doctype html><html><body><main><article>{}</article></main></body></html>"


@pytest.fixture(autouse=True)
def library_split() -> Iterator[None]:
    markdown._renderer()  # replaces markdown-it's splitter (kept in LIBRARY_SPLIT)
    assert markdown.LIBRARY_SPLIT and table.escapedSplit is escaped_split
    yield
    assert table.escapedSplit is escaped_split


def fresh(text: str) -> str:
    """markdown-it's rendering with its own table row splitter, as installed."""
    table.escapedSplit = markdown.LIBRARY_SPLIT[0]
    try:
        return PAGE.format(MarkdownIt("commonmark").enable("table").render(text))
    finally:
        table.escapedSplit = escaped_split


def test_table_rows_split_as_markdown_it_splits_them() -> None:
    """Every string of up to 8 of a, |, \\ and 20,000 random ones, every corpus line."""
    original = markdown.LIBRARY_SPLIT[0]
    rows = ["".join(t) for n in range(9) for t in itertools.product("a|\\", repeat=n)]
    rng = random.Random(14)
    rows += ["".join(rng.choices("ab |\\\n\u00e9", k=rng.randint(0, 40))) for _ in range(20_000)]
    for manifest in sorted(need(CORPUS / "versions").glob("*/manifest.json")):
        for v in json.loads(manifest.read_text())["versions"]:
            rows += (manifest.parent / v["file"]).read_text().splitlines()
    assert sum("|" in row for row in rows) > 10_000
    for row in rows:
        assert escaped_split(row) == original(row), repr(row)


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
