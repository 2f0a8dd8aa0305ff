"""What the read-only commands print: tables, JSON records and diff reports.

Stored text (titles, URLs, sentences, diffs, servers' error messages) comes from web pages
and servers we do not control. Before it reaches a terminal, :func:`terminal_safe` drops
escape sequences (which can clear the screen, retitle the window or write to the
clipboard) and shows other control characters and bidi overrides as ``<U+XXXX>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor import citation
from monitor.errors import ConfigError
from monitor.models import (
    Change,
    CheckOutcome,
    DocumentStatus,
    Flag,
    Origin,
    Version,
    flags_direction,
    flags_severity,
    severity_flag,
)

if TYPE_CHECKING:  # the reading commands start without loading what they do not use
    from monitor.store import Store

# ESC/8-bit sequences as terminals read them: CSI (ESC [ or U+009B, parameters, a final
# byte); OSC, DCS, SOS, PM and APC strings up to their terminator (or the line's end);
# other two-character escapes (ESC c resets the terminal).
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# What is left to show by name: C0 and C1 controls but tab and newline, bidi embeddings,
# overrides and isolates (they reorder what follows), lone surrogates (unprintable).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\n\t]")


def _codepoint(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def terminal_safe(text: str, *, newlines: bool = True) -> str:
    """``text`` with no escape sequence, control character or bidi override left in it.

    Sequences are dropped; other such characters are shown as ``<U+XXXX>``, so a reader
    sees that something was there. Newlines stay when ``newlines`` (a diff's layout);
    otherwise, like tabs, they become spaces. Accents, CJK and quotes are untouched.
    """
    text = _UNSAFE.sub(_codepoint, _SEQUENCE.sub("", text))
    return text if newlines else _LINE_BREAKS.sub(" ", text)


def _one(text: str) -> str:
    """A field of a table row: safe and on one line."""
    return terminal_safe(text, newlines=False)


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # one encoder, not one per record


def json_text(value: Any) -> str:
    """JSON for the terminal: readable UTF-8, but C1 controls, bidi overrides and lone
    surrogates escaped as ``\\uXXXX`` (json.dumps already escapes C0 controls)."""
    if isinstance(value, list):  # one record per line: json's C encoder (indent= is Python)
        records = ",\n".join(map(_ENCODER.encode, value))
        text = f"[\n{records}\n]" if value else "[]"
    else:
        text = json.dumps(value, ensure_ascii=False, indent=1)
    # json escapes every C0 control: ASCII text without DEL has nothing _UNSAFE matches
    # (isascii() is a flag, `in` a memchr; the regex scan was 18 ms of 5.8 MB of changes)
    if text.isascii() and "\x7f" not in text:
        return text
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


when = _when


def require_document(store: Store, document: str) -> None:
    """ConfigError naming the known documents when ``document`` is not one of them."""
    known = store.document_ids()
    if document not in known:
        listed = ", ".join(_one(d) for d in known[:20]) + (", ..." if len(known) > 20 else "")
        raise ConfigError(f"no document {_one(document)!r} recorded; known: {listed or 'none yet'}")


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
            **(origin_fields(_row_origin(r)) if r["origin"] else _LIVE_ORIGIN),
        })  # fmt: skip
    return records


def _flags(column: str | None) -> tuple[Flag, ...]:
    """A flags column (JSON; most are empty: no parse for those)."""
    if not column or column == "[]":
        return ()
    return tuple(Flag(**f) for f in json.loads(column))


def _flag_dict(flag: Flag) -> dict[str, str]:
    # asdict() deep-copies field by field: ten times slower on 10,000 changes.
    return {"sentence": flag.sentence, "side": flag.side, "phrase": flag.phrase,
            "category": flag.category, "rule": flag.rule}  # fmt: skip


def origin_fields(origin: Origin | None) -> dict[str, Any]:
    """Where an imported change or version came from; all None for a live check's."""
    return {
        "origin": origin.archive if origin else None,  # "ota", "snapshots", "wayback"
        "origin_ref": origin.ref if origin else None,  # the commit, file or capture
        "archived_at": _when(origin.archived_at) if origin else None,
        # journalist8: the repository (or folder, archive) and the file (or capture URL),
        # and permalinks to cite (None when unknown: no GitHub remote, an older import).
        "origin_source": (origin.source or None) if origin else None,
        "origin_path": (origin.path or None) if origin else None,
        "origin_url": citation.file_url(origin) or None,
        "origin_commit_url": citation.commit_url(origin) or None,
    }


# A live check's origin fields, built once: `changes --json` lists 10,000 rows (perf9).
_LIVE_ORIGIN = origin_fields(None)


def _row_origin(r: Mapping[str, Any]) -> Origin | None:
    """A listing row's origin (its columns as ``Origin`` has them), None for a live check's."""
    if not r["origin"]:
        return None
    return Origin(r["origin"], r["origin_ref"] or "", datetime.fromisoformat(r["archived_at"]),
                  r["origin_source"] or "", r["origin_path"] or "")  # fmt: skip


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
    what = ("training on people's data or AI development added" if found.side == "added"
            else "a protection against training (a negation or an opt-out) removed")  # fmt: skip
    reason = (f'severity high because of the {found.side} sentence "{_one(found.sentence)}" '
              f"(rule {_one(found.rule)}, category {_one(found.category)}, matched "
              f"{_one(found.phrase)!r}): {what}")  # fmt: skip
    twin = [f for f in change.flags if f.side != found.side and f.category == found.category]
    if twin:  # a rewording: the old text had the same kind of sentence
        reason += (f"; the {twin[0].side} side has a {found.category} sentence too (a "
                   "rewording: read the diff for what widened or narrowed)")  # fmt: skip
    return reason


def source_lines(origin: Origin) -> list[str]:
    """Where to find an imported version without this tool: the archive, repository and
    file, and the permalinks when there are (the licence too, for Open Terms Archive)."""
    lines = [f"source: {citation.cite(origin)}"]
    for what, url in (("file", citation.file_url(origin)), ("commit", citation.commit_url(origin))):
        if url and not (what == "file" and origin.archive == "wayback"):
            lines.append(f"{what}: {url}")
    if citation.is_ota(origin):
        lines.append(f"licence: {citation.OTA_LICENCE} (cite Open Terms Archive)")
    return lines


def origin_note(origin: Origin | None) -> str:
    """``imported from ota 4025d7400deb`` (a commit cut to 12 characters), or ""."""
    if origin is None:
        return ""
    ref = origin.ref[:12] if len(origin.ref) == 40 else origin.ref
    return f"imported from {origin.archive} {ref}"


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


def explain_report(change: Change, opened: tuple[datetime, bool] | None = None) -> str:
    """Every flag of a change, with the words that triggered it; ``opened``: when the old
    version was last seen before it (the change happened after that)."""
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
    if opened is not None and change.from_version is not None:
        since, archived = opened
        then = "by the archive" if archived else "by a check"
        now = "by the archive" if change.origin else "by a check"
        lines.append(f"happened between {_when(since)} (v{change.from_version} last seen, "
                     f"{then}) and {_when(change.detected_at)} (v{change.to_version} first "
                     f"seen, {now})")  # fmt: skip
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


def _version_or_fail(store: Store, document: str, number: int, with_text: bool = True) -> Version:
    version = store.version(document, number, with_text)
    if version is None:
        numbers = [v.number for v in store.versions(document)]
        has = f"has versions {min(numbers)}-{max(numbers)}" if numbers else "has no version yet"
        raise ConfigError(
            f"{_one(document)}: no version {number}; {_one(document)} {has} "
            f"(see `policy-monitor history {_one(document)}`)"
        )
    return version


class DiffStyle:
    """How a terminal diff shows its rows: plain text marks the changed words of an edited
    line ``[-…-]`` / ``{+…+}`` (a line added or removed whole needs no mark); the CLI's
    colour style (on a terminal) paints them instead."""

    def header(self, text: str) -> str:
        return text

    def line(self, side: str, text: str) -> str:
        return text

    def word(self, side: str, text: str) -> str:
        return f"[-{text}-]" if side == "-" else f"{{+{text}+}}"


PLAIN = DiffStyle()
DIFF_CONTEXT = 1  # unchanged lines shown around each changed one


def diff_report(
    store: Store, document: str, old: int | None, new: int | None, style: DiffStyle = PLAIN
) -> str:
    """The diff between two versions (default: those of the document's latest change),
    one side per line: ``- `` the old line, ``+ `` the new one, ``  `` context."""
    require_document(store, document)
    if old is None or new is None:
        latest = store.changes(document=document, limit=1)
        current = store.current_version(document, with_text=False)
        if current is None:
            raise ConfigError(f"{document}: no versions recorded (is the id right? see `status`)")
        new = new if new is not None else latest[-1].to_version if latest else current.number
        old = old if old is not None else max(1, new - 1)
    after = _version_or_fail(store, document, new)  # the one asked for is checked first
    before = _version_or_fail(store, document, old)
    header = [
        f"{document}: v{before.number} -> v{after.number}",
        f"--- v{before.number}  first seen {_when(before.first_seen)}  text sha256 "
        f"{before.text_sha256[:16]}  snapshot {before.snapshot_sha256[:16]}",
        f"+++ v{after.number}  first seen {_when(after.first_seen)}  text sha256 "
        f"{after.text_sha256[:16]}  snapshot {after.snapshot_sha256[:16]}",
    ]
    from monitor import linediff
    from monitor.diff import diff_texts, visible  # only the diff command needs the library

    lines = [style.header(terminal_safe(line, newlines=False)) for line in header]
    ops = [
        (op, terminal_safe(visible(text))) for op, text in diff_texts(before.text, after.text).ops
    ]
    hunks = linediff.shown(linediff.rows(ops), DIFF_CONTEXT)
    for k, hunk in enumerate(hunks):
        if k or hunk[0].old_line > 1 or hunk[0].new_line > 1:
            lines.append(style.header("…"))
        lines.extend(
            style.line(row.side, f"{row.side} {linediff.marked(row, style.word)}") for row in hunk
        )
    return "\n".join(lines if hunks else [*lines, "(no difference)"])


def history_report(store: Store, document: str) -> str:
    require_document(store, document)
    versions = store.versions(document)
    if not versions:
        raise ConfigError(f"{document}: no versions recorded (is the id right? see `status`)")
    current = store.current_version(document)
    upgrades = {u.to_version: u for u in store.upgrades(document)}
    lines = [f"{_one(document)}: {len(versions)} version(s)"]
    for v in versions:
        mark = "*" if current and v.number == current.number else " "
        lines.append(
            f"{mark} v{v.number:<4} first seen {_when(v.first_seen)}  last seen "
            f"{_when(v.last_seen)}  text {v.text_sha256[:16]}  snapshot {v.snapshot_sha256[:16]}"
            f"  extractor {_one(v.extractor)}"
            + (f"  {_one(origin_note(v.origin))}" if v.origin else "")
            + (f" ({_one(citation.where(v.origin))})" if v.origin and v.origin.source else "")
        )
        if v.number in upgrades:
            u = upgrades[v.number]
            lines.append(
                f"        technical upgrade: v{u.from_version}'s snapshot re-read by extractor "
                f"{_one(u.new_extractor)} (was {_one(u.old_extractor)}); a new baseline, no alert"
            )
    return terminal_safe("\n".join(lines))


def status_dict(s: DocumentStatus) -> dict[str, Any]:
    fetch = s.last_fetch
    return {
        "document": s.document,
        "company": s.company,
        "title": s.title,
        "url": s.url,
        "last_fetch": _when(fetch.started_at) if fetch else None,
        "last_result": fetch.result if fetch else None,
        "last_error": fetch.error if fetch and fetch.error else None,
        "http_status": fetch.http_status if fetch else None,
        "versions": s.versions,
        "current_version": s.current_version,
        "last_change": _when(s.last_change) if s.last_change else None,
        "consecutive_failures": s.consecutive_failures,
        "suspect": s.suspect or None,
        "monitoring": "failing" if s.failing_since else "ok",
        "failing_since": _when(s.failing_since) if s.failing_since else None,
        # journalist8: an import's steps are no checks; a history only imported says so.
        "checked_live": s.last_live_check is not None,
        "last_live_check": _when(s.last_live_check) if s.last_live_check else None,
    }


def status_table(rows: list[DocumentStatus]) -> str:
    if not rows:
        return "no documents checked yet: run `policy-monitor check`"
    lines = []
    for s in rows:
        fetch = s.last_fetch
        result = fetch.result if fetch else "never fetched"
        if fetch and fetch.error:
            result += f" ({_one(fetch.error)})"
        if s.failing_since:
            result += f" [MONITORING FAILING since {_when(s.failing_since)}]"
        if s.suspect:
            result += f" [latest text held as suspect: {_one(s.suspect)}]"
        if s.consecutive_failures > 1:
            result += f" [{s.consecutive_failures} failures in a row]"
        seen = f"last fetch {_when(fetch.started_at if fetch else None)}"
        if fetch and s.last_live_check is None:  # every fetch is an archive's step
            seen = "imported history only, never checked live"
            result = "not monitored yet (run `policy-monitor check`)"
        elif fetch and s.last_live_check != fetch.started_at:
            seen = f"last checked live {_when(s.last_live_check)}"
        lines.append(
            f"{_one(s.document):<28} {seen}  "
            f"{s.versions} version(s)  last change {_when(s.last_change)}  {result}"
        )
    return terminal_safe("\n".join(lines))


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


def log_fields(outcome: CheckOutcome, seconds: float | None = None) -> str:
    """One check as logfmt ``key=value`` pairs (the daemon's log, `check --logfmt`)."""
    message = _one(outcome.message).replace('"', "'")
    took = f" seconds={seconds:.2f}" if seconds is not None else ""
    return (
        f"document={_one(outcome.document)} status={outcome.status} "
        f'ai_training={str(outcome.ai_training).lower()}{took} message="{message}"'
    )
