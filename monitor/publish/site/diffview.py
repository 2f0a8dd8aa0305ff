"""A change's diff as a change page shows it: every line of the new text with the words
removed and added, runs of unchanged lines folded (``<details>``: expandable without
JavaScript), inline and side by side, and cut at a character budget that the page states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from monitor.diff import INVISIBLE, diff_lengths, diff_texts, rebuild
from monitor.models import Flag
from monitor.publish.entry_html import NOT_XML, visible

Part = tuple[str, str]  # ("", same), ("del", removed), ("ins", added)
CONTEXT_LINES = 2  # unchanged lines shown around each changed one; the rest is folded
MIN_FOLD = 3  # a run shorter than this is shown rather than folded
# A folded run keeps this many lines on each side; the middle of a longer one is left out
# (the version's page has the whole text), so a page is not the whole policy twice over.
FOLD_LINES = 10


@dataclass(frozen=True)
class Line:
    parts: tuple[Part, ...]
    changed: bool
    flag: str = ""  # "AI-training added: opt-out" when a flagged sentence is on this line
    size: int = 1  # the characters of its parts, plus its line break

    @property
    def old(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p[0] != "ins")

    @property
    def new(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p[0] != "del")


@dataclass(frozen=True)
class Block:
    lines: tuple[Line, ...]
    folded: bool
    left_out: int = 0  # unchanged lines not shown at all (the middle of a long run)


@dataclass(frozen=True)
class DiffView:
    blocks: tuple[Block, ...]
    shown_chars: int
    total_chars: int
    changed_lines: int
    cut: bool  # the character budget ran out before the last line


def diff_view(old: str, new: str, max_chars: int, flags: tuple[Flag, ...] = ()) -> DiffView:
    """The diff of two texts, folded, at most ``max_chars`` characters of it; the lines
    holding the words a flag matched (on its side) are marked with the flag."""
    lines = mark_flags(split_lines(diff_ops(old, new)), flags)
    blocks: list[Block] = []
    count, cut = 0, False
    for block in fold(lines):
        size = sum(line.size for line in block.lines)
        if count + size > max_chars:
            kept = _within(block.lines, max_chars - count)
            blocks += [Block(kept, block.folded)] if kept else []
            count, cut = count + sum(line.size for line in kept), True
            break
        blocks.append(block)
        count += size
    changed = sum(1 for line in lines if line.changed)
    total = sum(line.size for line in lines)
    return DiffView(tuple(blocks), count, total, changed, cut)


def _within(lines: tuple[Line, ...], budget: int) -> tuple[Line, ...]:
    kept: list[Line] = []
    for line in lines:
        budget -= line.size
        if budget < 0:
            break
        kept.append(line)
    return tuple(kept)


def diff_ops(old: str, new: str) -> tuple[tuple[int, str], ...]:
    """:func:`monitor.diff.diff_texts`'s ops of the two texts, cut from them by the diff's
    lengths (remembered when an import's worker or this process made it): the page needs
    neither the diff's rendered text nor its passages."""
    lengths = diff_lengths(old, new)
    if sum(n for op, n in lengths if op != 1) != len(old) or sum(
        n for op, n in lengths if op != -1
    ) != len(new):  # not a cut of both texts: as diff_texts gives them
        return diff_texts(old, new).ops
    return tuple(rebuild(old, new, lengths))


# A piece of text as a page shows it: invisible characters named (``<U+200B>``; they
# include entry_html's bidi overrides), those XML forbids dropped. One pass, the same
# characters as ``visible(INVISIBLE.sub(name, text))`` in three (a test compares every
# code point).
_SHOWN = re.compile(f"{INVISIBLE.pattern}|{NOT_XML.pattern}")


def _name(match: re.Match[str]) -> str:
    char = match.group()
    return "" if NOT_XML.match(char) else f"<U+{ord(char):04X}>"


def shown(text: str) -> str:
    """``text`` as a page shows it (above)."""
    return _SHOWN.sub(_name, text)


def split_lines(ops: tuple[tuple[int, str], ...]) -> list[Line]:
    """The ops as lines, each with its pieces and whether any of them changed."""
    kinds = {-1: "del", 0: "", 1: "ins"}
    lines: list[Line] = []
    parts: list[Part] = []
    size = 1
    for op, text in ops:
        kind = kinds[op]
        for k, piece in enumerate(shown(text).split("\n")):
            if k:
                lines.append(Line(tuple(parts), any(kind for kind, _ in parts), "", size))
                parts, size = [], 1
            if piece:
                parts.append((kind, piece))
                size += len(piece)
    lines.append(Line(tuple(parts), any(kind for kind, _ in parts), "", size))
    return lines


def mark_flags(lines: list[Line], flags: tuple[Flag, ...]) -> list[Line]:
    """Each changed line that holds a flag's matched words on the flag's side, labelled."""
    wanted = [(visible(f.phrase).casefold(), f) for f in flags if f.phrase.strip()]
    if not wanted:
        return lines
    out = []
    for line in lines:
        if line.changed:
            sides = {"added": _text(line.new).casefold(), "removed": _text(line.old).casefold()}
            found = [f for phrase, f in wanted if phrase in sides.get(f.side, "")]
            if found:
                label = "; ".join(sorted({f"AI-training {f.side}: {f.category}" for f in found}))
                line = replace(line, flag=label)
        out.append(line)
    return out


def _text(parts: tuple[Part, ...]) -> str:
    return "".join(text for _, text in parts)


def fold(lines: list[Line], context: int = CONTEXT_LINES) -> list[Block]:
    """Shown blocks (changed lines and their context) and folded runs of unchanged lines."""
    near: set[int] = set()
    for i, line in enumerate(lines):
        if line.changed:
            near.update(range(i - context, i + context + 1))
    blocks: list[Block] = []
    run: list[Line] = []
    state: bool | None = None
    for i, line in enumerate(lines):
        folded = i not in near
        if folded != state and run:
            blocks.append(Block(tuple(run), bool(state)))
            run = []
        state = folded
        run.append(line)
    if run:
        blocks.append(Block(tuple(run), bool(state)))
    return [part for b in blocks for part in _trimmed(b)]


def _trimmed(block: Block) -> list[Block]:
    """A short folded run is shown; a long one keeps FOLD_LINES lines at each end."""
    if not block.folded:
        return [block]
    if len(block.lines) < MIN_FOLD:
        return [Block(block.lines, False)]
    if len(block.lines) <= 2 * FOLD_LINES:
        return [block]
    head, tail = block.lines[:FOLD_LINES], block.lines[-FOLD_LINES:]
    return [Block(head, True), Block((), True, len(block.lines) - 2 * FOLD_LINES),
            Block(tail, True)]  # fmt: skip
