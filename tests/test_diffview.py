"""A change page's diff view (monitor/publish/site/diffview.py) shows each piece of text as
it was shown before it took one pass over it: every code point, and ops cut from the diff's
lengths equal to the diff's own ops."""

from __future__ import annotations

import pytest

from monitor.diff import INVISIBLE, diff_texts
from monitor.publish.entry_html import visible
from monitor.publish.site.diffview import diff_ops, shown


def three_passes(text: str) -> str:
    return visible(INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text))


def test_every_code_point_is_shown_as_in_three_passes() -> None:
    # Both are maps of single characters, whose images never hold "a" (they are "", the
    # character, or "<U+XXXX>"): the two texts are equal only if every character's are.
    every = "a".join(map(chr, range(0x110000)))
    assert shown(every) == three_passes(every)
    odd = "x\u200by\x00z\u202e"
    assert shown(odd) == "x<U+200B>yz<U+202E>" == three_passes(odd)


@pytest.mark.parametrize(
    "old,new",
    [
        ("", "One line.\n"),
        ("We keep data.\nWe share it.\n", "We keep data.\nWe train AI models on it.\n"),
        ("a\u200bb\n\nc\n", "a\u200bb\n\nc d\n\x00\n"),
        ("Same.\n" * 50, "Same.\n" * 25 + "New.\n" + "Same.\n" * 25),
    ],
)
def test_ops_cut_from_the_lengths_are_the_diffs_ops(old: str, new: str) -> None:
    assert diff_ops(old, new) == diff_texts(old, new).ops
