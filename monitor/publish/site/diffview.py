"""A change's diff as a change page shows it: every line of the new text with the words
removed and added, runs of unchanged lines folded (``<details>``: expandable without
JavaScript), inline and side by side, and cut at a character budget that the page states.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.diff import INVISIBLE, diff_texts
from monitor.publish.entry_html import visible

Part = tuple[str, str]  # ("", same), ("del", removed), ("ins", added)
CONTEXT_LINES = 2  # unchanged lines shown around each changed one; the rest is folded
MIN_FOLD = 3  # a run shorter than this is shown rather than folded


@dataclass(frozen=True)
class Line:
    parts: tuple[Part, ...]
    changed: bool

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


@dataclass(frozen=True)
class DiffView:
    blocks: tuple[Block, ...]
    shown_chars: int
    total_chars: int
    changed_lines: int

    @property
    def cut(self) -> bool:
        return self.shown_chars < self.total_chars


def diff_view(old: str, new: str, max_chars: int) -> DiffView:
    """The diff of two texts, folded, at most ``max_chars`` characters of it."""
    lines = split_lines(diff_texts(old, new).ops)
    total = sum(_size(line) for line in lines)
    shown, count = [], 0
    for line in lines:
        if count + _size(line) > max_chars:
            break
        shown.append(line)
        count += _size(line)
    changed = sum(1 for line in lines if line.changed)
    return DiffView(tuple(fold(shown)), count, total, changed)


def split_lines(ops: tuple[tuple[int, str], ...]) -> list[Line]:
    """The ops as lines, each with its pieces and whether any of them changed."""
    kinds = {-1: "del", 0: "", 1: "ins"}
    lines: list[Line] = []
    parts: list[Part] = []
    for op, text in ops:
        for k, piece in enumerate(text.split("\n")):
            if k:
                lines.append(Line(tuple(parts), any(kind for kind, _ in parts)))
                parts = []
            if piece:
                shown = visible(INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", piece))
                parts.append((kinds[op], shown))
    lines.append(Line(tuple(parts), any(kind for kind, _ in parts)))
    return lines


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
    return [b if len(b.lines) >= MIN_FOLD else Block(b.lines, False) for b in blocks]


def _size(line: Line) -> int:
    return sum(len(text) for _, text in line.parts) + 1
