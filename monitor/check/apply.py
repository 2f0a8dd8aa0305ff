"""Applies a check's decision to the store; the caller holds the transaction."""

from __future__ import annotations

from monitor.check.decide import Decision, NewVersion
from monitor.check.observe import Observation
from monitor.models import CheckOutcome, DocState, Watch
from monitor.store import Store


def apply(
    store: Store, watch: Watch, state: DocState, obs: Observation, decision: Decision
) -> CheckOutcome:
    """Records everything the decision says, in the order the rows depend on each other."""
    doc = watch.id
    if decision.stamp and state.current is not None:
        store.stamp_extractor(doc, state.current.number, obs.extractor)
    if decision.upgrade is not None and state.current is not None:
        _add_version(store, doc, decision.upgrade, obs)
        store.add_upgrade(doc, obs.at, state.current.number, decision.upgrade.number,
                          state.current.extractor, obs.extractor)  # fmt: skip
    if decision.version is not None:
        _add_version(store, doc, decision.version, obs)
    if decision.current is not None:
        _set_current(store, doc, state, decision, obs)
    change_id = None
    if decision.change is not None:
        change_id = store.add_change(decision.change).id
    _apply_document(store, doc, state, obs, decision)
    store.record_fetch(doc, _fetch_row(obs, decision))
    failing = decision.health == "failing"  # its run's first failure: with this fetch's row
    return CheckOutcome(
        doc, decision.status, decision.message, change_id,
        ai_training=decision.change is not None and decision.change.ai_training,
        failing=decision.failing, state=decision.state, health=decision.health,
        failures=decision.failures if failing else state.failures,
        failing_since=store.status(doc).failing_since if failing else None,
    )  # fmt: skip


def _add_version(store: Store, doc: str, version: NewVersion, obs: Observation) -> None:
    number = store.add_version(doc, version.text, version.key, version.snapshot, obs.at,
                               extractor=obs.extractor, upgrade=version.upgrade)  # fmt: skip
    if number != version.number:  # the decision and the store disagree: a bug, stop here
        raise RuntimeError(f"{doc}: version {number} stored where v{version.number} was decided")


def _set_current(
    store: Store, doc: str, state: DocState, decision: Decision, obs: Observation
) -> None:
    """The current version as decided; one that stays current is only seen again (most
    checks: the document's row is not rewritten with the number it holds)."""
    assert decision.current is not None
    stays = decision.version is None and decision.upgrade is None
    if stays and state.current is not None and state.current.number == decision.current:
        store.seen_again(doc, decision.current, obs.at)
    else:
        store.set_current(doc, decision.current, obs.at)


def _apply_document(
    store: Store, doc: str, state: DocState, obs: Observation, decision: Decision
) -> None:
    if decision.hold is not None:
        store.set_hold(doc, decision.hold)
    elif decision.clear_hold and state.held is not None:
        store.set_hold(doc, None)
    if decision.validators is not None:
        store.set_validators(doc, decision.validators)
    if decision.full_fetch:
        store.set_last_full_fetch(doc, obs.at)
    if decision.failures != state.failures:  # most checks: 0 failures, as before
        store.set_failures(doc, decision.failures)
    if decision.health is not None:
        failures = decision.failures if decision.health == "failing" else state.failures
        error = decision.error if decision.health == "failing" else ""
        store.record_health(doc, decision.health, obs.at, failures, error)


def _fetch_row(obs: Observation, decision: Decision) -> dict[str, object]:
    return dict(
        obs.attempt, result=decision.result, error=decision.error, state=decision.state,
        snapshot_sha256=obs.snapshot, version=decision.current,
    )  # fmt: skip
