"""Attacks of branch attack8 (bench/HOSTILE.md, "attack8"): page content against the
AI-training flag, after attack7's round. Each flag case is a page served on 127.0.0.1 and
read with the real CLI; the cases live in tests/data/attacks8.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.classify.lookalike import latin
from monitor.classify.visible import shown
from tests.test_attacks_flag import Site, page, site  # noqa: F401 (the fixture)

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "data" / "attacks8.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES["lookalike"], ids=lambda case: case["name"])
def test_ai_training_wording_in_look_alike_letters_is_flagged_and_quoted_as_stored(
    site: Site,  # noqa: F811
    tmp_path: Path,
    case: dict[str, Any],
) -> None:
    """Attack: an AI-training sentence with a Cyrillic, Greek or Armenian letter drawn as
    a Latin one ("tr\\u0430in", "\\u0410I"). Once: a change recorded, no flag. Now the
    rules read the Latin letters a reader sees: flagged, the phrase as stored."""
    site.check(page())
    site.check(page(f"<p>{case['html']}</p>"))
    [change] = site.changes()
    assert change["ai_training"] is True, change
    [flag] = change["flags"]
    assert flag["phrase"] in flag["sentence"]
    assert latin(shown(flag["phrase"])) == case["reads"]
    assert not flag["phrase"].isascii()  # the stored letters, not the reading
    out = tmp_path / "evidence"
    assert site.cli("evidence", str(change["id"]), "--out", str(out)).code == 0
    [after] = out.glob("after-*-text.txt")
    assert flag["sentence"] in after.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES["lookalike_edit"], ids=lambda case: case["name"])
def test_a_letter_swapped_for_its_look_alike_raises_no_flag(
    site: Site,  # noqa: F811
    case: dict[str, Any],
) -> None:
    """Attack: a letter of an AI-training sentence already there swapped for its
    look-alike. Once: "AI-training language removed" (the rules no longer read it). Now
    the words are compared as a reader reads them: no flag."""
    site.check(page(f"<p>{case['before']}</p>"))
    site.check(page(f"<p>{case['after']}</p>"))
    assert [change for change in site.changes() if change["ai_training"]] == []


@pytest.mark.parametrize("text", CASES["foreign"])
def test_text_of_other_scripts_is_read_as_written(text: str) -> None:
    """Russian, Serbian, Greek and Armenian sentences hold letters that have Latin
    look-alikes ("а", "о", "ΚΑΙ", "ΤΟ"): none of them is read as Latin."""
    assert latin(text) == text


def test_look_alikes_are_read_one_for_one() -> None:
    """The reading is as long as the sentence: a match's span is its span as stored."""
    text = "We may tr\u0430in our \u0410\u0406 m\u0585dels and \u03bfther \u041c\u041e\u0414ELS."
    read = latin(text)
    assert len(read) == len(text)
    assert read == "We may train our AI models and other MO\u0414ELS."


@pytest.mark.parametrize(
    "html",
    [
        "We may use your public posts and photos to tr&shy;ain our AI mo&shy;dels.",
        "We may use your public posts and photos to tr\u200bain our A\u200dI models.",
        "We may use your public posts and photos to train our AI\u00ad\nmodels.",
    ],
    ids=["soft hyphens", "zero-width space and joiner", "soft hyphen at a line end"],
)
def test_first_seen_finds_a_typed_phrase_across_invisible_characters(
    site: Site,  # noqa: F811
    html: str,
) -> None:
    """Attack (attack7's "left"): the flag quotes "train our AI models", but the page
    writes it "tr&shy;ain". Once: `first-seen doc "train our AI models"` said "in none
    of its versions" (exit 1): the FTS5 index splits words at such characters, and the
    exact rule did not read through them. Now both do: the typed phrase is found in the
    version that added it, as is the phrase pasted with its soft hyphens."""
    site.check(page())
    site.check(page(f"<p>{html}</p>"))
    for typed in ("train our AI models", "TRAIN  our ai\nmodels", "public posts"):
        found = site.cli("first-seen", "doc", typed, "--json")
        assert found.code == 0, found.err
        assert json.loads(found.out)["version"] == 2
    [change] = site.changes()
    [flag] = change["flags"]
    pasted = site.cli("first-seen", "doc", flag["phrase"], "--json")
    assert pasted.code == 0, pasted.err
    assert json.loads(pasted.out)["version"] == 2
    missing = site.cli("first-seen", "doc", "train our AI", "--json")  # "AI models"? no:
    assert missing.code == 0  # "train our AI" is in it, whole words
    assert site.cli("first-seen", "doc", "rain our AI models").code == 1  # not a word start
