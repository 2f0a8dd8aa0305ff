"""Diffs: readable renderings (data-driven) and ops that rebuild both texts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.diff import diff_texts, words_key

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "diff_cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rendering(case: dict[str, Any]) -> None:
    assert diff_texts(case["old"], case["new"]).rendered == case["rendered"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_ops_rebuild_both_texts(case: dict[str, Any]) -> None:
    diff = diff_texts(case["old"], case["new"])
    assert "".join(t for op, t in diff.ops if op <= 0) == case["old"]
    assert "".join(t for op, t in diff.ops if op >= 0) == case["new"]
    assert diff.is_empty == (case["old"] == case["new"])


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
