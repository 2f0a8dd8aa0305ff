"""The decision table of a check (monitor/check/decide.py), row by row, as pure data.

Each case is a document's recorded state, what one fetch showed, and the row it must land
on with what it records. Every row of the table has at least one case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from monitor.check import decide as table
from monitor.check.decide import Decision, Policy, decide, request_validators
from monitor.check.observe import Observation, text_key
from monitor.classify import classifier_version
from monitor.models import DocState, Held, Validators, Version, Watch

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WATCH = Watch("doc", "Example", "Privacy Policy", "http://x.test/p")
POLICY = " ".join(
    f"Clause {i}: we keep the data you give us for a limited time." for i in range(40)
)
EDITED = POLICY + " We may use your posts to train our AI models."
SHORT = " ".join(POLICY.split()[:30])  # most of the words gone
WALL = "Log in to continue. You must sign in to see this page."
V1_VALIDATORS = Validators('"v1"', "Mon, 30 Nov 2026 10:00:00 GMT")
NEW_VALIDATORS = Validators('"new"', None)


def version(number: int, text: str, extractor: str = "1") -> Version:
    return Version("doc", number, "t", text_key(text), f"snap{number}", NOW, NOW, text, extractor)


def state(
    *texts: str, current: int | None = None, held: str | None = None, failures: int = 0,
    recent: tuple[int, ...] = (), extractor: str = "1",
) -> DocState:  # fmt: skip
    """A document with these versions (v1, v2...); the last is current unless told."""
    number = current or len(texts)
    now = version(number, texts[number - 1], extractor) if texts else None
    return DocState(
        "doc", current=now, failures=failures, last_number=len(texts), recent=recent,
        held=Held(text_key(held), "shrank", NOW - timedelta(hours=6)) if held else None,
        keys=tuple((text_key(t), n) for n, t in enumerate(texts, 1)), validators=V1_VALIDATORS,
        last_full_fetch=NOW - timedelta(hours=1),
    )  # fmt: skip


def page(text: str, reread: str | None = None) -> Observation:
    return Observation("page", NOW, text=text, key=text_key(text), snapshot="snapnew",
                       validators=NEW_VALIDATORS, reread=reread)  # fmt: skip


ERROR = Observation("error", NOW, error="HTTP 503 Service Unavailable; try again later")
UNREADABLE = Observation("unreadable", NOW, error="no policy text: page has no readable text")
NOT_MODIFIED = Observation("not-modified", NOW, sent=V1_VALIDATORS)
# a 304 to validators chosen before another process recorded a newer response (ops8)
NOT_MODIFIED_OLDER = Observation("not-modified", NOW, sent=Validators('"v0"', None))


@dataclass(frozen=True)
class Case:
    name: str
    state: DocState
    obs: Observation
    row: str
    status: str
    expect: dict[str, object] = field(default_factory=dict)


CASES = [
    Case("network error", state(POLICY), ERROR, "failed", "failed",
         {"failures": 1, "health": None, "validators": None}),
    Case("third failure in a row", state(POLICY, failures=2), ERROR, "failed", "failed",
         {"failures": 3, "health": "failing", "failing": True}),
    Case("no policy text", state(POLICY), UNREADABLE, "failed", "failed", {"failures": 1}),
    Case("304 with nothing stored", state(), NOT_MODIFIED, "failed", "failed",
         {"validators": Validators()}),
    Case("wall on the very first check", state(), page(WALL), "wall", "quarantined",
         {"version": None, "change": None, "failures": 1, "full_fetch": True}),
    Case("wall after a real version", state(POLICY), page(WALL), "wall", "quarantined",
         {"version": None, "change": None, "validators": None, "current": None}),
    Case("first readable text", state(), page(POLICY), "baseline", "first",
         {"change": None, "validators": NEW_VALIDATORS, "current": 1}),
    Case("same words", state(POLICY), page(POLICY), "unchanged", "unchanged",
         {"validators": NEW_VALIDATORS, "current": 1, "clear_hold": True}),
    Case("304", state(POLICY), NOT_MODIFIED, "unchanged", "unchanged",
         {"validators": None, "current": 1, "result": "not-modified"}),
    Case("304 to older validators", state(POLICY, failures=1), NOT_MODIFIED_OLDER, "stale",
         "stale", {"validators": None, "current": None, "result": "not-modified",
                   "failures": 1, "health": None, "clear_hold": False, "full_fetch": False}),
    Case("304 to older validators of a held text", state(POLICY, held=SHORT),
         NOT_MODIFIED_OLDER, "stale", "stale", {"clear_hold": False, "change": None}),
    Case("most words gone", state(POLICY), page(SHORT), "held", "suspect",
         {"version": None, "change": None, "validators": Validators(), "current": None}),
    Case("held text seen again", state(POLICY, held=SHORT), page(SHORT), "confirmed",
         "changed", {"validators": NEW_VALIDATORS, "current": 2}),
    Case("new words", state(POLICY), page(EDITED), "changed", "changed", {"current": 2}),
    Case("return to v1 after a real edit", state(POLICY, EDITED, recent=(1, 1, 2)),
         page(POLICY), "reverted", "changed", {"version": None, "current": 1}),
    Case("A/B flipping", state(POLICY, EDITED, recent=(1, 2, 1, 2)), page(POLICY),
         "alternating", "alternating", {"change": None, "version": None, "current": 1}),
    Case("success after failing", state(POLICY, failures=4), page(POLICY), "unchanged",
         "unchanged", {"health": "recovered", "failures": 0}),
    Case("newer extractor, same text", state(POLICY), page(POLICY, reread=POLICY), "unchanged",
         "unchanged", {"stamp": True, "upgrade": None}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_decision_table(case: Case) -> None:
    decision = decide(case.state, case.obs, WATCH)
    assert (decision.state, decision.status) == (case.row, case.status), decision.message
    for name, wanted in case.expect.items():
        assert getattr(decision, name) == wanted, f"{name}: {decision.message}"


def test_every_row_of_the_table_has_a_case() -> None:
    rows = {c.row for c in CASES} | {"upgraded", "recovered"}
    documented = set(re.findall(r"^    ([a-z]+) ", table.__doc__ or "", re.MULTILINE))
    assert documented - {"state"} == rows, documented


def test_a_held_text_never_stays_held() -> None:
    """Seen again it is confirmed, with a note saying it was held."""
    decision = decide(state(POLICY, held=SHORT), page(SHORT), WATCH)
    assert decision.change is not None and "held as suspect since" in decision.change.note
    assert decision.version is not None and decision.version.text == SHORT


def test_a_change_records_the_rules_that_classified_it() -> None:
    decision = decide(state(POLICY), page(EDITED), WATCH)
    assert decision.change is not None and decision.change.classifier == classifier_version()
    assert decision.change.classifier.startswith("rules")


def test_withdrawn_clause_has_its_own_direction() -> None:
    decision = decide(state(POLICY, EDITED, recent=(1, 2)), page(POLICY), WATCH)
    assert decision.change is not None
    assert (decision.change.from_version, decision.change.to_version) == (2, 1)
    assert decision.change.direction == "removed"
    assert "returned to the text of v1" in decision.message


def test_upgrade_is_a_new_baseline_then_the_check_goes_on() -> None:
    reread = POLICY + " Reads a caption the old extractor missed."
    same_bytes = decide(state(POLICY), page(reread, reread=reread), WATCH)
    assert same_bytes.state == "unchanged" and same_bytes.change is None
    assert same_bytes.upgrade is not None and same_bytes.upgrade.number == 2
    assert same_bytes.upgrade.upgrade and "extractor upgraded" in same_bytes.message
    edited = decide(state(POLICY), page(reread + " New clause.", reread=reread), WATCH)
    assert edited.change is not None and (edited.change.from_version, edited.change.to_version) == (
        2,
        3,
    )


@pytest.mark.parametrize(
    "last_full,current,expected",
    [
        (timedelta(hours=1), True, V1_VALIDATORS),
        (timedelta(hours=25), True, Validators()),  # a day without a whole body
        (None, True, Validators()),
        (timedelta(hours=1), False, Validators()),  # nothing stored: nothing to validate
    ],
)
def test_request_validators(
    last_full: timedelta | None, current: bool, expected: Validators
) -> None:
    base = state(POLICY) if current else state()
    when = NOW - last_full if last_full else None
    doc = DocState("doc", base.current, validators=V1_VALIDATORS, last_full_fetch=when)
    assert request_validators(doc, NOW, Policy()) == expected


def test_decision_is_pure() -> None:
    first = decide(state(POLICY), page(EDITED), WATCH)
    again = decide(state(POLICY), page(EDITED), WATCH)
    assert isinstance(first, Decision) and first == again
