"""A check's lines for operators: the alert of a failing run, and logfmt fields."""

from __future__ import annotations

import shlex
from dataclasses import replace

from monitor.models import CheckOutcome
from monitor.views.safe import _one, _when


def alert(outcome: CheckOutcome, alert_after: int) -> tuple[str, str] | None:
    """The line of a check that crossed ``--alert-after`` failures in a row (or ended
    such a run) and its logfmt fields: None for every other check. Operators read these
    to tell an alert from a blip (the failure lines of the checks before it)."""
    doc = _one(outcome.document)
    if outcome.health == "failing":
        since = _when(outcome.failing_since)
        cause = _one(outcome.message.removeprefix("failed: ")).replace('"', "'")
        checks = f"{outcome.failures} check{'s' if outcome.failures != 1 else ''}"
        text = (f"monitoring failing: {checks} in a row failed since {since} "
                f"(--alert-after {alert_after}): {cause}; `status` and the operations feed "
                "show it until it recovers")  # fmt: skip
        return (f"{doc}: ALERT: {text}", f"document={doc} event=failing "
                f'failures={outcome.failures} since={since} message="{text}"')  # fmt: skip
    if outcome.health == "recovered":
        text = f"monitoring works again after {outcome.failures} failed checks in a row"
        return (f"{doc}: recovered: {text}", f"document={doc} event=recovered "
                f'failures={outcome.failures} message="recovered: {text}"')  # fmt: skip
    return None


def pointed_to_held(outcome: CheckOutcome, data_dir: str) -> CheckOutcome:
    """A quarantined page's outcome, its message ending with the exact `held` command that
    lists it (the data directory as given: cron's and the daemon's are rarely `data`)."""
    if outcome.status != "quarantined":
        return outcome
    command = f"policy-monitor held {shlex.quote(outcome.document)} --data {shlex.quote(data_dir)}"
    return replace(outcome, message=f"{outcome.message}; `{command}` shows it")


def log_fields(outcome: CheckOutcome, seconds: float | None = None) -> str:
    """One check as logfmt ``key=value`` pairs (the daemon's log, `check --logfmt`)."""
    message = _one(outcome.message).replace('"', "'")
    took = f" seconds={seconds:.2f}" if seconds is not None else ""
    return (
        f"document={_one(outcome.document)} status={outcome.status} "
        f'ai_training={str(outcome.ai_training).lower()}{took} message="{message}"'
    )
