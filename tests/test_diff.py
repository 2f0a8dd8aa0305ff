"""Diffs: readable renderings (data-driven) and ops that rebuild both texts."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.diff import diff_texts, words_key

DATA = Path(__file__).parent / "data"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "diff_cases.yaml").read_text())
BUDGET_CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "diff_budget_cases.yaml").read_text())
SLACK_SECONDS = 10.0  # loose: linear work on a megabyte of text, on a loaded 2-core machine
WORDS = "data account service process share train model partner cookie right law".split()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rendering(case: dict[str, Any]) -> None:
    assert diff_texts(case["old"], case["new"]).rendered == case["rendered"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_ops_rebuild_both_texts(case: dict[str, Any]) -> None:
    diff = diff_texts(case["old"], case["new"])
    assert "".join(t for op, t in diff.ops if op <= 0) == case["old"]
    assert "".join(t for op, t in diff.ops if op >= 0) == case["new"]
    assert diff.is_empty == (case["old"] == case["new"])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_a_pair_diffed_again_gets_the_same_diff(case: dict[str, Any]) -> None:
    first = diff_texts(case["old"], case["new"])
    again = diff_texts(str(case["old"]), str(case["new"]))  # remembered: ops cut from the texts
    assert again == first


def test_added_and_removed_passages() -> None:
    diff = diff_texts(
        "We collect data.\nContact us.", "We collect data.\nWe train AI.\nContact us."
    )
    assert diff.added == ("We train AI.",)
    assert diff.removed == ()


@pytest.mark.parametrize(
    "old,new,same",
    [
        ("Intro\nWe use data", "Intro\n## We use data", True),
        ("- one\n- two", "1. one\n2) two", True),
        ("a  b\nc", "a b c", True),
        ("We use data", "We use your data", False),
        ("# 2024 report", "2025 report", False),
    ],
)
def test_words_key_ignores_layout_only(old: str, new: str, same: bool) -> None:
    assert (words_key(old) == words_key(new)) is same


def generated(case: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Old and new paragraphs of a budget case (seeded, so every run diffs the same)."""
    r = random.Random(case["id"])
    words = 200_000 if case["change"].startswith("huge-line") else 80

    def para() -> str:
        return " ".join(r.choice(WORDS) for _ in range(words)) + "."

    old = [para() for _ in range(case["paragraphs"])]
    change = case["change"]
    if change in ("rewrite", "huge-line"):
        return old, [para() for _ in old]
    if change == "rewrite-drop":
        return old, [para() for _ in old[1:]]
    if change == "repeated-word-line":  # quadratic clean-up on repetitive text: minutes
        return ["x " + "a " * 250_000], ["y " + "a " * 249_000 + "z"]
    if change == "repeated-lines":
        return ["x"] + ["a"] * 250_000, ["y"] + ["a"] * 249_000 + ["z"]
    if change == "huge-line-one-word":
        return old, [old[0].replace(" ", " changed ", 1)]
    return old, [p.replace(" ", " personal ", 1) + " We may update this." for p in old]


@pytest.mark.parametrize("case", BUDGET_CASES, ids=[c["id"] for c in BUDGET_CASES])
def test_budget_case(case: dict[str, Any]) -> None:
    old_paras, new_paras = generated(case)
    old, new = "\n".join(old_paras), "\n".join(new_paras)
    start = time.perf_counter()
    diff = diff_texts(old, new, budget_seconds=case["budget_seconds"])
    assert time.perf_counter() - start < case["budget_seconds"] + SLACK_SECONDS
    assert "".join(t for op, t in diff.ops if op <= 0) == old
    assert "".join(t for op, t in diff.ops if op >= 0) == new
    if case.get("whole_lines"):
        added_lines = set("\n".join(diff.added).split("\n"))
        assert set(new_paras) - set(old_paras) <= added_lines
    if case.get("inline_first"):
        first = next(line for line in diff.rendered.splitlines() if "{+" in line)
        assert not first.startswith(("{+", "[-")) and "[-" not in first
    if "max_added_chars" in case:
        assert 0 < sum(map(len, diff.added)) <= case["max_added_chars"]
