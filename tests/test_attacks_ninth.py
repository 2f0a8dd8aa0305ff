"""Attacks of branch attack9 (bench/HOSTILE.md, "attack9"): a locale redirect, Latin
look-alikes, typed phrases against look-alikes, and the new attacks of that round. Each
is a real server on 127.0.0.1 (or a real file) read with the real CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.classify.lookalike import latin
from monitor.classify.visible import shown
from monitor.errors import ExtractError
from monitor.extract.pdf import pdf_text
from tests.cli_helpers import write_watchlist
from tests.httpserver import LocalServer
from tests.pdf_bomb import text_bomb
from tests.test_attacks_flag import Site, page, site  # noqa: F401 (the fixture)

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "data" / "attacks9.yaml").read_text(encoding="utf-8")
)
ENGLISH = page("<p>We keep your account details for as long as your account is open.</p>")
FRENCH = page("<p>Nous conservons vos données tant que votre compte est ouvert.</p>")
MOVED = page("<p>We keep your account details for ninety days after you close it.</p>")


def _check(site: Site) -> str:  # noqa: F811
    done = site.cli("check", "--watchlist", site.watchlist)
    return done.out + done.err


def test_a_redirect_to_another_language_is_no_change_of_the_policy(
    site: Site,  # noqa: F811
    local_server: LocalServer,
) -> None:
    """Attack: the policy's address (no locale in it) starts redirecting to the French
    page (`/p` -> `/fr/p`: geolocation, a CDN's new rule). Once: "changed: v1 -> v2", the
    French translation recorded as a new version of the English policy. Now one line
    names the new address and says it is another language; nothing is recorded. A move
    within the site (no locale) is still a change, and a locale redirect reading the same
    words (`/p` -> `/en/p`) is unchanged."""
    site.check(ENGLISH)
    local_server.route("/fr/p", body=FRENCH)
    local_server.route("/p", status=302, headers={"Location": local_server.url("/fr/p")})
    out = _check(site)
    assert f"redirected to locale fr ({local_server.url('/fr/p')})" in out, out
    assert len(out.strip().splitlines()) == 1, out
    assert site.changes() == []
    # the same words at /en/p: a locale marker the versions did not have, nothing new
    local_server.route("/en/p", body=ENGLISH)
    local_server.route("/p", status=302, headers={"Location": local_server.url("/en/p")})
    assert "unchanged" in _check(site)
    # a real move within the site stays a change
    local_server.route("/legal/p", body=MOVED)
    local_server.route("/p", status=301, headers={"Location": local_server.url("/legal/p")})
    assert "changed: v1 -> v2" in _check(site)
    assert len(site.changes()) == 1


def test_a_watch_url_naming_the_locale_is_followed(
    site: Site,  # noqa: F811
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    """The way out the line gives: the operator puts /fr/p in the watchlist; the French
    page is then read (a change: the operator asked for it)."""
    site.check(ENGLISH)
    local_server.route("/fr/p", body=FRENCH)
    write_watchlist(tmp_path / "watchlist.yaml", {"doc": local_server.url("/fr/p")})
    out = _check(site)
    assert "changed: v1 -> v2" in out, out


@pytest.mark.parametrize("case", CASES["latin_lookalike"], ids=lambda case: case["name"])
def test_ai_training_wording_in_latin_look_alikes_is_flagged_and_quoted_as_stored(
    site: Site,  # noqa: F811
    tmp_path: Path,
    case: dict[str, Any],
) -> None:
    """Attack (attack8's left): an AI-training sentence with Latin letters drawn like
    other Latin ones: "tr\u0251in" (the IPA alpha), "tra\u0131n" (dotless i), "\u1d00\u026a"
    (small capitals), a whole sentence in small capitals. Once: a change, no flag. Now
    flagged, the phrase as stored (the page's letters kept)."""
    site.check(page())
    site.check(page(f"<p>{case['html']}</p>"))
    [change] = site.changes()
    assert change["ai_training"] is True, change
    [flag] = change["flags"]
    assert flag["phrase"] in flag["sentence"]
    assert case["reads"] in latin(shown(flag["sentence"]))
    assert not flag["phrase"].isascii()  # the stored letters, not the reading
    out = tmp_path / "evidence"
    assert site.cli("evidence", str(change["id"]), "--out", str(out)).code == 0
    [after] = out.glob("after-*-text.txt")
    assert flag["sentence"] in after.read_text(encoding="utf-8")


@pytest.mark.parametrize("sentence", CASES["latin_foreign"])
def test_a_language_own_dotless_i_is_read_as_written(sentence: str) -> None:
    assert latin(sentence) == sentence


def test_latin_look_alikes_swapped_in_raise_no_flag(site: Site) -> None:  # noqa: F811
    """A flagged sentence's letters swapped for small capitals and the IPA alpha: the
    words as read did not change: no "AI-training language removed"."""
    site.check(page("<p>We may use your public posts and photos to train our AI models.</p>"))
    swapped = "We may use your public posts and photos to tr\u0251in our \u1d00\u026a models."
    site.check(page(f"<p>{swapped}</p>"))
    assert [change for change in site.changes() if change["ai_training"]] == []


@pytest.mark.parametrize(
    "html",
    [
        "We may use your public posts and photos to tr\u0430in our \u0410I models.",  # Cyrillic
        "We may use your public posts and photos to tr\u0251in our \u1d00\u026a models.",
        "\u1d21\u1d07 \u1d0d\u1d00\u028f \u1d1c\ua731\u1d07 \u1d18\u1d1c\u0299\u029f\u026a\u1d04 "
        "\u1d18\u1d0f\ua731\u1d1b\ua731 \u1d1b\u1d0f \u1d1b\u0280\u1d00\u026a\u0274 "
        "\u1d0f\u1d1c\u0280 \u1d00\u026a \u1d0d\u1d0f\u1d05\u1d07\u029f\ua731.",
    ],
    ids=["cyrillic", "latin", "small-capitals"],
)
def test_first_seen_finds_a_typed_phrase_across_look_alikes(
    site: Site,  # noqa: F811
    html: str,
) -> None:
    """Attack (attack8's left): the page writes "tr\\u0430in" (a Cyrillic a) or small
    capitals; the journalist types "train our AI models". Once: "in none of its versions"
    (exit 1): neither the FTS5 index nor the exact rule read look-alikes. Now the exact
    rule reads them as classify does, and the lines holding one are read besides the
    index's: found in the version that added it; the phrase pasted as stored too."""
    site.check(page())
    site.check(page(f"<p>{html}</p>"))
    for typed in ("train our AI models", "TRAIN  our ai\nmodels"):
        found = site.cli("first-seen", "doc", typed, "--json")
        assert found.code == 0, found.err
        assert json.loads(found.out)["version"] == 2
    [change] = site.changes()
    [flag] = change["flags"]
    pasted = site.cli("first-seen", "doc", flag["phrase"], "--json")
    assert pasted.code == 0, pasted.err
    assert site.cli("first-seen", "doc", "rain our AI models").code == 1  # not a word start


def test_first_seen_reads_a_russian_policy_as_written(site: Site) -> None:  # noqa: F811
    """A Russian sentence's "а" and "о" are Russian letters: a typed Latin "a" or "o"
    finds nothing in it."""
    site.check(page("<p>Мы храним данные, а также о вас и о нас, как указано.</p>"))
    assert site.cli("first-seen", "doc", "a").code == 1
    assert site.cli("first-seen", "doc", "o").code == 1


@pytest.mark.parametrize(
    "html",
    [
        "We may use your public posts and photos to \u202esledom IA ruo niart\u202c.",
        "We may use your public posts and photos to &#x202E;sledom IA ruo niart&#x202C;.",
        "We may use your public posts and photos to \u202e.sledom IA ruo niart",
    ],
    ids=["rlo-pdf", "entities", "rlo-to-the-end"],
)
def test_words_written_backwards_under_a_right_to_left_override_are_flagged(
    site: Site,  # noqa: F811
    html: str,
) -> None:
    """Attack (new): the page stores "sledom IA ruo niart" after a RIGHT-TO-LEFT OVERRIDE
    (U+202E): a browser shows "train our AI models", the monitor read the letters in
    their stored order. Once: a change, no flag. Now the rules read an override's run in
    the order it is shown; the phrase quoted is the stored characters, the override
    with them (so it shows as the page showed it)."""
    site.check(page())
    site.check(page(f"<p>{html}</p>"))
    [change] = site.changes()
    assert change["ai_training"] is True, change
    [flag] = change["flags"]
    assert flag["phrase"] in flag["sentence"]
    assert "\u202e" in flag["phrase"], flag  # shown as the page shows it
    assert "sledom IA ruo niart" in flag["phrase"]


def test_a_right_to_left_override_over_hebrew_reads_nothing_new(site: Site) -> None:  # noqa: F811
    """An override over right-to-left letters (as Hebrew pages use it) changes nothing
    Latin: no flag."""
    site.check(page())
    site.check(page("<p>We keep \u202eשלום עולם\u202c for you and your account.</p>"))
    assert [change for change in site.changes() if change["ai_training"]] == []


@pytest.mark.parametrize(
    ("megabytes", "pages", "says"),
    [
        (9.0, 1, "MB of drawing instructions"),  # one page over the bound: read no further
        (1.0, 10, "MB of drawing instructions"),  # ten pages sharing 1 MB: 70 s of CPU before
    ],
)
def test_a_small_pdf_inflating_into_megabytes_of_text_operators_fails_quickly(
    site: Site,  # noqa: F811
    local_server: LocalServer,
    megabytes: float,
    pages: int,
    says: str,
) -> None:
    """Attack (new): a PDF of a few KB whose pages share one deflated content stream of
    megabytes of text operators (pypdf caps one stream at 75 MB, not the pages sharing
    it). Once: 10 pages of 1 MB took 70 s of CPU (190 s under load) and were recorded as
    a 6 MB version (500 pages of 75 MB: days). Now the pages' drawing instructions are
    measured (4 MB at most) before any is read: one line, nothing recorded."""
    site.check(page())
    bomb = text_bomb(megabytes, pages)
    assert len(bomb) < 30_000
    local_server.route("/p", body=bomb, headers={"Content-Type": "application/pdf"})
    started = time.monotonic()
    done = site.cli("check", "--watchlist", site.watchlist)
    took = time.monotonic() - started
    assert done.code == 1, done
    assert says in done.out + done.err, done
    assert len((done.out + done.err).strip().splitlines()) == 1, done
    assert took < 10, took  # (measured before reading)
    assert site.changes() == []


def test_reading_a_pdf_is_bounded_in_time() -> None:
    """Under the size bound, a PDF's reading is bounded in time too (20 s by default):
    ten pages sharing 0.3 MB of text operators, read with a 1 s bound."""
    started = time.monotonic()
    with pytest.raises(ExtractError, match="takes over 1 s to read"):
        pdf_text(text_bomb(0.3, 10), seconds=1.0)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("attribute", ['shadowrootmode="open"', 'shadowrootmode="closed"',
                                       'shadowroot="open"'])  # fmt: skip
def test_ai_training_wording_in_a_declarative_shadow_root_is_flagged(
    site: Site,  # noqa: F811
    attribute: str,
) -> None:
    """Attack (new): the AI-training sentence inside `<template shadowrootmode="open">`
    (a declarative shadow root: Chromium, Firefox and Safari show its content in place
    of the template). Once: a change, no flag (every <template> was dropped as inert).
    Now a template that is a shadow root is read as its host's content; an ordinary
    template stays unread (attack8's case)."""
    sentence = "We may use your public posts and photos to train our AI models."
    site.check(page())
    site.check(page(f"<div><template {attribute}><p>{sentence}</p></template></div>"))
    [change] = site.changes()
    assert change["ai_training"] is True, change
    site.check(page(f"<div><template><p>{sentence}</p></template></div>"))  # inert again
    sides = sorted(flag["side"] for change in site.changes() for flag in change["flags"])
    assert sides == ["added", "removed"]


@pytest.mark.parametrize(
    "html",
    [
        '<bdo dir="rtl">sledom IA ruo niart</bdo>',
        '<span style="unicode-bidi: bidi-override; direction: rtl">sledom IA ruo niart</span>',
        '<bdo dir="RTL"><b>sledom IA</b> ruo niart</bdo>',
    ],
    ids=["bdo", "css", "bdo-nested"],
)
def test_words_written_backwards_under_a_bdo_or_css_override_are_flagged(
    site: Site,  # noqa: F811
    html: str,
) -> None:
    """Attack (new): the reversed words under `<bdo dir="rtl">` or an inline
    `unicode-bidi: bidi-override; direction: rtl`: shown "train our AI models". Once: no
    flag. Now the extractor writes the override the browser applies (U+202E ... U+202C
    around the element's text), which the rules read as shown."""
    site.check(page())
    site.check(page(f"<p>We may use your public posts and photos to {html}.</p>"))
    [change] = site.changes()
    assert change["ai_training"] is True, change
