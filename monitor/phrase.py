"""Since when does a policy say this? A phrase's history over a document's versions (pure).

Matching rule (``contains``): case-insensitive (``fold``: ``str.lower``, with the
``i`` + combining dot that Turkish capital İ lowers to read as a plain ``i``), every run
of whitespace (spaces, line breaks) counts as one space, and the phrase must start and
end on word boundaries ("AI model" does not match "AI models"; "AI-models" does not
match "AI models").

The history walks the document's timeline: its changes and technical upgrades in the order
they happened, each moving the document from one version to another. A step where the
phrase appears or disappears is an event; the first appearance names the change that
introduced it, the first disappearance after it the change that removed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.models import Change, Origin, Upgrade, Version

MATCHING = "case and runs of whitespace ignored, whole words at both ends"
_SPACES = re.compile(r"\s+")
_WORD_CHAR = re.compile(r"\w")
EXCERPT_CHARS = 240
# FTS5's default tokenizer (unicode61) splits on everything but letters and digits.
_FTS_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """``text.lower()``, on both sides of every comparison: "İ" lowers to "i" and a
    combining dot (U+0307), which would keep "KİŞİSEL" from matching "kişisel"; that
    pair is folded to "i" (so the capital keeps one character: spans stay the text's)."""
    lowered = text.lower()
    return lowered.replace("i\u0307", "i") if "\u0307" in lowered else lowered


def normalise(text: str) -> str:
    return _SPACES.sub(" ", fold(text)).strip()


@dataclass(frozen=True)
class Matcher:
    """The exact rule for one phrase (see :func:`contains`)."""

    pattern: re.Pattern[str]  # the words, any run of whitespace between them
    word_start: bool  # the phrase starts with a word character: a boundary must precede
    words: tuple[str, ...] = ()  # the phrase, lowered, cut at its runs of whitespace
    unseen: re.Pattern[str] | None = None  # characters a text may hold anywhere in it
    reading: Callable[[str], str] | None = None  # a text as read (one character for one)

    def folded(self, text: str) -> str:
        """``fold`` of ``text`` as read (its look-alike letters read as Latin ones)."""
        return fold(self.reading(text) if self.reading else text)


def phrase_pattern(
    phrase: str, unseen: str = "", reading: Callable[[str], str] | None = None
) -> Matcher:
    """The rule for ``phrase``; ``unseen``, a regex class's characters (those no reader
    sees: soft hyphens, zero-width ones...), may stand anywhere in a text's words
    ("tr\\u00adain" holds "train") and are not part of the phrase. ``reading``: how
    texts and the phrase are read, one character for one (look-alike letters as the
    Latin ones a reader sees: "tr\\u0430in" holds "train")."""
    skipped = re.compile(f"[{unseen}]") if unseen else None
    wanted = normalise(skipped.sub("", phrase) if skipped else phrase)
    wanted = normalise(reading(wanted)) if reading else wanted
    if not wanted:
        raise ValueError("the phrase is empty")
    end = rf"(?![{unseen}]*\w)" if _WORD_CHAR.match(wanted[-1]) else ""
    if not unseen:
        end = end.replace("[]*", "")
    # Starting with the literal (no look-behind) lets the regex engine skip ahead fast;
    # the boundary before a match is checked by hand.
    gap, space = (f"[{unseen}]*", f"[{unseen}]*\\s+[{unseen}]*") if unseen else ("", r"\s+")
    body = space.join(gap.join(map(re.escape, word)) for word in wanted.split(" "))
    words = tuple(wanted.split(" "))
    start = bool(_WORD_CHAR.match(wanted[0]))
    return Matcher(re.compile(body + end), start, words, skipped, reading)


def contains(text: str, matcher: Matcher) -> bool:
    return find(text, matcher) is not None


def find(text: str, matcher: Matcher) -> tuple[int, int] | None:
    """Where the phrase first is in ``matcher.folded(text)`` (start, end), or None."""
    lowered = matcher.folded(text)
    for match in matcher.pattern.finditer(lowered):
        start = before = match.start()
        while matcher.unseen and before > 0 and matcher.unseen.match(lowered[before - 1]):
            before -= 1  # "tr\u00adain" holds no word "ain"
        if not matcher.word_start or before == 0 or not _WORD_CHAR.match(lowered[before - 1]):
            return start, match.end()
    return None


def excerpt(text: str, matcher: Matcher, width: int = EXCERPT_CHARS) -> str:
    """The line holding the phrase's first occurrence, cut to about ``width`` characters
    around it ("" when absent)."""
    span = find(text, matcher)
    if span is None:
        return ""
    if len(matcher.folded(text)) != len(text):  # a rare fold that changes lengths: folded
        text = matcher.folded(text)
    start, end = span
    line_start = text.rfind("\n", 0, start) + 1
    line_end = len(text) if (cut := text.find("\n", end)) < 0 else cut
    room = max(0, width - (end - start)) // 2
    left, right = max(line_start, start - room), min(line_end, end + room)
    if left > line_start:  # cut between words
        left = next((i + 1 for i in range(left, start) if text[i].isspace()), left)
    if right < line_end:
        right = next((i for i in range(right, end, -1) if text[i].isspace()), right)
    shown = " ".join(text[left:right].split())
    return ("…" if left > line_start else "") + shown + ("…" if right < line_end else "")


def fts_query(phrase: str) -> str | None:
    """An FTS5 phrase query every text holding ``phrase`` matches (a prefilter, broader
    than :func:`contains`); None when it could not narrow anything down (no word, or
    characters whose case FTS5 may fold differently from Python)."""
    words = fts_words(phrase)
    return '"' + " ".join(words) + '"' if words else None


def fts_words(phrase: str) -> list[str]:
    """The phrase's words as FTS5 sees them ([]: FTS5 cannot narrow this phrase down)."""
    words = _FTS_WORD.findall(fold(phrase))
    return words if words and phrase.isascii() else []


def edge_queries(phrase: str) -> tuple[str, str] | None:
    """FTS5 queries for the first and the last word: a phrase split over two lines has
    its first word whole in the first line and its last word in the second."""
    words = fts_words(phrase)
    return (f'"{words[0]}"', f'"{words[-1]}"') if words else None


def holding(
    lists: Mapping[int, Sequence[int]], texts: Mapping[int, str], matcher: Matcher
) -> set[int]:
    """The versions whose text holds the phrase, given each version as its lines (ids of
    ``texts``, joined by line breaks). The phrase is looked for within one line and
    across two adjacent lines (blank lines between them skipped); ``texts`` holds the
    lines that may take part, an id missing from it is known to hold no piece of it.
    A phrase spread over three or more non-blank lines is not found."""
    inside = {pid for pid, text in texts.items() if contains(text, matcher)}
    # A line a phrase starts in holds its first word whole; the line it ends in, its last.
    lowered = {pid: _seen(matcher.folded(text), matcher) for pid, text in texts.items()
               if text.strip()}  # fmt: skip
    first, last = (matcher.words[0], matcher.words[-1]) if len(matcher.words) > 1 else ("", "")
    heads = {pid for pid, text in lowered.items() if first and first in text}
    tails = {pid for pid, text in lowered.items() if last and last in text}
    pairs: dict[tuple[int, int], bool] = {}
    found = set()
    for number, ids in lists.items():
        if not inside.isdisjoint(ids):
            found.add(number)
            continue
        starts = heads.intersection(ids)
        if starts and any(
            _crossed(pair, texts, matcher, pairs) for pair in _adjacent(ids, starts, tails, texts)
        ):
            found.add(number)
    return found


def _seen(text: str, matcher: Matcher) -> str:
    return matcher.unseen.sub("", text) if matcher.unseen and not text.isascii() else text


def _adjacent(
    ids: Sequence[int], starts: set[int], tails: set[int], texts: Mapping[int, str]
) -> Iterator[tuple[int, int]]:
    """Each line of ``starts`` with the next non-blank line of ``ids`` when that is in
    ``tails`` (the lines between them blank)."""
    for at in _positions(ids, starts):
        after = at + 1
        while after < len(ids) and ids[after] in texts and not texts[ids[after]].strip():
            after += 1
        if after < len(ids) and ids[after] in tails:
            yield ids[at], ids[after]


# A phrase's first word in many lines ("we ...") is found by one walk of the version, not
# by a search of it per line: that was quadratic (10 versions of 4,000 lines: 2 s).
_FEW_STARTS = 16


def _positions(ids: Sequence[int], starts: set[int]) -> list[int]:
    """Where the lines of ``starts`` are in ``ids``, in order."""
    if len(starts) > _FEW_STARTS:
        return [at for at, pid in enumerate(ids) if pid in starts]
    found = []
    for pid in starts:
        at = -1
        while (at := _index(ids, pid, at + 1)) >= 0:
            found.append(at)
    return sorted(found)


def _index(ids: Sequence[int], pid: int, start: int) -> int:
    try:
        return ids.index(pid, start)
    except ValueError:
        return -1


def _crossed(
    pair: tuple[int, int], texts: Mapping[int, str], matcher: Matcher,
    seen: dict[tuple[int, int], bool],
) -> bool:  # fmt: skip
    if pair not in seen:
        seen[pair] = contains(texts[pair[0]] + "\n" + texts[pair[1]], matcher)
    return seen[pair]


@dataclass(frozen=True)
class Step:
    """A move of the document from one version to another where the phrase came or went."""

    event: str  # "added" or "removed"
    at: datetime
    from_version: int | None
    to_version: int
    change: int | None  # None: a technical upgrade (a new baseline, not a change)


@dataclass(frozen=True)
class PhraseHistory:
    document: str
    phrase: str
    version: int  # the first version holding the phrase
    first_seen: datetime  # when that version was first seen
    change: int | None  # the change that introduced it (None: in the first version)
    removed_by: int | None  # the first change after it that removed it
    returned_by: int | None  # the first change after that which brought it back
    present_now: bool
    steps: tuple[Step, ...]
    excerpt: str = ""  # the phrase in its line, in the first version holding it
    origin: Origin | None = None  # the archive that version was imported from (issue 14)

    @property
    def introduced(self) -> Step | None:
        return next((s for s in self.steps if s.event == "added"), None)


def phrase_history(
    phrase: str,
    present: Collection[int],
    versions: Sequence[Version],
    changes: Sequence[Change],
    upgrades: Sequence[Upgrade],
    current: int | None,
) -> PhraseHistory | None:
    """The phrase's history, given the numbers of the versions that hold it; None when
    no version does."""
    holding = [v for v in versions if v.number in present]
    if not holding:
        return None
    first = min(holding, key=lambda v: v.number)
    steps = tuple(_steps(present, changes, upgrades))
    added = [s for s in steps if s.event == "added" and s.to_version == first.number]
    introduced = added[0] if added else None
    after = steps[steps.index(introduced) + 1 :] if introduced else steps
    removed = next((s for s in after if s.event == "removed"), None)
    back = steps[steps.index(removed) + 1 :] if removed else ()
    returned = next((s for s in back if s.event == "added"), None)
    return PhraseHistory(
        document=first.document, phrase=phrase, version=first.number,
        first_seen=first.first_seen, change=introduced.change if introduced else None,
        removed_by=removed.change if removed else None,
        returned_by=returned.change if returned else None,
        present_now=current in present, steps=steps,
    )  # fmt: skip


def _steps(
    present: Collection[int], changes: Sequence[Change], upgrades: Sequence[Upgrade]
) -> list[Step]:
    # (when, changes before upgrades at one time, id, from, to, change id or None)
    Move = tuple[datetime, int, int, int | None, int, int | None]
    moves: list[Move] = [
        (c.detected_at, 0, c.id, c.from_version, c.to_version, c.id) for c in changes
    ]
    moves += [(u.at, 1, u.id, u.from_version, u.to_version, None) for u in upgrades]
    steps = []
    for at, _, _, old, new, change in sorted(moves, key=lambda m: (m[0], m[1], m[2])):
        was, now = old in present, new in present
        if was != now:
            steps.append(Step("added" if now else "removed", at, old, new, change))
    return steps
