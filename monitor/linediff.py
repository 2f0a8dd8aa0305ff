"""A diff's ops (see :mod:`monitor.diff`) one side per line, as unified diffs show them (pure).

Each row is a context line (both texts), a removed line (the old text) or an added line
(the new text); an edited line is a removed row then an added row, with the words that
changed inside it kept as marked segments, so a renderer can mark them ([-…-], {+…+}, or
colour) without them running into each other. The context and removed rows rebuild the
old text, the context and added rows the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Segment = tuple[str, bool]  # text, changed


@dataclass(frozen=True)
class Row:
    side: str  # " " context, "-" removed (old text), "+" added (new text)
    segments: tuple[Segment, ...]
    old_line: int  # 1-based line number in the old text (of the next old line for "+")
    new_line: int

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.segments)

    @property
    def whole(self) -> bool:
        """Every word of the line changed (a line added or removed as a whole)."""
        return all(changed or not text.strip() for text, changed in self.segments)


@dataclass
class _Line:
    segments: list[Segment] = field(default_factory=list)
    changed: bool = False

    def add(self, text: str, changed: bool) -> None:
        if text:
            self.segments.append((text, changed))
        self.changed = self.changed or changed


@dataclass
class _Builder:
    rows: list[Row] = field(default_factory=list)
    old: _Line = field(default_factory=_Line)
    new: _Line = field(default_factory=_Line)
    removed: list[_Line] = field(default_factory=list)  # finished old lines, not yet shown
    added: list[_Line] = field(default_factory=list)
    old_no: int = 1
    new_no: int = 1

    def feed(self, op: int, text: str) -> None:
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            last = k == len(pieces) - 1
            # An empty piece before a newline still changed its line (its end was
            # removed or added); the empty piece after the last newline changes nothing.
            changed = bool(piece) or not last
            if op <= 0:
                self.old.add(piece, op < 0 and changed)
            if op >= 0:
                self.new.add(piece, op > 0 and changed)
            if last:
                continue
            if op < 0:
                self.removed.append(self.old)
                self.old = _Line()
            elif op > 0:
                self.added.append(self.new)
                self.new = _Line()
            else:
                self.close()

    def close(self) -> None:
        """Both texts reached the end of a line: shows what waits, then the pair."""
        pair_changed = self.old.changed or self.new.changed
        if pair_changed:
            self.removed.append(self.old)
            self.added.append(self.new)
        self._show("-", self.removed)
        self._show("+", self.added)
        if not pair_changed:
            self.rows.append(Row(" ", tuple(self.old.segments), self.old_no, self.new_no))
            self.old_no += 1
            self.new_no += 1
        self.old, self.new = _Line(), _Line()

    def _show(self, side: str, lines: list[_Line]) -> None:
        for line in lines:
            self.rows.append(Row(side, tuple(line.segments), self.old_no, self.new_no))
            if side == "-":
                self.old_no += 1
            else:
                self.new_no += 1
        lines.clear()


def rows(ops: Sequence[tuple[int, str]]) -> list[Row]:
    """Every line of both texts as context, removed and added rows, in order."""
    builder = _Builder()
    for op, text in ops:
        builder.feed(op, text)
    builder.close()
    return builder.rows


def shown(all_rows: Sequence[Row], context: int) -> list[list[Row]]:
    """The hunks: changed rows with ``context`` context rows around them."""
    changed = [i for i, row in enumerate(all_rows) if row.side != " "]
    keep = sorted({j for i in changed for j in range(i - context, i + context + 1)
                   if 0 <= j < len(all_rows)})  # fmt: skip
    hunks: list[list[Row]] = []
    previous = -2
    for i in keep:
        if i != previous + 1:
            hunks.append([])
        hunks[-1].append(all_rows[i])
        previous = i
    return hunks


def marked(row: Row, mark: Callable[[str, str], str]) -> str:
    """The row's text with each changed segment passed through ``mark(side, text)``;
    a line changed as a whole is left unmarked (its side says it all)."""
    if row.side == " " or row.whole:
        return row.text
    return "".join(mark(row.side, text) if changed else text for text, changed in row.segments)


def unified(
    ops: Sequence[tuple[int, str]], from_label: str, to_label: str, context: int = 3
) -> str:
    """A plain unified diff (``diff -u`` layout, ``@@`` hunk headers) of the two texts."""
    out = [f"--- {from_label}", f"+++ {to_label}"]
    for hunk in shown(rows(ops), context):
        old = [r for r in hunk if r.side != "+"]
        new = [r for r in hunk if r.side != "-"]
        old_start = old[0].old_line if old else hunk[0].old_line - 1
        new_start = new[0].new_line if new else hunk[0].new_line - 1
        out.append(f"@@ -{old_start},{len(old)} +{new_start},{len(new)} @@")
        out.extend(f"{r.side}{r.text}" for r in hunk)
    return "\n".join(out) + "\n"
