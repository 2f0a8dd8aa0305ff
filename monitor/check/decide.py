"""The decision of one check: a pure function over an explicit table of states.

``decide(state, observation)`` looks at what is recorded of a document and what one fetch
showed, and returns a :class:`Decision` naming the row of the table below; applying it
(monitor/check/apply.py) is one transaction. Nothing here reads or writes anything.

    state         when                                           records
    ------------  ---------------------------------------------  -------------------------
    failed        no response, an error page, no policy text,    the attempt; failures + 1
                  or a 304 with nothing stored                   ("failing" event at the
                                                                 threshold)
    wall          a short login / consent / bot / error page     the attempt and snapshot,
                  (never a version, not even the first)          as a failure (quarantined)
    baseline      the first readable text                        version 1, no alert
    unchanged     the same words (or 304)                        last seen; the response's
                                                                 validators
    stale         a 304 to validators that are no longer the     the attempt only: no
                  recorded ones (another check recorded a        version seen, no failure;
                  newer response after they were chosen)         the next check compares
    held          a text that lost most of the words             the hold; validators
                                                                 cleared so the next fetch
                                                                 is whole
    confirmed     the held text seen again                       a version and a change
                                                                 (note: held and confirmed)
    changed       new words                                      a version and a change
    reverted      the words of an earlier version, not           a change back to it, with
                  alternating                                    its own AI direction
    alternating   an earlier text while both texts were seen     current = that version,
                  in turn within the A/B window (A/B, regions)   no change
    recovered     any success after the "failing" event          a "recovered" event
    upgraded      the current snapshot reads differently with    a new baseline version
                  a newer extractor                              and an upgrade record, no
                                                                 alert (then the row above)

Validators are stored only with the text they validate (baseline, unchanged, changed,
confirmed, reverted, alternating), never from a held, wall or failed response.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from monitor.check.observe import Observation, text_key
from monitor.check.suspect import suspect_reason, wall_reason, words
from monitor.models import Change, Classification, Diff, DocState, Held, Validators, Watch

NO_VALIDATORS = Validators()
NOT_MODIFIED_EMPTY = "server said 304 Not Modified but no version is stored; will refetch"
# A last whole fetch later than now by more than this was recorded by a clock that ran
# ahead: it is no reason to trust the validators (it would be for as long as it ran ahead).
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Policy:
    """The settings a decision depends on."""

    alert_after: int = 3  # failures in a row before a "failing" event
    # A return to an earlier text stays quiet only when both texts were seen in turn this
    # recently (A/B tests and regional variants flip often; a withdrawn clause does not).
    ab_window: timedelta = timedelta(days=3)
    # Conditional requests are an optimisation: a whole body at least this often.
    full_fetch_every: timedelta = timedelta(days=1)


@dataclass(frozen=True)
class NewVersion:
    number: int
    text: str
    key: str
    snapshot: str
    upgrade: bool = False  # a technical upgrade's baseline


@dataclass(frozen=True)
class Base:
    """The text a new observation is compared with (the current one, maybe re-read)."""

    number: int
    text: str
    key: str


@dataclass(frozen=True)
class Decision:
    state: str  # a row of the table above
    status: str  # CheckOutcome.status
    message: str
    result: str  # the fetch row: "ok", "not-modified", "failed"
    failures: int  # failures in a row after this check
    health: str | None = None  # "failing" or "recovered": an event for operators
    failing: bool = False  # failures in a row are at or past the alert threshold
    error: str = ""
    upgrade: NewVersion | None = None
    stamp: bool = False  # the newer extractor reads the current text unchanged
    version: NewVersion | None = None  # a new text to store
    current: int | None = None  # the version this check saw (becomes current)
    change: Change | None = None
    hold: Held | None = None
    clear_hold: bool = False
    validators: Validators | None = None  # to store; None leaves the stored ones
    full_fetch: bool = False  # a whole body came back


def request_validators(state: DocState, now: datetime, policy: Policy = Policy()) -> Validators:
    """The validators to send: none when no whole body came back for too long."""
    sendable = (state.current is not None, state.last_full_fetch, state.validators)
    return validators_for(sendable, now, policy)


def validators_for(
    sendable: tuple[bool, datetime | None, Validators], now: datetime, policy: Policy = Policy()
) -> Validators:
    """:func:`request_validators` from (current version stored, last whole fetch, stored
    validators): what a sweep loads for every document in one query."""
    has_current, last, validators = sendable
    if not has_current or last is None or now - last >= policy.full_fetch_every:
        return NO_VALIDATORS
    if last - now > CLOCK_SKEW:  # recorded in the future: the clock was wrong then or now
        return NO_VALIDATORS
    return validators


def decide(state: DocState, obs: Observation, watch: Watch, policy: Policy = Policy()) -> Decision:
    """The row of the table for this observation, and everything it records."""
    if obs.kind in ("error", "unreadable"):
        return _failure(state, obs, policy, "failed", f"failed: {obs.error}")
    if _answers_older(state, obs):
        return _stale(state, policy)
    upgrade, stamp, base = _rebase(state, obs)
    decision = _on_text(state, obs, watch, policy, base)
    if decision.result == "failed":
        return decision
    return replace(
        decision,
        upgrade=upgrade,
        stamp=stamp,
        message=_upgrade_note(upgrade, state) + decision.message,
    )


def _answers_older(state: DocState, obs: Observation) -> bool:
    """Whether a 304 answered validators other than those now recorded: they were chosen
    before the fetch, and another process (the daemon, a `check`) recorded a newer
    response since, so "not modified" says nothing of the version now current."""
    return (
        obs.kind == "not-modified"
        and obs.sent is not None
        and state.current is not None
        and obs.sent != state.validators
    )


def _stale(state: DocState, policy: Policy) -> Decision:
    """Neither a success nor a failure: the fetch is recorded, nothing is claimed."""
    assert state.current is not None
    message = (f"not compared: the server answered 304 Not Modified to validators older than "
               f"those of v{state.current.number}, recorded meanwhile by another check; the "
               "next check compares it")  # fmt: skip
    return Decision(
        state="stale", status="stale", message=message, result="not-modified",
        failures=state.failures, failing=state.failures >= policy.alert_after,
    )  # fmt: skip


def _on_text(
    state: DocState, obs: Observation, watch: Watch, policy: Policy, base: Base | None
) -> Decision:
    if obs.kind == "not-modified":
        if base is None:
            failure = _failure(state, obs, policy, "failed", f"failed: {NOT_MODIFIED_EMPTY}")
            return replace(failure, validators=NO_VALIDATORS)
        return _seen(
            state, obs, policy, "unchanged", f"unchanged (v{base.number}, 304)", base.number
        )
    wall = wall_reason(obs.text, base.text if base else None)
    if wall:
        return _failure(state, obs, policy, "wall", f"quarantined, not recorded: {wall}")
    if base is None:
        version = _version(obs, 1)
        return _seen(state, obs, policy, "baseline", "first version (v1)", None, version=version)
    if obs.key == base.key:
        return _seen(state, obs, policy, "unchanged", f"unchanged (v{base.number})", base.number)
    return _on_new_words(state, obs, watch, policy, base)


def _on_new_words(
    state: DocState, obs: Observation, watch: Watch, policy: Policy, base: Base
) -> Decision:
    reason = suspect_reason(base.text, obs.text)
    confirmed = state.held is not None and state.held.key == obs.key
    if reason and not confirmed:
        message = f"held as suspect, not recorded until seen again: {reason}"
        held = Held(obs.key, reason, obs.at)
        # No validators: the next fetch is whole, so a server that keeps its ETag cannot
        # hide the held text (or its end) behind a 304.
        return _success(
            state,
            policy,
            "held",
            "suspect",
            message,
            hold=held,
            validators=NO_VALIDATORS,
            full_fetch=True,
        )
    earlier = state.version_with_key(obs.key)  # never the base: its words differ
    if earlier is not None:
        return _return_to(state, obs, watch, policy, base, earlier)
    number = _next_number(state, base)
    version = _version(obs, number)
    note = _confirmed_note(state.held) if confirmed else ""
    change = _change(watch, base, obs, number, note)
    state_name = "confirmed" if confirmed else "changed"
    message = _change_message(change, note)
    return _seen(state, obs, policy, state_name, message, None, version=version, change=change)


def _return_to(
    state: DocState, obs: Observation, watch: Watch, policy: Policy, base: Base, earlier: int
) -> Decision:
    """The words of an earlier version: A/B flipping stays quiet, a real return is a change."""
    if _alternating(state.recent, earlier, base.number):
        message = f"alternating: back to v{earlier} (both texts seen in turn recently), no alert"
        return _seen(state, obs, policy, "alternating", message, earlier, status="alternating")
    note = f"returned to the text of v{earlier}"
    change = _change(watch, base, obs, earlier, note)
    return _seen(
        state, obs, policy, "reverted", _change_message(change, note), earlier, change=change
    )


def _alternating(recent: tuple[int, ...], a: int, b: int) -> bool:
    """Whether the two versions were already seen in turn (a, b, a or b, a, b) recently."""
    seen = [n for n in recent if n in (a, b)]
    runs = [n for i, n in enumerate(seen) if i == 0 or seen[i - 1] != n]
    return len(runs) >= 3


def _rebase(state: DocState, obs: Observation) -> tuple[NewVersion | None, bool, Base | None]:
    """The text to compare with: the current one, or its snapshot re-read by a new extractor."""
    current = state.current
    if current is None:
        return None, False, None
    base = Base(current.number, current.text, current.key_sha256)
    if obs.reread is None:
        return None, False, base
    key = text_key(obs.reread)
    if key == current.key_sha256:
        return None, True, base
    number = state.last_number + 1
    upgrade = NewVersion(number, obs.reread, key, current.snapshot_sha256, upgrade=True)
    return upgrade, False, Base(number, obs.reread, key)


def _upgrade_note(upgrade: NewVersion | None, state: DocState) -> str:
    if upgrade is None or state.current is None:
        return ""
    old = state.current.extractor
    number = state.current.number
    return f"extractor upgraded from {old}: v{number} re-read as v{upgrade.number}, no alert; "


def _next_number(state: DocState, base: Base) -> int:
    # After an upgrade the new baseline took the next number: a new text gets the one after.
    return max(state.last_number, base.number) + 1


def _version(obs: Observation, number: int) -> NewVersion:
    """New words, read from the snapshot this observation stored."""
    assert obs.snapshot is not None
    return NewVersion(number, obs.text, obs.key, obs.snapshot)


def _confirmed_note(held: Held | None) -> str:
    if held is None:
        return ""
    since = held.since.isoformat(timespec="seconds")
    return f"held as suspect since {since} ({held.reason}) and seen again"


def prepare(new: str, old: str | None) -> None:
    """Does now the pure work a decision on ``new`` (the text of a page) after ``old``
    (the current text, when the words are new) will ask for, so that decision, in the
    check's transaction, finds it done: word counts, and the diff, the verdict and the
    rules' version (each cached: :func:`words`, :func:`_compare`, ``classifier_version``)."""
    words(new)
    if old is not None:
        words(old)
        _compare(old, new)
        _classifier_version()


@lru_cache(maxsize=16)
def _compare(old: str, new: str) -> tuple[Diff, Classification]:
    """The diff and the verdict of two texts (pure: imported histories that flip between
    regional variants compare the same pair again and again). The diff and the rules are
    imported here: most checks see no new words and need neither."""
    from monitor.classify import classify
    from monitor.diff import diff_texts

    return diff_texts(old, new), classify(old, new)


def _classifier_version() -> str:
    from monitor.classify import classifier_version

    return classifier_version()


def _change(watch: Watch, base: Base, obs: Observation, number: int, note: str) -> Change:
    diff, verdict = _compare(base.text, obs.text)
    return Change(
        id=0, document=watch.id, company=watch.company, title=watch.title, url=watch.url,
        detected_at=obs.at, kind="changed", from_version=base.number, to_version=number,
        added=diff.added, removed=diff.removed,
        added_chars=sum(len(p) for p in diff.added),
        removed_chars=sum(len(p) for p in diff.removed),
        diff_text=diff.rendered, flags=verdict.flags, ai_related=verdict.ai_related, note=note,
        classifier=_classifier_version(),
    )  # fmt: skip


def _change_message(change: Change, note: str) -> str:
    label = f" (AI-training language {change.direction})" if change.flags else ""
    extra = f"; {note}" if note else ""
    return f"changed: v{change.from_version} -> v{change.to_version}{label}{extra}"


def _seen(
    state: DocState, obs: Observation, policy: Policy, name: str, message: str,
    current: int | None, *, version: NewVersion | None = None, change: Change | None = None,
    status: str = "",
) -> Decision:  # fmt: skip
    """A success that saw a text: it becomes current and its validators are stored."""
    status = status or {"baseline": "first", "unchanged": "unchanged"}.get(name, "changed")
    seen = version.number if version else current
    page = obs.kind == "page"
    return _success(
        state, policy, name, status, message, version=version, current=seen, change=change,
        clear_hold=True, validators=obs.validators if page else None, full_fetch=page,
        result="ok" if page else "not-modified",
    )  # fmt: skip


def _success(
    state: DocState, policy: Policy, name: str, status: str, message: str, **fields: object
) -> Decision:
    recovered = state.failures >= policy.alert_after
    fields.setdefault("result", "ok")
    return Decision(
        state=name, status=status, message=message, failures=0,
        health="recovered" if recovered else None, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def _failure(
    state: DocState, obs: Observation, policy: Policy, name: str, message: str
) -> Decision:
    failures = state.failures + 1
    failing = state.failures < policy.alert_after <= failures
    return Decision(
        state=name, status="quarantined" if name == "wall" else "failed", message=message,
        result="failed", failures=failures, health="failing" if failing else None,
        failing=failures >= policy.alert_after,
        error=message.removeprefix("failed: "), full_fetch=obs.snapshot is not None,
    )  # fmt: skip
