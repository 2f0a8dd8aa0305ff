"""Compares two versions of a text with diff-match-patch (the only module importing it).

The result keeps the raw operations, the added and removed passages, and a readable
rendering in the ``git diff --word-diff`` style: ``[-removed-]{+added+}`` with one line
of context around each changed line.
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from monitor.models import Diff

CONTEXT_LINES = 1
# Policies are long; past this diff-match-patch returns a coarser but still correct diff.
TIMEOUT_SECONDS = 2.0
# An edited block keeping less than this share of its shorter side is shown as rewritten.
KEPT_RATIO = 0.6
MARKS = {-1: ("[-", "-]"), 1: ("{+", "+}")}
# Structure marks our extracted text puts at the start of a line (headings, list items).
LINE_MARK = re.compile(r"^(?:#{1,6}|[-*]|\d+[.)])\s+", re.MULTILINE)
WHITESPACE = re.compile(r"\s+")
# Invisible characters, shown by name in a rendered diff so a reader sees what changed.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _codepoint(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group(0)):04X}>"


def words_key(text: str) -> str:
    """The words a reader sees, for telling a real change from a change of layout only.

    Turning a paragraph into a heading or re-wrapping lines changes no word; such
    versions compare equal.
    """
    return WHITESPACE.sub(" ", LINE_MARK.sub("", text)).strip()


def diff_texts(old: str, new: str) -> Diff:
    """Diffs two texts line by line, then word by word inside lines that were edited.

    Line-first keeps a rewritten paragraph readable as one removed and one added line;
    only similar lines get the inline word diff a reader can scan.
    """
    dmp = diff_match_patch()
    dmp.Diff_Timeout = TIMEOUT_SECONDS
    ops: list[tuple[int, str]] = []
    for removed, added, same in _line_blocks(dmp, old, new):
        ops.extend(_refine(dmp, removed, added))
        if same:
            ops.append((0, same))
    frozen = tuple((int(op), str(text)) for op, text in ops)
    return Diff(
        ops=frozen,
        added=_passages(frozen, 1),
        removed=_passages(frozen, -1),
        rendered=render(frozen),
    )


def _line_blocks(dmp: diff_match_patch, old: str, new: str) -> list[tuple[str, str, str]]:
    """(removed lines, added lines, following unchanged lines) blocks of a line diff."""
    chars_old, chars_new, lines = dmp.diff_linesToChars(old, new)
    ops = dmp.diff_main(chars_old, chars_new, False)
    dmp.diff_charsToLines(ops, lines)
    blocks: list[tuple[str, str, str]] = []
    removed, added = "", ""
    for op, text in ops:
        if op == -1:
            removed += text
        elif op == 1:
            added += text
        else:
            blocks.append((removed, added, text))
            removed, added = "", ""
    if removed or added:
        blocks.append((removed, added, ""))
    return blocks


def _refine(dmp: diff_match_patch, removed: str, added: str) -> list[tuple[int, str]]:
    """Word-level ops for an edited block, pairing its lines when their counts match."""
    if not removed or not added:
        return [(-1, removed)] if removed else [(1, added)] if added else []
    old_lines, new_lines = removed.splitlines(True), added.splitlines(True)
    if len(old_lines) == len(new_lines) > 1:
        return [op for a, b in zip(old_lines, new_lines, strict=True) for op in _pair(dmp, a, b)]
    return _pair(dmp, removed, added)


def _pair(dmp: diff_match_patch, removed: str, added: str) -> list[tuple[int, str]]:
    """Inline word ops when the new text keeps most of the old, else removed + added."""
    ops = dmp.diff_main(removed, added, False)
    dmp.diff_cleanupSemantic(ops)
    common = sum(len(text) for op, text in ops if op == 0)
    if common < KEPT_RATIO * min(len(removed), len(added)):
        return [(-1, removed), (1, added)]
    return [(int(op), str(text)) for op, text in ops]


def _passages(ops: tuple[tuple[int, str], ...], wanted: int) -> tuple[str, ...]:
    return tuple(text.strip() for op, text in ops if op == wanted and text.strip())


def render(ops: tuple[tuple[int, str], ...], context: int = CONTEXT_LINES) -> str:
    """Renders ops as marked-up lines, keeping changed lines and their context."""
    lines = _marked_lines(tuple((op, INVISIBLE.sub(_codepoint, text)) for op, text in ops))
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
    lines.append(("".join(current), changed))
    return lines
