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
from monitor.fetch.checks import same_site
from tests.httpserver import LocalServer
from tests.test_attacks_flag import Site, long_policy, page, site  # noqa: F401 (the fixture)

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


FAQ_ANSWER = "We keep your answer number {i} only as long as this policy says we need it."
FAQ_AI = "We may use your public posts to train our AI models."


def faq(case: dict[str, Any], ai: bool = False) -> bytes:
    wrap = case.get("wrap", "div")
    items = "".join(
        case["ask"].format(i=i)
        + case["panel"].format(i=i)
        + (FAQ_AI if ai and i == 3 else FAQ_ANSWER.format(i=i))
        + f"</{case['panel'][1:].split()[0].rstrip('>')}>"
        for i in range(6)
    )
    head = '<!doctype html><html><head><meta charset="utf-8"></head>'
    return (
        f"{head}<body><nav><a href='/'>Home</a></nav><main><h1>Privacy Policy</h1><p>This"
        " policy explains how we handle the information you give us, in questions and their"
        f" answers below.</p><{wrap}>{items}</{wrap}></main><footer>Example</footer></body>"
        "</html>"
    ).encode()


@pytest.mark.parametrize("case", CASES["faq"], ids=lambda case: case["name"])
def test_a_short_ai_clause_in_a_collapsed_answer_is_flagged(
    site: Site,  # noqa: F811
    case: dict[str, Any],
) -> None:
    """Attack (attack7's "left"): a policy written as questions, each answer one short
    sentence in a collapsed panel right after its question (an accordion, a FAQ), one
    answer made an AI-training clause. Once: the panels, under 20 words, were dropped as
    tooltips are ("unchanged"). Now a hidden block right after its question (a heading,
    a toggle that says it expands, a <dt>) holding a sentence is an answer: flagged."""
    site.check(faq(case))
    done = site.check(faq(case, ai=True))
    assert "AI-training language added" in done.out, done.out
    [change] = site.changes()
    assert [flag["sentence"] for flag in change["flags"]] == [FAQ_AI]


@pytest.mark.parametrize("case", CASES["chrome_short"], ids=lambda case: case["name"])
def test_short_hidden_ai_words_that_answer_nothing_raise_nothing(
    site: Site,  # noqa: F811
    case: dict[str, Any],
) -> None:
    """A tooltip, a hidden hint after a paragraph, a hidden dialog or a box with a button,
    holding a short AI-training sentence, added inside the policy: no flag (a heading
    added with it is a change of the page's text)."""
    site.check(page())
    done = site.check(page(case["box"]))
    assert "AI-training" not in done.out, done.out
    assert [change for change in site.changes() if change["ai_training"]] == []


AI_PAGE = page("<p>We may use your public posts and photos to train our AI models.</p>")


@pytest.mark.parametrize("host", ["localhost"])
def test_a_redirect_to_another_site_is_not_recorded_as_the_policy(
    site: Site,  # noqa: F811
    local_server: LocalServer,
    host: str,
) -> None:
    """Attack: the policy's address starts redirecting to another site (an expired domain,
    a hijacked redirect, a CDN's mistake), whose page says it trains AI on posts. Once:
    "changed: v1 -> v2 (AI-training language added)", the other site's words quoted as
    the policy's. Now the check fails for that document with one line naming the other
    site, and nothing is recorded; a redirect within the site is still followed."""
    site.check(page())
    local_server.route("/other", body=AI_PAGE)
    elsewhere = f"http://{host}:{local_server.port}/other"
    local_server.route("/p", status=302, headers={"Location": elsewhere})
    done = site.cli("check", "--watchlist", site.watchlist)
    assert f"redirected to another site ({host})" in done.out + done.err, done
    assert site.changes() == []
    local_server.route("/p", status=301, headers={"Location": local_server.url("/other")})
    done = site.cli("check", "--watchlist", site.watchlist)
    assert "AI-training language added" in done.out, done


@pytest.mark.parametrize(
    ("url", "final", "same"),
    [
        ("https://example.com/privacy", "https://www.example.com/privacy", True),
        ("https://www.facebook.com/policy", "https://facebook.com/privacy/policy", True),
        ("https://www.google.com/policies", "https://policies.google.com/privacy", True),
        ("https://help.instagram.com/1", "https://privacycenter.instagram.com/p", True),
        ("https://www.bbc.co.uk/privacy", "https://account.bbc.co.uk/privacy", True),
        ("https://example.com/privacy", "https://example.net/privacy", False),
        ("https://shop.example.co.uk/p", "https://other.co.uk/p", False),
        ("https://www.bbc.co.uk/privacy", "https://evil.co.uk/privacy", False),
        ("http://127.0.0.1:8000/p", "http://localhost:8000/p", False),
        ("http://127.0.0.1:8000/p", "http://127.0.0.1:9000/p", True),
    ],
)
def test_the_site_of_a_redirect(url: str, final: str, same: bool) -> None:
    assert same_site(url, final) is same


@pytest.mark.parametrize("case", CASES["unseen"], ids=lambda case: case["name"])
def test_ai_words_in_markup_no_reader_sees_raise_nothing(
    site: Site,  # noqa: F811
    case: dict[str, Any],
) -> None:
    """AI-training words in an iframe's srcdoc, a comment, meta tags, CSS content, form
    fields, select options, data and aria attributes, MathML annotations, a script
    template, at the end of a long policy's <main>: no flag (tried: already sound)."""
    site.check(long_policy("", "in-main"))
    done = site.check(long_policy(case["box"], "in-main"))
    assert "AI-training" not in done.out, done.out
    assert [change for change in site.changes() if change["ai_training"]] == []
