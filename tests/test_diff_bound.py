"""The bound that lets an edited block skip its word diff changes no diff.

A block is shown rewritten when its word diff keeps under KEPT_RATIO of the shorter side;
monitor.diff skips the word diff when an exact upper bound on what any word diff can keep
(a common subsequence of the two sides' words) is already below that. Checked here on
seeded random blocks shaped like the corpus's (similar paragraphs, one paragraph against
many, unrelated ones over one vocabulary): the bound is never below what the diff keeps,
the bit-parallel LCS equals the textbook one, and every diff is the same with the bound
on for every block and with it off.
"""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from diff_match_patch import diff_match_patch

from monitor import diff

# A Zipf-like vocabulary: a few very common words (as in policies), many rare ones.
COMMON = ["the", "of", "and", "to", "your", "we", "data", "or", "in", "you", "may", "use"]
RARE = [f"w{i:03d}" + "x" * (i % 9) for i in range(300)]


def words(r: random.Random, count: int, common: float = 0.5) -> str:
    picks = [r.choice(COMMON) if r.random() < common else r.choice(RARE) for _ in range(count)]
    return " ".join(picks) + r.choice([".", ",", ";", ""])


def edited(r: random.Random, text: str) -> str:
    parts = text.split(" ")
    for _ in range(r.randint(1, max(1, len(parts) // 4))):
        at = r.randrange(len(parts))
        parts[at : at + r.randint(0, 3)] = words(r, r.randint(0, 4)).split(" ")
    return " ".join(parts)


def block_pair(seed: int) -> tuple[str, str]:
    """An edited block: removed and added lines, as the line diff hands them over."""
    r = random.Random(seed)
    shape = seed % 4
    old = [words(r, r.randint(5, 60)) for _ in range(r.randint(1, 4))]
    if shape == 0:  # similar: the same lines edited
        new = [edited(r, line) for line in old]
    elif shape == 1:  # lopsided: one side many times the other
        new = [words(r, r.randint(5, 60)) for _ in range(r.randint(8, 20))]
        new.insert(r.randrange(len(new)), edited(r, old[0]))
    elif shape == 2:  # unrelated, one vocabulary
        new = [words(r, r.randint(5, 60)) for _ in range(r.randint(1, 4))]
    else:  # partly kept
        new = [edited(r, line) if r.random() < 0.5 else words(r, 30) for line in old]
        new += [words(r, r.randint(5, 30)) for _ in range(r.randint(0, 3))]
    if r.random() < 0.5:
        old, new = new, old
    return "\n".join(old) + "\n", "\n".join(new) + "\n"


def textbook_lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = row[:]
        for j, y in enumerate(b):
            row[j + 1] = previous[j] + 1 if x == y else max(previous[j + 1], row[j])
    return row[-1]


@pytest.mark.parametrize("seed", range(300))
def test_bit_parallel_lcs_is_the_lcs(seed: int) -> None:
    r = random.Random(seed)
    alphabet = r.randint(1, 8)
    a = [str(r.randrange(alphabet)) for _ in range(r.randint(0, 70))]
    b = [str(r.randrange(alphabet)) for _ in range(r.randint(0, 70))]
    assert diff._lcs(a, b, time.time() + 60) == textbook_lcs(a, b)


@pytest.mark.parametrize("seed", range(200))
def test_bound_is_never_below_what_the_word_diff_keeps(seed: int) -> None:
    removed, added = block_pair(seed)
    old_words, new_words = diff.WORD.findall(removed), diff.WORD.findall(added)
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0
    ops = diff._word_diff(dmp, old_words, new_words, time.time() + 60)
    assert ops is not None
    kept = sum(len(text) for op, text in ops if op == 0)
    shared = Counter(old_words) & Counter(new_words)
    for target in (kept, kept + 0.5, kept / 2, kept * 2 + 1):
        bound = diff._ordered_bound(old_words, new_words, shared, target, time.time() + 60)
        assert bound >= min(kept, target), (target, bound, kept)


@pytest.mark.parametrize("seed", range(200))
def test_every_diff_is_the_same_with_the_bound(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    removed, added = block_pair(seed)
    context = "Intro line.\n"
    old, new = context + removed + context, context + added + context
    monkeypatch.setattr(diff, "BOUND_MIN_STEPS", 10**12)  # the bound off
    diff._MEMO.clear()
    without = diff.diff_texts(old, new, budget_seconds=60)
    monkeypatch.setattr(diff, "BOUND_MIN_STEPS", 0)  # on for every block
    diff._MEMO.clear()
    assert diff.diff_texts(old, new, budget_seconds=60) == without


def test_a_lopsided_block_skips_its_word_diff() -> None:
    """One paragraph against twenty: the two share most of the short side's words (so the
    shared-word count alone would run the diff), but not in an order that keeps 60 %."""
    r = random.Random(7)
    short = words(r, 60, common=0.2)
    long = "\n".join(words(r, 60, common=0.2) for _ in range(20))
    old_words, new_words = diff.WORD.findall(short), diff.WORD.findall(long)
    kept = diff.KEPT_RATIO * min(len(short), len(long))
    shared = Counter(old_words) & Counter(new_words)
    assert sum(len(w) * n for w, n in shared.items()) >= kept
    assert not diff._may_keep(old_words, new_words, kept, time.time() + 60)
    assert len(old_words) * len(new_words) >= diff.BOUND_MIN_STEPS


def test_the_bound_gives_up_at_the_deadline() -> None:
    """Past its deadline the LCS answers None and the bound lets the diff run (which then
    ends at once, as any diff past its deadline: removed and added shown whole)."""
    r = random.Random(3)
    a, b = words(r, 2000).split(" "), words(r, 2000).split(" ")
    assert diff._lcs(a, b, time.time() - 1) is None
    shared = Counter(a) & Counter(b)
    assert diff._ordered_bound(a, b, shared, 10.0, time.time() - 1) == 10.0
