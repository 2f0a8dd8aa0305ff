"""Compares two versions of a text with diff-match-patch (the only module importing it).

The result keeps the raw operations, the added and removed passages, and a readable
rendering in the ``git diff --word-diff`` style: ``[-removed-]{+added+}`` with one line
of context around each changed line.
"""

from __future__ import annotations

from diff_match_patch import diff_match_patch

from monitor.models import Diff

CONTEXT_LINES = 1
# Policies are long; past this diff-match-patch returns a coarser but still correct diff.
TIMEOUT_SECONDS = 2.0
MARKS = {-1: ("[-", "-]"), 1: ("{+", "+}")}


def diff_texts(old: str, new: str) -> Diff:
    """Diffs two texts, cleaned up so changes fall on word and sentence boundaries."""
    dmp = diff_match_patch()
    dmp.Diff_Timeout = TIMEOUT_SECONDS
    ops: list[tuple[int, str]] = dmp.diff_main(old, new, True)
    dmp.diff_cleanupSemantic(ops)
    frozen = tuple((int(op), str(text)) for op, text in ops)
    return Diff(
        ops=frozen,
        added=_passages(frozen, 1),
        removed=_passages(frozen, -1),
        rendered=render(frozen),
    )


def _passages(ops: tuple[tuple[int, str], ...], wanted: int) -> tuple[str, ...]:
    return tuple(text.strip() for op, text in ops if op == wanted and text.strip())


def render(ops: tuple[tuple[int, str], ...], context: int = CONTEXT_LINES) -> str:
    """Renders ops as marked-up lines, keeping changed lines and their context."""
    lines = _marked_lines(ops)
    changed = [i for i, (_, is_changed) in enumerate(lines) if is_changed]
    keep: set[int] = set()
    for i in changed:
        keep.update(range(max(0, i - context), min(len(lines), i + context + 1)))
    out: list[str] = []
    previous = -1
    for i in sorted(keep):
        if out and i != previous + 1:
            out.append("…")
        out.append(lines[i][0])
        previous = i
    return "\n".join(out)


def _marked_lines(ops: tuple[tuple[int, str], ...]) -> list[tuple[str, bool]]:
    """Splits the marked-up text into lines, each with whether it holds a change."""
    lines: list[tuple[str, bool]] = []
    current: list[str] = []
    changed = False
    for op, text in ops:
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if k:
                lines.append(("".join(current), changed))
                current, changed = [], False
            if piece and op:
                start, end = MARKS[op]
                current.append(f"{start}{piece}{end}")
                changed = True
            elif piece:
                current.append(piece)
            elif op and len(pieces) > 1:
                changed = True  # a removed or added line break
    lines.append(("".join(current), changed))
    return lines
