"""The site as a person sees it: opened from disk in headless Chromium (Debian's), clicked
through from the index to a document's timeline to a change page."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.fetch.browser import BrowserSettings, browser_available
from tests.site_build import AI_SENTENCE, DOC, HOSTILE, Built, build_site

UNAVAILABLE = browser_available(BrowserSettings())

# The contrast of every element holding text against its painted background (WCAG 2.x).
CONTRAST_JS = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => { for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.push([el.tagName + "." + el.className, Math.round(ratio * 100) / 100]);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(5000)
    opened = context.new_page()
    opened.problems = []  # console errors and page errors: a CSP violation shows as one
    opened.on("console", lambda m: m.type == "error" and opened.problems.append(m.text))
    opened.on("pageerror", lambda e: opened.problems.append(str(e)))
    yield opened
    context.close()


def changes(built: Built) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((built.site / "changes").glob("*.json"))]


def test_click_from_the_index_to_a_timeline_to_a_change_page(built: Built, page: Any) -> None:
    page.goto(built.page("index.html"))
    page.locator("table.documents").get_by_role("link", name=f"{DOC} policy").click()
    assert page.url.endswith(f"documents/{DOC}.html")
    marked = page.locator("table.timeline tr.ai .tag.ai").all_inner_texts()
    assert marked == ["removed", "added"]  # the AI-training changes, newest first
    page.get_by_role("link", name=re.compile(r"#1 AI-training language added")).click()
    assert page.url.endswith("changes/1.html")  # v1 -> v2: the first change
    added = page.locator(".inline .line.changed ins", has_text="train our AI models").first
    assert added.is_visible()  # the diff, inline
    assert page.locator(
        ".sides .row.changed ins", has_text="train our AI models"
    ).first.is_visible()
    in_diff = page.locator(".inline .line.flagged", has_text="train our AI models").first
    assert in_diff.is_visible()  # the flagged line, labelled in the diff
    assert in_diff.locator(".flag-label").inner_text() == "AI-training added: public-data-training"
    flagged = page.locator("blockquote.flag").first
    assert flagged.locator("mark").first.is_visible()
    about = flagged.inner_text()
    assert AI_SENTENCE in about and "added" in about and "severity high" in about
    assert "category public-data-training" in about and "matched “" in about
    assert page.problems == []


def test_unchanged_text_is_folded_and_opens_without_javascript(built: Built, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(built.page("changes/1.html"))
    fold = page.locator(".inline details.fold").first
    hidden = fold.locator(".line").first
    assert not hidden.is_visible()
    fold.locator("summary").click()
    assert hidden.is_visible()
    page.goto(built.page(f"documents/{DOC}.html"))
    assert not page.locator("#search").is_visible()  # the search box needs JavaScript
    assert page.get_by_role("link", name="v1").first.is_visible()
    context.close()


def test_raw_snapshot_downloads_and_its_sha256_matches_the_page(
    built: Built, page: Any, tmp_path: Path
) -> None:
    page.goto(built.page("changes/1.html"))
    evidence = page.locator(".evidence table.facts").last  # the "after" snapshot
    shown = evidence.locator("tr", has_text="Snapshot sha256").locator("code").inner_text()
    with page.expect_download() as download:
        evidence.locator("a[download]").first.click()
    saved = tmp_path / "snapshot"
    download.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == shown
    name = evidence.locator("a[download]").first.get_attribute("download")
    assert name == f"{DOC}-v2-{shown[:12]}.html"  # the name it is saved under when served
    assert b"window.pwned = 3" in saved.read_bytes()  # as fetched, its script included


def test_injected_script_in_a_policy_shows_as_text_and_never_runs(built: Built, page: Any) -> None:
    hostile = next(c for c in changes(built) if any("pwned" in p for p in c["added"]))
    for name in ("index.html", f"documents/{DOC}.html", f"changes/{hostile['id']}.html",
                 f"documents/{DOC}/v{hostile['to_version']}.html"):  # fmt: skip
        page.goto(built.page(name))
        assert page.evaluate("window.pwned") is None, name
        assert page.locator("img").count() == 0, name
        if name.startswith(("changes/", "documents/example-privacy/")):
            assert HOSTILE in page.locator("main").inner_text(), name
    assert page.problems == []


def test_search_box_finds_the_version_and_changes_of_a_phrase(built: Built, page: Any) -> None:
    page.goto(built.page(f"documents/{DOC}.html"))
    page.fill("#search-phrase", "public posts and PHOTOS")
    page.get_by_role("button", name="Find").click()
    result = page.locator("#search-result").inner_text()
    assert "first appears in version 2" in result
    assert "Introduced by change #1" in result and "Removed by change #3" in result
    page.locator("#search-result").get_by_role("link", name="change #3").click()
    assert page.url.endswith("changes/3.html")
    page.go_back()
    page.fill("#search-phrase", "no policy says this")
    page.get_by_role("button", name="Find").click()
    assert "No version contains" in page.locator("#search-result").inner_text()
    assert page.problems == []


@pytest.mark.parametrize(
    "name", ["index.html", f"documents/{DOC}.html", "changes/1.html", f"documents/{DOC}/v2.html"]
)
def test_text_contrast_meets_wcag_aa(built: Built, page: Any, name: str) -> None:
    page.goto(built.page(name))
    page.locator("details").evaluate_all("(all) => all.forEach((d) => { d.open = true; })")
    measured = page.evaluate(CONTRAST_JS)
    assert len(measured) > 20
    low = [(element, ratio) for element, ratio in measured if ratio < 4.5]
    assert low == [], low


def test_a_change_page_prints_as_evidence(built: Built, page: Any, tmp_path: Path) -> None:
    page.goto(built.page("changes/1.html"))
    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible() and not page.locator(".sides").is_visible()
    assert page.locator(".inline ins", has_text="train our AI models").first.is_visible()
    assert page.locator(".evidence code").first.is_visible()
    pdf = page.pdf(path=str(tmp_path / "change.pdf"))
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
