"""Tests of monitor.extract.html: data-driven HTML cases, page-chrome noise, real corpus pages."""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from import_scoring import replay_module

from monitor import errors
from monitor.extract.html import extract_text, normalize_text
from tests.shared import SHARED, need

DATA = Path(__file__).parent / "data" / "extract_cases.yaml"
CORPUS = SHARED / "corpus" / "html"
POLICY = (
    "We collect the information you give us when you create an account, and we use it "
    "only to provide the service you asked for."
)
TABLE: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))


def fill(text: str) -> str:
    return text.replace("{P}", POLICY)


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda c: c["id"])
def test_case(case: dict[str, Any]) -> None:
    body = fill(case["html"]).encode(case.get("encoding", "utf-8"))
    kwargs = {"select": tuple(case.get("select", ())), "remove": tuple(case.get("remove", ()))}
    content_type = case.get("content_type", "text/html")
    if "error" in case:
        kind = getattr(errors, case.get("error_type", "ExtractError"))
        with pytest.raises(kind) as caught:
            extract_text(body, content_type, **kwargs)
        assert case["error"] in str(caught.value)
        assert "\n" not in str(caught.value)
    else:
        assert extract_text(body, content_type, **kwargs) == fill(case["expected"])


@pytest.mark.parametrize("group", TABLE["same_text"], ids=lambda g: g["id"])
def test_same_text(group: dict[str, Any]) -> None:
    texts = {extract_text(fill(page).encode()) for page in group["pages"]}
    assert len(texts) == 1 and POLICY in texts.pop()


def test_normalize_text_is_idempotent_and_keeps_single_blank_lines() -> None:
    raw = "  A\u00a0\u00a0b\t c \n\n\n\n\u2018d\u2019\u200b \u2212 e\r\nf  "
    once = normalize_text(raw)
    assert once == "A b c\n\n\u2018d\u2019\u200b \u2212 e\nf"  # zero-width kept: an edit
    assert normalize_text(once) == once


# Characters NFKC changes (ligature, fullwidth, circled digit, diaeresis that becomes a
# space and a combining mark, decomposed accent) and whitespace str.split() removes.
ODD = ["\ufb01", "\uff46", "\u2460", "\u00a8", "e\u0301", "\u00a0", "\u2028", "\x1c",
       "\u200b", "\r", "\t", "\u3000", " ", "a", "Z", "-", "|"]  # fmt: skip


def test_rendered_lines_skip_normalize_text_only_when_it_changes_nothing() -> None:
    # extract_text's _normalized_lines: render() makes each line " ".join(s.split()) (with
    # "- " or " | " between parts), so normalize_text may be skipped unless NFKC changes it.
    from monitor.extract.html import _normalized_lines

    r = random.Random(15)
    for _ in range(3_000):
        cells = [" ".join("".join(r.choices(ODD, k=r.randrange(1, 9))).split()) for _ in "ab"]
        line = " | ".join(c for c in cells if c)  # never empty: render() drops those
        if not line:
            continue
        lines = [("- " if r.random() < 0.3 else "") + line for _ in range(r.randrange(1, 3))]
        assert _normalized_lines(lines) == normalize_text("\n".join(lines)), lines


POLICY_HTML = """<h1>Privacy Policy</h1><p>Effective 1 May 2026</p>
<h2>What we collect</h2><p>{P}</p><ul><li>Account data</li><li>Usage data</li></ul>
<p>Read the <a href="/cookies?x={tok}">cookie notice</a> for details.</p>"""
TRENDING = ["Ten ways to save", "Why sourdough", "Stocks rally", "Phone leaks", "Hiking trails"]


def noisy_page(body_html: str, r: random.Random) -> bytes:
    """Like shared/eval/replay.py's noisy_page: chrome that changes on every request."""
    tok = f"{r.getrandbits(128):032x}"
    links = "".join(
        f'<li><a href="/n/{r.getrandbits(40):x}">{h}</a></li>' for h in r.sample(TRENDING, 3)
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Policy {tok}</title>
<script>window.__CSRF="{tok}";window.__BUILD="{r.randrange(10**9)}";</script></head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies. <button>Accept all</button></div>
<header><nav><a href="/">Home</a> <a href="/help?session={r.getrandbits(64):x}">Help</a>
<span class="clock">{time.strftime("%H:%M:%S")} {r.randrange(10**6)}</span></nav></header>
<main><article class="policy">{body_html.replace("{tok}", tok)}</article></main>
<aside class="trending"><h3>Trending now</h3><ul>{links}</ul></aside>
<footer>&copy; 2026 Example &middot; Request id {r.getrandbits(64):016x} &middot;
Rendered in {r.randrange(5, 900)} ms</footer></body></html>""".encode()


def test_noisy_page_chrome_variations_give_identical_text() -> None:
    r = random.Random(7)
    texts = {extract_text(noisy_page(fill(POLICY_HTML), r)) for _ in range(20)}
    expected = (
        f"Privacy Policy\nEffective 1 May 2026\nWhat we collect\n{POLICY}\n"
        "- Account data\n- Usage data\nRead the cookie notice for details."
    )
    assert texts == {expected}


def test_replay_harness_noisy_page_gives_identical_text() -> None:
    replay = replay_module()  # the evaluation's own harness, read from ../shared
    body = fill(POLICY_HTML).replace("{tok}", "1")
    texts = {extract_text(replay.noisy_page("Policy", body)) for _ in range(10)}
    assert len(texts) == 1 and POLICY in texts.pop()


def test_large_page_extracts_whole() -> None:
    # Its speed is measured in bench/speed.py (a ratio to a floor, not a timed test).
    script = "<script>window.__DATA=" + json.dumps(["x" * 100] * 8000) + "</script>"
    sections = "".join(
        f"<section><h2>Section {i}</h2><p>{POLICY}</p><ul><li>{POLICY}</li></ul></section>"
        for i in range(1500)
    )
    page = f"<html><body>{script}<main>{sections}</main></body></html>".encode()
    assert len(page) > 1_000_000
    text = extract_text(page)
    assert text.count(POLICY) == 3000


def corpus_text(slug: str, n: int) -> str:
    folder = need(CORPUS / slug)
    return extract_text(gzip.decompress((folder / f"{n:04d}.html.gz").read_bytes()))


def test_corpus_real_change_is_seen_and_chrome_changes_are_not() -> None:
    # meta-ai-terms: snapshot 2 carries a new OTA version (visible change), 3 and 4 do not.
    first, second = corpus_text("meta-ai-terms", 1), corpus_text("meta-ai-terms", 2)
    assert first != second
    assert corpus_text("meta-ai-terms", 3) == second == corpus_text("meta-ai-terms", 4)
    assert "Meta AIs Terms of Service (EU)" in second.split("\n")
    assert "Sign Up" not in second  # the site footer inside role=main


def test_corpus_link_token_change_is_invisible() -> None:
    # anthropic-claude-privacy 2: OTA recorded a version that changed only a link's token.
    text = corpus_text("anthropic-claude-privacy", 1)
    manifest = json.loads((CORPUS / "anthropic-claude-privacy" / "manifest.json").read_text())
    assert manifest["snapshots"][1]["ota_visible_text_changed"] is False
    assert text == corpus_text("anthropic-claude-privacy", 2)
    assert text.startswith("Privacy Policy\n") and "legal/archive" not in text
