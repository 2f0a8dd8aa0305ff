"""Tests for monitor.publish.feed: feeds read back with feedparser, bodies with ElementTree."""

from __future__ import annotations

import html
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml

from monitor.models import Change, FeedConfig, Flag, Watch
from monitor.publish.feed import (
    FeedSettings,
    change_title,
    render_feed,
    select_changes,
    settings_from_config,
)
from monitor.publish.specs import company_slug, document_type, feed_specs, select_spec
from tests.shared import SHARED, need

DATA = Path(__file__).parent / "data"
CORPUS = SHARED / "corpus" / "versions"
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
FORMATS = [("rss", "rss20"), ("atom", "atom10")]
ATOM = "{http://www.w3.org/2005/Atom}"
TITLE_CASES = yaml.safe_load((DATA / "feed_titles.yaml").read_text(encoding="utf-8"))


def flag(
    side: str = "added",
    sentence: str = "We may use your posts to train AI models.",
    phrase: str = "train AI models",
) -> Flag:
    return Flag(sentence, side, phrase, "user-content-training", "train-on-content")


def make_change(change_id: int, **fields: Any) -> Change:
    values: dict[str, Any] = {
        "id": change_id,
        "document": "google-privacy",
        "company": "Google",
        "title": "Privacy Policy",
        "url": "https://policies.google.com/privacy?hl=en&gl=US",
        "detected_at": START + timedelta(hours=change_id),
        "kind": "changed",
        "from_version": change_id,
        "to_version": change_id + 1,
        "added_chars": 10 * change_id,
        "removed_chars": change_id,
        "diff_text": f"Context line\nWe [-collect-]{{+gather+}} data. ({change_id})",
    }
    values.update(fields)
    return Change(**values)


def history(count: int = 8) -> list[Change]:
    """Changes of three documents; every third one flagged, one with other AI language."""
    docs = [
        ("google-privacy", "Google"),
        ("meta-privacy", "Meta"),
        ("linkedin-privacy", "LinkedIn"),
    ]
    changes = []
    for i in range(1, count + 1):
        document, company = docs[i % 3]
        flags = (flag(),) if i % 3 == 0 else ()
        related = (flag(sentence="Our chatbot answers questions."),) if i == 4 else ()
        changes.append(
            make_change(i, document=document, company=company, flags=flags, ai_related=related)
        )
    return changes


def parse(data: bytes, version: str) -> Any:
    feed = feedparser.parse(data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == version
    return feed


def bodies(data: bytes, fmt: str) -> list[str]:
    """Each entry's HTML body as written (feedparser would sanitise it)."""
    root = ET.fromstring(data)
    if fmt == "atom":
        return [e.findtext(f"{ATOM}content") or "" for e in root.iter(f"{ATOM}entry")]
    return [item.findtext("description") or "" for item in root.iter("item")]


@pytest.mark.parametrize("case", TITLE_CASES, ids=[c["name"] for c in TITLE_CASES])
def test_change_title(case: dict[str, Any]) -> None:
    change = make_change(
        1,
        company=case["company"],
        title=case["title"],
        kind=case["kind"],
        flags=tuple(flag(side) for side in case["flags"]),
    )
    assert change_title(change) == case["expected"]


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_entries_newest_first_whatever_the_input_order(fmt: str, version: str) -> None:
    changes = history(8)
    random.Random(7).shuffle(changes)
    feed = parse(render_feed(changes, fmt), version)
    ids = [int(e.id.rsplit(":" if fmt == "rss" else "/", 1)[1]) for e in feed.entries]
    assert ids == [8, 7, 6, 5, 4, 3, 2, 1]
    assert feed.entries[0].title == "LinkedIn Privacy Policy: text changed"
    assert feed.entries[0].link == "https://policies.google.com/privacy?hl=en&gl=US"
    assert feed.entries[0].published_parsed[:5] == (2026, 1, 5, 17, 30)


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_same_time_ordered_by_id(fmt: str, version: str) -> None:
    changes = [make_change(i, detected_at=START) for i in (2, 9, 5)]
    feed = parse(render_feed(changes, fmt), version)
    assert [e.id[-1] for e in feed.entries] == ["9", "5", "2"]


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_limit_keeps_the_newest(fmt: str, version: str) -> None:
    data = render_feed(history(8), fmt, FeedSettings(limit=3))
    feed = parse(data, version)
    assert [e.title for e in feed.entries] == [change_title(c) for c in history(8)[:4:-1]]


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_ai_only_keeps_flagged_changes(fmt: str, version: str) -> None:
    feed = parse(render_feed(history(8), fmt, ai_only=True), version)
    assert len(feed.entries) == 2
    assert all(e.title.endswith("AI-training language added") for e in feed.entries)
    assert feed.feed.updated_parsed[:4] == (2026, 1, 5, 15)  # change 6, the newest flagged


def test_guids_are_stable_distinct_and_not_permalinks() -> None:
    older = parse(render_feed(history(5)), "rss20")
    # Later: three more changes, and change 5 re-classified and its document renamed.
    later = history(8)
    later[4] = replace(later[4], title="Privacy Notice", flags=(flag(),))
    newer = parse(render_feed(later), "rss20")
    newer_ids = [e.id for e in newer.entries]
    assert newer_ids[3:] == [e.id for e in older.entries]
    assert len(set(newer_ids)) == 8
    assert newer_ids[-1] == "policy-monitor:change:meta-privacy:1"
    assert not any(e.guidislink for e in newer.entries)
    assert b'<guid isPermaLink="false">policy-monitor:change:linkedin-privacy:8</guid>' in (
        render_feed(history(8))
    )


def test_atom_ids_are_tag_uris() -> None:
    feed = parse(render_feed(history(3), "atom"), "atom10")
    assert [e.id for e in feed.entries] == [
        "tag:policy-monitor,2026:change/google-privacy/3",
        "tag:policy-monitor,2026:change/linkedin-privacy/2",
        "tag:policy-monitor,2026:change/meta-privacy/1",
    ]


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_regeneration_is_byte_identical(fmt: str) -> None:
    changes = history(8)
    first = render_feed(changes, fmt, self_url="https://example.org/feed.xml")
    shuffled = random.Random(3).sample(changes, len(changes))
    assert render_feed(shuffled, fmt, self_url="https://example.org/feed.xml") == first
    assert b"feedgen" not in first  # no generator version that changes with an upgrade


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_feed_date_is_the_newest_change_not_now(fmt: str, version: str) -> None:
    feed = parse(render_feed(history(8), fmt), version)
    assert feed.feed.updated_parsed[:6] == (2026, 1, 5, 17, 30, 0)
    assert feed.feed.title == FeedSettings().title
    assert feed.feed.link == FeedSettings().link


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_categories_exactly_on_flagged_changes(fmt: str, version: str) -> None:
    changes = history(8)
    feed = parse(render_feed(changes, fmt), version)
    by_title_date = {(change_title(c), c.detected_at.hour): c for c in changes}
    for entry in feed.entries:
        change = by_title_date[(entry.title, entry.published_parsed.tm_hour)]
        terms = [t.term for t in entry.get("tags", [])]
        expected = ["ai-training"] if change.flags else []
        expected += ["ai-related"] if change.ai_related else []
        assert terms == [*expected, change.company, "privacy"]


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_zero_entries_is_a_valid_feed(fmt: str, version: str) -> None:
    data = render_feed([], fmt, ai_only=True)
    feed = parse(data, version)
    assert feed.entries == []
    assert feed.feed.updated_parsed[:6] == (1970, 1, 1, 0, 0, 0)
    assert render_feed(history(2), fmt, ai_only=True) == data  # nothing flagged yet


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_self_link_only_when_given(fmt: str, version: str) -> None:
    with_self = parse(render_feed(history(2), fmt, self_url="https://e.org/ai.xml"), version)
    without = parse(render_feed(history(2), fmt), version)
    assert [ln.href for ln in with_self.feed.links if ln.rel == "self"] == ["https://e.org/ai.xml"]
    assert [ln.href for ln in without.feed.links if ln.rel == "self"] == []


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_body_quotes_flagged_sentence_and_escapes_policy_html(fmt: str, version: str) -> None:
    change = make_change(
        1,
        flags=(
            flag(sentence='We train AI models on <b>your</b> posts & "likes".'),
            flag(sentence="No phrase <i>here</i>.", phrase=""),
        ),
        diff_text="Intro\nWe [-never-]{+<script>alert(1)</script>+} train AI models.",
    )
    data = render_feed([change], fmt)
    parse(data, version)
    assert b"<script" not in data and b"<b>" not in data and b"<i>" not in data
    [body] = bodies(data, fmt)
    assert "<blockquote><p>We <mark>train AI models</mark> on &lt;b&gt;your&lt;/b&gt; posts" in body
    assert "&amp; &quot;likes&quot;." in body
    assert "<p>No phrase &lt;i&gt;here&lt;/i&gt;.</p>" in body
    assert "<strong>added</strong> · user-content-training · matched" in body
    assert "<del>never</del><ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in body
    assert "<script" not in body
    assert "10 characters added, 1 removed (version 1 → 2)" in body


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_control_characters_are_removed(fmt: str, version: str) -> None:
    change = make_change(
        1,
        title="Privacy\x0c Policy",
        diff_text="a\x00b\x1bc\ufffe\nline two",
        flags=(flag(sentence="We train\x07 AI models\x08 on posts."),),
    )
    data = render_feed([change], fmt, FeedSettings(title="Feed\x01 title"))
    feed = parse(data, version)
    assert feed.entries[0].title == "Google Privacy Policy: AI-training language added"
    assert feed.feed.title == "Feed title"
    [body] = bodies(data, fmt)
    assert "abc\nline two" in body
    assert "<p>We <mark>train AI models</mark> on posts.</p>" in body


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_c1_controls_dropped_and_bidi_overrides_shown(fmt: str, version: str) -> None:
    change = make_change(
        1,
        diff_text="x\x9b2Jy {+\u202eevil\u202c+}",
        flags=(flag(sentence="We train AI models\x9b31m on \u2066posts\u2069."),),
    )
    data = render_feed([change], fmt)
    parse(data, version)
    assert "\x9b".encode() not in data and "\u202e".encode() not in data
    [body] = bodies(data, fmt)
    assert "x2Jy <ins>&lt;U+202E&gt;evil&lt;U+202C&gt;</ins>" in body
    assert "<mark>train AI models</mark>31m on &lt;U+2066&gt;posts&lt;U+2069&gt;." in body


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_long_diff_is_cut_with_a_note(fmt: str, version: str) -> None:
    long_diff = "\n".join(f"line {n} {{+added+}}" for n in range(100))
    data = render_feed([make_change(1, diff_text=long_diff), make_change(2)], fmt)
    parse(data, version)
    short, long = bodies(data, fmt)
    assert "line 39 <ins>added</ins>" in long and "line 40 " not in long
    shown = len("\n".join(long_diff.split("\n")[:40]))
    note = f"diff cut at {shown:,} of {len(long_diff):,} characters; full change: "
    assert note + '<a href="changes/1.html">changes/1.html</a>' in long
    assert "diff cut" not in short


def test_first_version_body_and_many_flags() -> None:
    flags = tuple(flag(sentence=f"Sentence {n} says we train AI models.") for n in range(13))
    change = make_change(1, kind="first", from_version=None, flags=flags, diff_text="")
    [body] = bodies(render_feed([change]), "rss")
    assert body.count("<blockquote>") == 10
    assert "… and 3 more flagged sentences." in body
    assert "<pre>" not in body and "First version: 10 characters." in body


def test_unknown_format_and_negative_limit_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown feed format 'json'"):
        render_feed(history(2), "json")
    with pytest.raises(ValueError, match="limit"):
        FeedSettings(limit=-1)


def test_real_policy_text_renders() -> None:
    """A real privacy policy (Open Terms Archive, ODC-BY) as the diff, a real sentence flagged."""
    versions = sorted(need(CORPUS / "linkedin-privacy-pga").glob("*.md"))
    text = versions[-1].read_text(encoding="utf-8")
    sentence = next(s for s in re.split(r"(?<=\.)\s+", text) if " train" in s and len(s) < 400)
    change = make_change(1, diff_text=text, flags=(flag(sentence=sentence, phrase="train"),))
    for fmt, version in FORMATS:
        data = render_feed([change], fmt)
        parse(data, version)
        [body] = bodies(data, fmt)
        assert "diff cut at " in body and " <mark>train</mark>" in body
        [pre] = re.findall(r"<pre>(.*?)</pre>", body, re.DOTALL)
        shown = html.unescape(re.sub(r"</?(ins|del)>", "", pre))
        assert text.startswith(shown) and len(shown) <= 20_000 and shown.count("\n") < 40


def test_times_are_written_in_utc_and_naive_ones_read_as_utc() -> None:
    paris = make_change(
        1, detected_at=datetime(2026, 2, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    )
    naive = make_change(2, detected_at=datetime(2026, 2, 1, 12, 30))
    data = render_feed([paris, naive], "atom")
    feed = parse(data, "atom10")
    assert [e.updated for e in feed.entries] == [
        "2026-02-01T12:30:00+00:00",
        "2026-02-01T12:00:00+00:00",
    ]
    assert feed.feed.updated == "2026-02-01T12:30:00+00:00"


DOCTYPE_CASES = yaml.safe_load((DATA / "feed_doctypes.yaml").read_text(encoding="utf-8"))
WATCHES = [
    Watch("smith-terms", "Smith & Co.", "Terms of Service", "https://smith.test/terms"),
    Watch("smith-privacy", "Smith & Co.", "Smith & Co. Privacy Policy", "https://smith.test/p"),
    Watch("beta-privacy", "Beta", "Privacy Notice", "https://beta.test/privacy"),
    Watch("smith-old", "SMITH & CO", "Old Terms", "https://smith.test/old"),  # same slug
]


@pytest.mark.parametrize("case", DOCTYPE_CASES, ids=[c["title"] or "empty" for c in DOCTYPE_CASES])
def test_document_type_from_title(case: dict[str, str]) -> None:
    assert document_type(case["title"]) == case["type"]


@pytest.mark.parametrize(
    ("company", "slug"),
    [
        ("Google", "google"),
        ("Smith & Co.", "smith-co"),
        ("  Zeta Ünïcode GmbH ", "zeta-unicode-gmbh"),
        ("AT&T", "at-t"),
        ("百度", "company-" + "9a6b45fe4f"),
    ],
)
def test_company_slug_is_file_safe_and_stable(company: str, slug: str) -> None:
    if slug.startswith("company-"):
        assert re.fullmatch(r"company-[0-9a-f]{10}", company_slug(company))
        assert company_slug(company) == company_slug(f" {company} ") != company_slug("谷歌")
        return
    assert company_slug(company) == slug


def test_feed_specs_list_each_company_and_document_once() -> None:
    specs = feed_specs([*WATCHES, WATCHES[0]])
    assert [s.path for s in specs] == [
        "all",
        "ai-training",
        "company/beta",
        "company/smith-co",
        "document/beta-privacy",
        "document/smith-old",
        "document/smith-privacy",
        "document/smith-terms",
    ]
    labels = {s.path: s.label for s in specs}
    assert labels["company/smith-co"] == "Smith & Co."  # the usual spelling
    assert labels["document/smith-privacy"] == "Smith & Co. Privacy Policy"
    assert labels["document/smith-old"] == "SMITH & CO Old Terms"


@pytest.mark.parametrize(
    ("filters", "path", "published"),
    [
        ({}, "all", True),
        ({"ai_only": True}, "ai-training", True),
        ({"company": "smith & co."}, "company/smith-co", True),
        ({"company": "Nobody"}, "company/nobody", False),
        ({"document": "beta-privacy"}, "document/beta-privacy", True),
        ({"document": "Not An Id!"}, None, False),
        ({"document": "beta-privacy", "ai_only": True}, "document/beta-privacy/ai-training", False),
        ({"company": "Beta", "ai_only": True}, "company/beta/ai-training", False),
        ({"company": "Beta", "document": "smith-old"}, "document/smith-old/company/beta", False),
    ],
)
def test_select_spec_names_the_published_feed(
    filters: dict[str, Any], path: str | None, published: bool
) -> None:
    spec = select_spec(WATCHES, **filters)
    assert spec.published == published
    if path is not None:
        assert spec.path == path
    assert re.fullmatch(r"[a-z0-9][a-z0-9._/-]*", spec.path)


def test_spec_filters_changes() -> None:
    changes = [
        make_change(1, document="smith-terms", company="Smith & Co."),
        make_change(2, document="smith-old", company="SMITH & CO", flags=(flag(),)),
        make_change(3, document="beta-privacy", company="Beta", flags=(flag(),)),
    ]
    for filters, ids in [
        ({"company": "Smith & Co."}, [2, 1]),
        ({"company": "smith-co", "ai_only": True}, [2]),
        ({"document": "beta-privacy"}, [3]),
        ({"ai_only": True}, [3, 2]),
    ]:
        spec = select_spec(WATCHES, **filters)
        assert [c.id for c in select_changes(changes, limit=50, spec=spec)] == ids, filters


@pytest.mark.parametrize(("fmt", "version"), FORMATS)
def test_published_feed_has_its_id_title_self_and_home_links(fmt: str, version: str) -> None:
    settings = FeedSettings(base_url="https://e.org/feeds", title="Watch")
    spec = select_spec(WATCHES, document="smith-terms")
    data = render_feed(history(2), fmt, settings, spec=spec)
    feed = parse(data, version)
    assert feed.feed.title == "Smith & Co. Terms of Service — Watch"
    assert [ln.href for ln in feed.feed.links if ln.rel == "self"] == [
        f"https://e.org/feeds/document/smith-terms.{fmt}"
    ]
    assert feed.feed.link == "https://smith.test/terms"
    assert feed.entries == []  # history() has no smith-terms change
    if fmt == "atom":
        assert feed.feed.id == "tag:policy-monitor,2026:feed/document/smith-terms"
    assert "only Smith &amp; Co. Terms of Service" in data.decode()


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Privacy Policy", "privacy"), ("Terms of Use", "terms"), ("Help Center", "other")],
)
def test_document_type_category(title: str, expected: str) -> None:
    feed = parse(render_feed([make_change(1, title=title)], "atom"), "atom10")
    assert [t.term for t in feed.entries[0].tags] == ["Google", expected]


def test_settings_from_an_empty_config_are_the_defaults() -> None:
    assert settings_from_config(FeedConfig()) == FeedSettings()
    assert settings_from_config(FeedConfig(limit=3, base_url="http://x.test/")).limit == 3
    with pytest.raises(ValueError, match="base URL"):
        FeedSettings(base_url="ftp://x.test/")
