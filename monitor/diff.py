"""Compares two versions of a text with diff-match-patch (the only module importing it).

The result keeps the raw operations, the added and removed passages, and a readable
rendering in the ``git diff --word-diff`` style: ``[-removed-]{+added+}`` with one line
of context around each changed line.

The work is bounded: one time budget covers the whole call (the line diff and every inline
refinement). Once it is spent, the remaining edited lines are shown whole (removed line,
added line) without a word diff, which is coarser but exactly as correct: the ops still
rebuild both texts. Edited lines are refined word by word, never character by character
(``git diff --word-diff``), and diff-match-patch's quadratic clean-up is skipped on huge
op lists.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections import Counter, OrderedDict

from diff_match_patch import diff_match_patch

from monitor.models import Diff

CONTEXT_LINES = 1
# Seconds for one diff_texts call; past it the rest of the diff is by whole lines.
BUDGET_SECONDS = 3.0
# At most this share of the budget for the line diff: texts whose every line changed are
# its worst case (no common line), and the per-line refinements need the rest.
LINE_SHARE = 0.5
# At most this share of the budget for one pair of edited lines (so one pathological pair
# does not use it all up for the others).
PAIR_SHARE = 0.3
# diff_cleanupSemantic edits a Python list in place (quadratic in ops) and looks for the
# overlap of each removed/added pair with str.find in a loop (quadratic in their length on
# repetitive text: minutes for a line of one word repeated); skipped past these.
CLEANUP_MAX_OPS = 5_000
CLEANUP_MAX_OP_CHARS = 10_000
# Distinct words a word diff can code as one character each (below chr()'s limit).
MAX_DISTINCT_WORDS = 1_000_000
WORD = re.compile(r"\w+|\s+|[^\w\s]+")
# An edited block keeping less than this share of its shorter side is shown as rewritten.
KEPT_RATIO = 0.6
# The order-aware bound on what a word diff can keep (_ordered_bound) is computed for
# blocks of this many word pairs (words of one side times the other's) or more, where
# the diff costs far more than the bound (the corpus: 0.1-97 s against 0.5-20 ms), while
# its integers (a bit per word of the longer side, for each word both sides have) fit
# in BOUND_MAX_BITS; it checks the diff's deadline every LCS_CHUNK words.
BOUND_MIN_STEPS = 50_000
BOUND_MAX_BITS = 1 << 28  # 32 MB
LCS_CHUNK = 512
MARKS = {-1: ("[-", "-]"), 1: ("{+", "+}")}
# Diffs remembered (as op lengths: a few numbers each) for the pairs of texts last compared:
# a change is diffed when it is recorded, then again for its page and exports.
MEMO_SIZE = 1024
# Structure marks our extracted text puts at the start of a line (headings, list items).
LINE_MARK = re.compile(r"^(?:#{1,6}|[-*]|\d+[.)])\s+", re.MULTILINE)
# Invisible characters, shown by name in a rendered diff so a reader sees what changed.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _codepoint(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group(0)):04X}>"


def visible(text: str) -> str:
    """``text`` with its invisible characters (zero-width, soft hyphen...) shown by name."""
    return INVISIBLE.sub(_codepoint, text)


def words_key(text: str) -> str:
    """The words a reader sees, for telling a real change from a change of layout only.

    Turning a paragraph into a heading or re-wrapping lines changes no word; such
    versions compare equal.
    """
    # str.split() cuts at the characters \s matches (str.isspace), dropping those at the
    # ends: the words joined by single spaces, as re.sub(r"\s+", " ", ...).strip() made, at
    # a third of the regex's time.
    return " ".join(LINE_MARK.sub("", text).split())


def diff_texts(old: str, new: str, *, budget_seconds: float = BUDGET_SECONDS) -> Diff:
    """Diffs two texts line by line, then word by word inside lines that were edited.

    Line-first keeps a rewritten paragraph readable as one removed and one added line;
    only similar lines get the inline word diff a reader can scan. The whole call takes
    about ``budget_seconds`` at most, plus time linear in the texts' size. The same pair
    diffed again in this process gets the same ops, without the work.
    """
    key = (_digest(old), _digest(new), budget_seconds)
    lengths = _MEMO.get(key)
    if lengths is None:
        ops = _diff_ops(old, new, budget_seconds)
        lengths = tuple((op, len(text)) for op, text in ops)
        _MEMO[key] = lengths
        if len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    else:
        _MEMO.move_to_end(key)
        ops = rebuild(old, new, lengths)
    frozen = tuple(ops)
    return Diff(
        ops=frozen,
        added=_passages(frozen, 1),
        removed=_passages(frozen, -1),
        rendered=render(frozen),
    )


Lengths = tuple[tuple[int, int], ...]  # a diff's ops as (op, length): they cut both texts
_MEMO: OrderedDict[tuple[bytes, bytes, float], Lengths] = OrderedDict()


def diff_lengths(old: str, new: str, *, budget_seconds: float = BUDGET_SECONDS) -> Lengths:
    """The ops :func:`diff_texts` gives for the two texts, as (op, length) pairs: a few
    numbers another process can be told (:func:`remember`)."""
    lengths = _MEMO.get((_digest(old), _digest(new), budget_seconds))
    if lengths is None:
        lengths = tuple((op, len(text)) for op, text in _diff_ops(old, new, budget_seconds))
        remember(old, new, lengths, budget_seconds=budget_seconds)
    return lengths


def remembered(old: str, new: str, *, budget_seconds: float = BUDGET_SECONDS) -> Lengths | None:
    """The ops this process made or was told for the two texts (:func:`diff_lengths`),
    None when it has none (nothing is diffed)."""
    return _MEMO.get((_digest(old), _digest(new), budget_seconds))


def sure_lengths(old: str, new: str) -> Lengths | None:
    """:func:`diff_lengths` of the two texts, or None when any of the diff's deadlines was
    reached (a busy machine: the diff may be coarser than one that had the time). A call
    that ended before its deadline cannot have checked it and stopped early, so the diff
    is the one an idle process makes."""
    known = _MEMO.get((_digest(old), _digest(new), BUDGET_SECONDS))
    if known is not None:
        return known
    _late[:] = []
    lengths = tuple((op, len(text)) for op, text in _diff_ops(old, new, BUDGET_SECONDS))
    if _late:
        return None
    remember(old, new, lengths)
    return lengths


_late: list[bool] = []  # set when a deadline of the diff being made was reached


def _before(deadline: float) -> None:
    if time.time() > deadline:
        _late.append(True)


def remember(
    old: str, new: str, lengths: Lengths, *, budget_seconds: float = BUDGET_SECONDS
) -> None:
    """Takes ``lengths`` (from :func:`diff_lengths` in another process: an import's worker)
    as this process's diff of the two texts; ignored unless they cut both texts whole."""
    kept = sum(size for op, size in lengths if op != 1)
    if kept != len(old) or sum(size for op, size in lengths if op != -1) != len(new):
        return
    key = (_digest(old), _digest(new), budget_seconds)
    _MEMO[key] = lengths
    _MEMO.move_to_end(key)
    if len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def rebuild(old: str, new: str, lengths: tuple[tuple[int, int], ...]) -> list[tuple[int, str]]:
    """The ops of a remembered diff, cut from the two texts by their lengths (also the
    site's diff view: publish/site/diffview.py)."""
    ops: list[tuple[int, str]] = []
    i = j = 0
    for op, size in lengths:
        if op == 1:
            ops.append((op, new[j : j + size]))
            j += size
        else:
            ops.append((op, old[i : i + size]))
            i += size
            j += size if op == 0 else 0
    return ops


def _diff_ops(old: str, new: str, budget_seconds: float) -> list[tuple[int, str]]:
    start = time.time()  # diff-match-patch's deadlines are in time.time()
    deadline = start + budget_seconds
    dmp = diff_match_patch()
    # Deadlines are passed to every diff_main call. Diff_Timeout 0 also turns off the
    # "half match" shortcut, which is quadratic on repetitive text (a line of one word
    # repeated: minutes) and checks no deadline.
    dmp.Diff_Timeout = 0
    ops: list[tuple[int, str]] = []
    for removed, added, same in _line_blocks(dmp, old, new, start + budget_seconds * LINE_SHARE):
        ops.extend(_refine(dmp, removed, added, deadline, budget_seconds * PAIR_SHARE))
        if same:
            ops.append((0, same))
    return [(int(op), str(text)) for op, text in ops]


def _line_blocks(
    dmp: diff_match_patch, old: str, new: str, deadline: float
) -> list[tuple[str, str, str]]:
    """(removed lines, added lines, following unchanged lines) blocks of a line diff."""
    chars_old, chars_new, lines = dmp.diff_linesToChars(old, new)
    ops = dmp.diff_main(chars_old, chars_new, False, deadline)
    _before(deadline)
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


def _refine(
    dmp: diff_match_patch, removed: str, added: str, deadline: float, per_pair: float
) -> list[tuple[int, str]]:
    """Word-level ops for an edited block, pairing its lines when their counts match."""
    if not removed or not added:
        return [(-1, removed)] if removed else [(1, added)] if added else []
    old_lines, new_lines = removed.splitlines(True), added.splitlines(True)
    if len(old_lines) == len(new_lines) > 1:
        pairs = zip(old_lines, new_lines, strict=True)
        return [op for a, b in pairs for op in _pair(dmp, a, b, deadline, per_pair)]
    return _pair(dmp, removed, added, deadline, per_pair)


def _pair(
    dmp: diff_match_patch, removed: str, added: str, deadline: float, per_pair: float
) -> list[tuple[int, str]]:
    """Inline word ops when the new text keeps most of the old, else removed + added
    (also when the budget is spent). Words, never characters: a reader sees
    ``[-data-]{+personal data+}``, not a few letters changed inside a word, and a line
    of words is far fewer steps for the diff than its characters."""
    now = time.time()
    if now >= deadline:
        _late.append(True)
        return [(-1, removed), (1, added)]
    old_words, new_words = WORD.findall(removed), WORD.findall(added)
    kept = KEPT_RATIO * min(len(removed), len(added))
    deadline = min(deadline, now + per_pair)
    if not _may_keep(old_words, new_words, kept, deadline):  # cannot keep enough: no diff
        return [(-1, removed), (1, added)]
    ops = _word_diff(dmp, old_words, new_words, deadline)
    if ops is None:
        return [(-1, removed), (1, added)]
    if sum(len(text) for op, text in ops if op == 0) < kept:
        return [(-1, removed), (1, added)]
    return [(int(op), str(text)) for op, text in ops]


def _may_keep(old_words: list[str], new_words: list[str], kept: float, deadline: float) -> bool:
    """False when no word diff of the two sides can keep ``kept`` characters, so the
    block is shown rewritten whatever the diff would find (a word diff and its clean-ups
    only ever keep words of both sides, in order: a common subsequence of the two).

    First the characters of the words both sides have, counted with repeats; then, for a
    block the diff would take long over, the characters of a common subsequence, bounded
    exactly: a word of n characters counts once for each k <= n, so the characters kept
    are at most the sum over k of the longest common subsequence of the two sides' words
    of k characters or more (the bit-parallel LCS, one integer operation per word)."""
    shared = Counter(old_words) & Counter(new_words)
    if sum(len(word) * count for word, count in shared.items()) < kept:
        return False
    if len(old_words) * len(new_words) < BOUND_MIN_STEPS:
        return True
    if len(shared) * max(len(old_words), len(new_words)) > BOUND_MAX_BITS:
        return True
    return _ordered_bound(old_words, new_words, shared, kept, deadline) >= kept


def _ordered_bound(
    old_words: list[str], new_words: list[str], shared: Counter[str], kept: float,
    deadline: float,
) -> float:  # fmt: skip
    """An upper bound on the characters a common subsequence of the two keeps, or
    ``kept`` once it may reach them (or the deadline passed). Longest words first: their
    lists are short, and a subsequence of words of >= k characters is one of words of
    >= j characters for every j < k, which bounds the rest from below."""
    by_length = Counter[int]()  # the words both sides have, by their length
    for word, count in shared.items():
        by_length[len(word)] += count
    lengths = sorted(by_length, reverse=True) + [0]
    # counts[i]: the words of lengths[i] characters or more both sides have
    counts = list(itertools.accumulate(by_length[n] for n in lengths))
    total = 0  # the sum over k >= lengths[i] of the LCS of words of >= k characters
    for i, length in enumerate(lengths[:-1]):
        common = _lcs(
            [w for w in old_words if len(w) >= length and w in shared],
            [w for w in new_words if len(w) >= length and w in shared],
            deadline,
        )
        if common is None:
            return kept
        total += (length - lengths[i + 1]) * common
        if total + lengths[i + 1] * common >= kept:  # each shorter k keeps >= common
            return kept
        rest = sum(
            (lengths[j] - lengths[j + 1]) * counts[j] for j in range(i + 1, len(lengths) - 1)
        )
        if total + rest < kept:
            return total + rest
    return total


def _lcs(a: list[str], b: list[str], deadline: float) -> int | None:
    """The length of a longest common subsequence of ``a`` and ``b`` (Allison and Dix's
    bit-parallel form: a bit per item of the longer list, O(len(a) * len(b) / 64)), or
    None once the deadline has passed."""
    if len(a) < len(b):
        a, b = b, a
    where: dict[str, list[int]] = {}
    for i, item in enumerate(a):
        where.setdefault(item, []).append(i)
    masks = {item: _bits(found, len(a)) for item, found in where.items()}
    full = (1 << len(a)) - 1
    row = full
    for start in range(0, len(b), LCS_CHUNK):
        if time.time() > deadline:
            return None
        for item in b[start : start + LCS_CHUNK]:
            match = masks.get(item)
            if match:
                both = row & match
                row = ((row + both) | (row - both)) & full
    return len(a) - row.bit_count()


def _bits(positions: list[int], size: int) -> int:
    """The integer with the bits at ``positions`` set (linear: no shift of a big int)."""
    flags = bytearray(size // 8 + 1)
    for at in positions:
        flags[at >> 3] |= 1 << (at & 7)
    return int.from_bytes(flags, "little")


def _cleanup_is_cheap(ops: list[tuple[int, str]]) -> bool:
    if len(ops) > CLEANUP_MAX_OPS:
        return False
    return all(op == 0 or len(text) <= CLEANUP_MAX_OP_CHARS for op, text in ops)


def _word_diff(
    dmp: diff_match_patch, old_words: list[str], new_words: list[str], deadline: float
) -> list[tuple[int, str]] | None:
    """A diff over words (and runs of spaces or punctuation), each coded as one character,
    as diff-match-patch's line mode does for lines: far fewer steps than characters.
    The clean-up works on the codes too, so an edit starts and ends between words
    ("[-July-]{+February+}", never "[-Jul-]{+Februar+}y"); then a lone insertion or
    deletion slides to the best place in the text (after a full stop, not before it).
    None when there are too many distinct words to code."""
    words = list(dict.fromkeys(old_words + new_words))
    if len(words) > MAX_DISTINCT_WORDS:
        return None
    codes = {word: chr(i) for i, word in enumerate(words)}
    coded_old = "".join(codes[w] for w in old_words)
    coded_new = "".join(codes[w] for w in new_words)
    ops = dmp.diff_main(coded_old, coded_new, False, deadline)
    _before(deadline)
    if not _cleanup_is_cheap(ops):
        return [(op, "".join(words[ord(c)] for c in text)) for op, text in ops]
    dmp.diff_cleanupSemantic(ops)
    decoded = [(op, "".join(words[ord(c)] for c in text)) for op, text in ops]
    dmp.diff_cleanupSemanticLossless(decoded)  # an added sentence after its full stop
    return decoded


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
