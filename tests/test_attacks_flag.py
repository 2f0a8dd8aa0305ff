"""Page content against the AI-training flag (branch attack7): what a reader sees must be
what is flagged and quoted; what a reader does not see must raise nothing. Each case is a
page served on 127.0.0.1 and read with the real CLI (`check`, `changes --json`, `explain`,
`evidence`); the cases live in tests/data/flag_attacks.yaml."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.classify.visible import shown
from monitor.views import terminal_safe
from tests.cli_helpers import Result, run_cli, write_watchlist
from tests.httpserver import LocalServer

CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "flag_attacks.yaml").read_text(encoding="utf-8")
)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Privacy</title></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav><main><h1>Privacy Policy</h1>
<p>We collect the content you create, such as posts and photos, and information about how
you use our services, the devices you use and the people you interact with.</p>
<h2>How we use information</h2>
<p>We use information to provide, personalise and improve our services and to keep our
community safe and secure for everyone who uses them.</p>
{body}
<h2>Your choices</h2><p>You can access, correct or delete your information at any time in
your account settings, and you can ask us questions about this policy.</p>
</main><footer><a href="/terms">Terms</a> <a href="/help">Help</a></footer></body></html>"""


def page(body: str = "") -> bytes:
    return PAGE.format(body=body).encode()


class Site:
    """One document served at /p, checked with the real CLI into ``tmp/data``."""

    def __init__(self, server: LocalServer, tmp: Path, capsys: pytest.CaptureFixture[str]):
        self.server, self.capsys = server, capsys
        self.data = str(tmp / "data")
        self.watchlist = str(write_watchlist(tmp / "watchlist.yaml", {"doc": server.url("/p")}))

    def cli(self, *args: str) -> Result:
        return run_cli(self.capsys, *args, "--data", self.data)

    def check(self, body: bytes) -> Result:
        self.server.route("/p", body=body)
        done = self.cli("check", "--watchlist", self.watchlist)
        assert done.code == 0, done.err
        return done

    def changes(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.cli("changes", "--json").out)
        return rows


@pytest.fixture
def site(local_server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Site:
    return Site(local_server, tmp_path, capsys)


@pytest.mark.parametrize("case", CASES["silence"], ids=lambda case: case["name"])
def test_ai_training_wording_a_reader_sees_is_flagged_and_quoted_as_stored(
    site: Site, tmp_path: Path, case: dict[str, Any]
) -> None:
    """Attack: AI-training wording with characters no reader sees inside its words (soft
    hyphens, zero-width characters, bidi marks, variation selectors...). Once: a change
    recorded, not flagged (the rules read "tr\\u00adain"). Now flagged; the phrase is the
    stored text's own characters (so `first-seen` and the evidence files find it), and
    reads as the page shows it once the invisible characters are taken out."""
    site.check(page())
    site.check(page(f"<p>{case['html']}</p>"))
    [change] = site.changes()
    assert change["ai_training"] is True, change
    [flag] = change["flags"]
    assert shown(flag["phrase"]) == case["shown"]
    out = tmp_path / "evidence"
    assert site.cli("evidence", str(change["id"]), "--out", str(out)).code == 0
    [after] = out.glob("after-*-text.txt")
    assert flag["sentence"] in after.read_text(encoding="utf-8")
    assert flag["phrase"] in flag["sentence"]
    assert terminal_safe(flag["phrase"]) in site.cli("explain", str(change["id"])).out


@pytest.mark.parametrize("case", CASES["invisible_edit"], ids=lambda case: case["name"])
def test_invisible_characters_put_into_a_flagged_sentence_raise_no_flag(
    site: Site, case: dict[str, Any]
) -> None:
    """Attack: a left-to-right mark, a variation selector or tag characters put into an
    AI-training sentence already there. Once: "AI-training changed", the same visible
    sentence quoted as removed and as added (its words compared with the mark splitting
    one). Now the words are compared as a reader reads them: no flag."""
    site.check(page(f"<p>{case['before']}</p>"))
    site.check(page(f"<p>{case['after']}</p>"))
    flagged = [change for change in site.changes() if change["ai_training"]]
    assert flagged == []


SECTION = """<h2>Section {i}</h2><div {attrs}><p>This section explains in plain words how we
handle the information number {i} that you give us when you use the services, and why we
need it.</p><p>We keep it only as long as we need it for the purposes of section {i}.</p>
{extra}</div>"""
PANEL_AI = "<p>We may use your public posts and photos to train our AI models.</p>"


def accordion(attrs: str, wrap: str = "main", ai: bool = False) -> bytes:
    sections = "".join(
        SECTION.format(i=i, attrs=attrs, extra=PANEL_AI if ai and i == 3 else "") for i in range(6)
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"></head><body><nav><a href="/">'
        f"Home</a></nav><{wrap}><h1>Privacy Policy</h1><p>Read each section below.</p>"
        f"{sections}</{wrap}><footer>Example</footer></body></html>"
    ).encode()


@pytest.mark.parametrize("case", CASES["folded"], ids=lambda case: case["name"])
def test_an_ai_clause_added_to_a_collapsed_accordion_panel_is_flagged(
    site: Site, case: dict[str, Any]
) -> None:
    """Attack: the policy's sections in collapsed accordion panels (``hidden``,
    ``hidden="until-found"``, jQuery's inline ``display: none``, ``aria-hidden``), an
    AI-training clause added to one. Once: the text was the headings alone and the clause
    raised nothing ("unchanged"). Now a panel of prose inside the content is read as a
    closed <details> is: the clause is flagged."""
    wrap = case.get("wrap", "main")
    site.check(accordion(case["attrs"], wrap))
    done = site.check(accordion(case["attrs"], wrap, ai=True))
    assert "AI-training language added" in done.out, done.out
    [change] = site.changes()
    assert [flag["sentence"] for flag in change["flags"]] == [
        "We may use your public posts and photos to train our AI models."
    ]


PART = """<h2>Part {i}</h2><p>This part of the policy explains in plain words how we handle
information number {i} that you give us when you use the services, and why we need it for
the purposes set out here.</p><p>We keep it only as long as we need it and delete it after
that period, unless the law requires us to keep it longer.</p>"""


def long_policy(box: str, layout: str) -> bytes:
    if layout == "in-main":
        parts = "".join(PART.format(i=i) for i in range(20))
        html = f"<main><h1>Privacy Policy</h1>{parts}{box}</main>"
    else:
        parts = "".join(f"<section>{PART.format(i=i)}</section>" for i in range(20))
        html = f'<div id="app"><div class="top"><a href="/">Home</a></div>{parts}{box}</div>'
    head = '<!doctype html><html><head><meta charset="utf-8"></head>'
    return f"{head}<body>{html}</body></html>".encode()


@pytest.mark.parametrize("layout", ["in-main", "sections"])
@pytest.mark.parametrize("case", CASES["chrome"], ids=lambda case: case["name"])
def test_ai_words_in_page_chrome_or_invisible_markup_raise_nothing(
    site: Site, case: dict[str, Any], layout: str
) -> None:
    """Attack: AI-training words in a consent box, a pinned bar, a dialog, markup no
    reader sees (template, noscript, JSON-LD, SVG title, alt and title attributes) or a
    hidden tooltip, put into the policy's own content block. Once (the cases marked "was
    flagged"): "changed: ... (AI-training language added)", quoting the banner. Now
    nothing is recorded: the box is chrome (a consent platform's name, pinned over the
    page), and the page's text is what it was."""
    site.check(long_policy("", layout))
    done = site.check(long_policy(case["box"], layout))
    assert "unchanged" in done.out, done.out
    assert site.changes() == []


RUN_ON_CPU_S = 15  # the check below took 59 s of CPU before, 1-2 s since (loose: load)


def test_one_paragraph_of_thousands_of_training_clauses_is_checked_in_seconds(
    site: Site,
) -> None:
    """Attack: one paragraph (265 KB, no full stop) of 3,000 training clauses. Its
    sentences are cut into bounded parts (250 flags), but the board read the whole
    paragraph again for each of them and each of its sentences again per facet: 59 s of
    CPU for one check (quadratic: a 1 MB paragraph, the better part of an hour, the
    daemon's writer held all along). Each line's passage is now read once and each
    sentence's facets remembered: the board still says yes, in a second or two."""
    clauses = " ".join(
        f"We may use your public posts number {i} and photos to train our AI models {i},"
        for i in range(3000)
    )
    site.check(page())
    start = time.process_time()
    done = site.check(page(f"<p>{clauses}</p>"))
    assert time.process_time() - start < RUN_ON_CPU_S
    assert "AI-training language added" in done.out
    [change] = site.changes()
    assert len(change["flags"]) > 200
    board = json.loads(site.cli("board", "--json").out)
    cells = board["documents"][0]["cells"]
    assert cells["trains_on_user_data"]["value"] == "yes"
    assert cells["data_used"]["which"] == ["posts", "photos", "public information"]
