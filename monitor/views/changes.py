"""A recorded change as the reading commands show it: its JSON record (the `changes --json`
contract), a listing row's record, the table and `explain`'s report."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.errors import ConfigError
from monitor.models import Change, Flag, Version, flags_direction, flags_severity, severity_flag
from monitor.views.origin import (
    LIVE_ORIGIN,
    _row_origin,
    origin_fields,
    origin_note,
    source_lines,
)
from monitor.views.safe import _one, _when, terminal_safe

if TYPE_CHECKING:  # the reading commands start without loading what they do not use
    from monitor.store import Store


def require_change(store: Store, change_id: int) -> Change:
    """The change, or ConfigError saying which change ids exist."""
    try:
        return store.change(change_id)
    except KeyError:
        first, last = store.change_id_range()
        known = f"changes are #{first}-#{last}" if last else "no change recorded yet"
        raise ConfigError(
            f"no change #{change_id}: {known} (see `policy-monitor changes`)"
        ) from None


def change_dict(change: Change, with_diff: bool = False) -> dict[str, Any]:
    """The JSON record of a change (the `changes --json` contract); the diff on request."""
    record = {
        "id": change.id,
        "document": change.document,
        "company": change.company,
        "title": change.title,
        "url": change.url,
        "detected_at": _when(change.detected_at),
        "kind": change.kind,
        "from_version": change.from_version,
        "to_version": change.to_version,
        "ai_training": change.ai_training,
        "ai_direction": change.direction,
        "severity": change.severity,
        "ai_related": bool(change.ai_related),
        "added_chars": change.added_chars,
        "removed_chars": change.removed_chars,
        "flags": [_flag_dict(f) for f in change.flags],
        "ai_related_flags": [_flag_dict(f) for f in change.ai_related],
        "note": change.note,  # "returned to the text of v1", "held as suspect ... seen again"
        "classifier": change.classifier,  # version of the AI-training rules
        **origin_fields(change.origin),  # imported from an archive (issue 14), or live
        **window_fields(change.opened_at, change.opened_by_archive, change),
    }
    if with_diff:
        record.update(diff=change.diff_text, added=list(change.added), removed=list(change.removed))
    return record


def change_records(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``change_dict(c)`` of each change of the store's listing rows (``Store.change_rows``),
    built without a ``Change`` value each (tests/test_cli.py checks they are the same)."""
    records = []
    for r in rows:
        flags, related = _flags(r["flags"]), _flags(r["ai_related"])
        records.append({
            "id": r["id"], "document": r["document"], "company": r["company"],
            "title": r["title"], "url": r["url"],
            "detected_at": _when(datetime.fromisoformat(r["detected_at"])), "kind": r["kind"],
            "from_version": r["from_version"], "to_version": r["to_version"],
            "ai_training": bool(flags), "ai_direction": flags_direction(flags),
            "severity": flags_severity(flags, related), "ai_related": bool(related),
            "added_chars": r["added_chars"], "removed_chars": r["removed_chars"],
            "flags": [_flag_dict(f) for f in flags],
            "ai_related_flags": [_flag_dict(f) for f in related],
            "note": r["note"] or "", "classifier": r["classifier"] or "",
            **(origin_fields(_row_origin(r)) if r["origin"] else LIVE_ORIGIN),
        })  # fmt: skip
        opened = datetime.fromisoformat(r["opened_at"]) if r["opened_at"] else None
        records[-1].update(window_fields(opened, bool(r["opened_by_archive"]), records[-1]))
    return records


def window_fields(
    opened: datetime | None, by_archive: bool, change: Change | Mapping[str, Any]
) -> dict[str, Any]:
    """When the change happened, as far as it is known (journalist9: a story says "between
    X and Y", and only `explain` said it): from the last step that read the old version
    (``window_start``, by a ``check`` or an ``archive``; None when there is none) to the
    first that read the new one (``window_end``: ``detected_at``)."""
    if isinstance(change, Change):
        end, by = _when(change.detected_at), "archive" if change.origin else "check"
    else:
        end, by = change["detected_at"], "archive" if change["origin"] else "check"
    return {
        "window_start": _when(opened) if opened else None,
        "window_start_by": ("archive" if by_archive else "check") if opened else None,
        "window_end": end,
        "window_end_by": by,
    }


def window_line(change: Change) -> str | None:
    """``happened between T1 (v3 last seen, by the archive) and T2 (v4 first seen, by a
    check)``, or None when no step read the old version before the change."""
    if change.opened_at is None or change.from_version is None:
        return None
    then = "by the archive" if change.opened_by_archive else "by a check"
    now = "by the archive" if change.origin else "by a check"
    return (f"happened between {_when(change.opened_at)} (v{change.from_version} last seen, "
            f"{then}) and {_when(change.detected_at)} (v{change.to_version} first seen, "
            f"{now})")  # fmt: skip


def _flags(column: str | None) -> tuple[Flag, ...]:
    """A flags column (JSON; most are empty: no parse for those)."""
    if not column or column == "[]":
        return ()
    return tuple(Flag(**f) for f in json.loads(column))


def _flag_dict(flag: Flag) -> dict[str, str]:
    # asdict() deep-copies field by field: ten times slower on 10,000 changes.
    return {"sentence": flag.sentence, "side": flag.side, "phrase": flag.phrase,
            "category": flag.category, "rule": flag.rule}  # fmt: skip


def severity_reason(change: Change) -> str:
    """Which sentence made the severity, and by what rule (journalist7: `severity high`
    on a rewording said nothing of why)."""
    found = severity_flag(change.flags)
    if found is None:
        if change.flags:
            return ("severity medium: AI-training language, but no sentence granting training "
                    "was added and none protecting against it was removed")  # fmt: skip
        return f"severity {change.severity}: no AI-training language" + (
            " (other AI language only)" if change.ai_related else "")  # fmt: skip
    what = ("a protection against training (a negation or an opt-out) removed"
            if found.side == "removed"
            else "a legal basis for training or AI development stated"
            if found.category == "legal-basis"
            else "training on people's data or AI development added")  # fmt: skip
    reason = (f'severity high because of the {found.side} sentence "{_one(found.sentence)}" '
              f"(rule {_one(found.rule)}, category {_one(found.category)}, matched "
              f"{_one(found.phrase)!r}): {what}")  # fmt: skip
    twin = [f for f in change.flags if f.side != found.side and f.category == found.category]
    if twin:  # a rewording: the old text had the same kind of sentence
        reason += (f"; the {twin[0].side} side has a {found.category} sentence too (a "
                   "rewording: read the diff for what widened or narrowed)")  # fmt: skip
    return reason


def changes_table(changes: list[Change]) -> str:
    if not changes:
        return "no changes recorded"
    lines = []
    for c in changes:
        what = f"AI-training {c.direction}" if c.ai_training else "text changed"
        lines.append(
            f"#{c.id:<5} {_when(c.detected_at)}  {_one(c.document):<28} "
            f"v{c.from_version}->v{c.to_version}  +{c.added_chars}/-{c.removed_chars} chars  {what}"
            + (f"  ({_one(c.note)})" if c.note else "")
            + (f"  [{_one(origin_note(c.origin))}]" if c.origin else "")
        )
        lines.extend(
            f'        {f.side}: "{_one(f.sentence)}"  [{_one(f.category)}: {_one(f.phrase)}]'
            for f in c.flags
        )
    return terminal_safe("\n".join(lines))


def explain_report(change: Change, versions: Iterable[Version] = ()) -> str:
    """Every flag of a change, with the words that triggered it, the window it happened
    in (:func:`window_line`) and the hashes of ``versions`` (its two sides: what ties it to
    `evidence`'s files and `history`)."""
    head = f"change #{change.id}: {change.title} ({change.company}), v{change.from_version}"
    head = _one(head)
    # An imported change was never seen by the monitor: say so, and whose date it carries.
    seen = (
        f"dated {_when(change.detected_at)} by the archive, {origin_note(change.origin)}"
        if change.origin
        else f"detected {_when(change.detected_at)}"
    )
    lines = [f"{head} -> v{change.to_version}, {seen}"]
    verdict = (
        f"AI-training language {change.direction}"
        if change.ai_training
        else "no AI-training language"
    )
    lines.append(f"{verdict}; severity {change.severity}; {_one(change.url)}")
    lines.append(severity_reason(change))
    window = window_line(change)
    if window is not None:
        lines.append(window)
    lines.extend(f"v{v.number}: text sha256 {v.text_sha256}, snapshot sha256 "
                 f"{v.snapshot_sha256}" for v in versions)  # fmt: skip
    if change.origin is not None:
        lines.extend(_one(line) for line in source_lines(change.origin))
    if change.note:
        lines.append(f"note: {_one(change.note)}")
    for title, flags in (
        ("AI-training", change.flags),
        ("AI-related, not training", change.ai_related),
    ):
        if flags:
            lines.append(f"\n{title}:")
        for f in flags:
            lines.append(f'  {f.side:<7} "{_one(f.sentence)}"')
            lines.append(
                f"          category {_one(f.category)}, rule {_one(f.rule)}, "
                f"matched: {_one(f.phrase)!r}"
            )
    return terminal_safe("\n".join(lines))
