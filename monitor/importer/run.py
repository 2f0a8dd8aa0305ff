"""Records an archive's steps as a check would have recorded them, one transaction each.

Each step is observed (raw snapshot stored with its sha256, read into text by the check's
extractor), decided over the check's own table (monitor/check/decide.py) and applied
(monitor/check/apply.py), with the archive's time as the check's "now". The rows it writes
carry the step's origin (archive, id, time). A step already recorded is skipped, so an
interrupted import resumes where it stopped and a second import adds nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from monitor.check.apply import apply
from monitor.check.decide import Decision, Policy, decide
from monitor.check.observe import Extractor, observe
from monitor.errors import ArchiveError, ExtractError, FetchError
from monitor.importer.ahead import Workers
from monitor.importer.steps import Body, Step
from monitor.models import CheckOutcome, FetchResult, Origin, Watch
from monitor.store import (
    Store,
    attempt_columns,
    fill_origin,
    imported_refs,
    latest_record,
    sha256,
    tag_version,
    unsourced_refs,
)

# History has no operators to wake: no "failing" events however many captures fail in a row.
NEVER_ALERT = 10**9
# An archive's clock may run a little ahead; a step dated past this is not a record of it.
FUTURE_SKEW = timedelta(days=1)
# No archive holds a web page from before this (and year 1 overflows the check's windows).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass
class Report:
    """What an import did, for the summary line and the progress display."""

    document: str
    archive: str
    steps: int = 0
    imported: int = 0
    skipped: int = 0  # recorded by an earlier run
    sourced: int = 0  # of those, recorded before m015: their source and file filled in
    older: int = 0  # older than what the document already recorded
    ignored: int = 0  # not a version of the page (e.g. an OTA technical re-extraction)
    changes: int = 0
    ai_changes: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.imported} step(s) imported", f"{self.changes} change(s)",
                 f"{self.ai_changes} AI-training"]  # fmt: skip
        for count, what in ((self.skipped, "already imported"), (self.sourced, "of them "
                             "with their source and file filled in"), (self.older, "older than "
                             "what is recorded, skipped"), (self.ignored, "not versions"),
                            (len(self.problems), "failed")):  # fmt: skip
            if count:
                parts.append(f"{count} {what}")
        # Was: "50 older than what is recorded, skipped" after a `make run` whose failed
        # fetches (no internet) recorded no version: nothing said what to do.
        hint = (" (history goes first: import before the first `check`, or into a new"
                " --data directory)" if self.older else "")  # fmt: skip
        return f"{self.document}: {self.archive}: " + ", ".join(parts) + hint


Tick = Callable[[Report, Step, str], None]
Hold = Callable[[], AbstractContextManager[object]]


def _no_tick(report: Report, step: Step, status: str) -> None:
    return None


def import_steps(
    store: Store,
    watch: Watch,
    archive: str,
    steps: Iterable[Step],
    *,
    policy: Policy | None = None,
    extractor: Extractor | None = None,
    tick: Tick = _no_tick,
    hold: Hold = nullcontext,
    workers: Workers | None = None,
) -> Report:
    """Records each new step of ``archive`` for ``watch`` (steps oldest first). ``hold``
    guards each step's writes (the data directory's lock: taken per step, never while an
    archive is read, so checks and the daemon go on during a long import). ``workers``
    read a local archive ahead and extract its texts in parallel (monitor/importer/ahead.py)."""
    policy = replace(policy or Policy(), alert_after=NEVER_ALERT)
    raw = extractor or Extractor()
    extractor = remembering(raw)
    report = Report(watch.id, archive)
    store.keep_texts()  # each step reads back the text the one before stored
    done = imported_refs(store, watch.id, archive)
    unsourced = unsourced_refs(store, watch.id, archive)
    if workers is not None:
        steps, extractor = workers.ahead(steps, watch, extractor, raw, _wanted(done))
    for step in steps:
        report.steps += 1
        if step.ref in unsourced:  # imported before m015: name where it came from at last
            with hold():
                origin = Origin(archive, step.ref, step.at, step.source, step.path)
                report.sourced += int(fill_origin(store, watch.id, origin) > 0)
        status = _step(store, watch, archive, step, (policy, extractor, hold), report, done)
        tick(report, step, status)
        if status == "unreachable":  # history goes in order: the next run resumes here
            break
    return report


def _wanted(done: set[str]) -> Callable[[Step], bool]:
    """The steps to read: those not recorded by an earlier run, and versions of the page."""
    return lambda step: step.ref not in done and not step.skip


def reading_ahead(
    store: Store, watch: Watch, archive: str, steps: list[Step], workers: Workers,
    extractor: Extractor | None = None,
) -> None:  # fmt: skip
    """Starts the workers on the first steps of the history :func:`import_steps` will be
    given next (with the same arguments): what it reads then is read already."""
    done = imported_refs(store, watch.id, archive)
    workers.prefetch(steps, watch, extractor or Extractor(), _wanted(done))


def _step(
    store: Store, watch: Watch, archive: str, step: Step,
    how: tuple[Policy, Extractor, Hold], report: Report, done: set[str],
) -> str:  # fmt: skip
    policy, extractor, hold = how
    if step.ref in done:
        report.skipped += 1
        return "skipped"
    if step.skip:
        report.ignored += 1
        return "ignored"
    if _older(store, watch, step):  # before reading the archive: no fetch for nothing
        report.older += 1
        return "older"
    if not EARLIEST <= step.at <= datetime.now(UTC) + FUTURE_SKEW:  # would head every feed
        when = "in the future" if step.at > EARLIEST else f"before {EARLIEST.year}"
        report.problems.append(f"{watch.id}: {archive} {step.ref}: dated {step.at.isoformat()}"
                               f", {when}: not recorded")  # fmt: skip
        return "failed"
    origin = Origin(archive, step.ref, step.at, step.source, step.path)
    try:
        body = step.load()
    except ArchiveError as exc:
        with hold():
            _record_failure(store, watch, origin, str(exc))
        report.problems.append(f"{watch.id}: {archive} {step.ref}: {exc}")
        done.add(step.ref)
        return "failed"
    except FetchError as exc:  # unreachable now: not recorded, the next run starts here
        report.problems.append(f"{watch.id}: {archive} {step.ref}: {exc}; stopped here, "
                               "run again to resume (will retry)")  # fmt: skip
        return "unreachable"
    with hold():
        if _older(store, watch, step):  # a check recorded something meanwhile
            report.older += 1
            return "older"
        outcome = record_step(store, watch, origin, body, policy, extractor)
    done.add(step.ref)
    if outcome.status in ("failed", "quarantined"):  # recorded as a failed step, no version
        report.problems.append(f"{watch.id}: {archive} {step.ref}: {outcome.message}")
        return "failed"
    report.imported += 1
    if outcome.change_id is not None:
        report.changes += 1
        report.ai_changes += int(outcome.ai_training)
        return "changed"
    return "imported"


def _older(store: Store, watch: Watch, step: Step) -> bool:
    """Whether the document recorded something after this step's time (history is
    recorded in order: a step cannot go before what is already there)."""
    latest = latest_record(store, watch.id)
    return latest is not None and step.at < latest


def record_step(
    store: Store, watch: Watch, origin: Origin, body: Body, policy: Policy, extractor: Extractor
) -> CheckOutcome:
    """One archived page, recorded in one transaction as a check at ``origin.archived_at``."""
    now = origin.archived_at
    result = FetchResult(url=body.url or watch.url, final_url=body.url or watch.url, status=200,
                         headers=(), body=body.data, content_type=body.content_type,
                         fetched_at=now, duration=0.0)  # fmt: skip
    with store.transaction():
        state = store.load_state(watch.id, now - policy.ab_window)
        obs = observe(store, watch, result, state, now, extractor)
        obs = replace(obs, attempt={**obs.attempt, **attempt_columns(origin)})
        decision = _with_origin(decide(state, obs, watch, policy), origin)
        outcome = apply(store, watch, state, obs, decision)
        _tag_versions(store, watch, decision, origin)
        store.set_failures(watch.id, state.failures)  # history's failures are not live ones
    return outcome


def _with_origin(decision: Decision, origin: Origin) -> Decision:
    if decision.change is None:
        return decision
    return replace(decision, change=replace(decision.change, origin=origin))


def _tag_versions(store: Store, watch: Watch, decision: Decision, origin: Origin) -> None:
    for version in (decision.upgrade, decision.version):
        if version is not None:
            tag_version(store, watch.id, version.number, origin)


def remembering(extractor: Extractor, size: int = 256) -> Extractor:
    """The extractor, remembering the texts of the last ``size`` distinct bodies: histories
    that flip between regional or A/B variants archive the same bytes again and again."""
    known: OrderedDict[tuple[str, str, tuple[str, ...], tuple[str, ...]], str | ExtractError]
    known = OrderedDict()

    def read(body: bytes, kind: str, select: tuple[str, ...], remove: tuple[str, ...]) -> str:
        key = (sha256(body), kind, select, remove)
        if key not in known:
            try:
                known[key] = extractor.text(body, kind, select, remove)
            except ExtractError as exc:
                known[key] = exc
            if len(known) > size:
                known.popitem(last=False)
        found = known[key]
        if isinstance(found, ExtractError):
            raise found
        return found

    return Extractor(version=extractor.version, read=read)


def _record_failure(store: Store, watch: Watch, origin: Origin, error: str) -> None:
    """A step that is not a page: its attempt is kept (with the error), nothing else."""
    row = {"started_at": origin.archived_at, "duration": 0.0, "url": watch.url,
           "result": "failed", "error": error, "state": "archive-error",
           **attempt_columns(origin)}  # fmt: skip
    with store.transaction():
        store.record_fetch(watch.id, row)
