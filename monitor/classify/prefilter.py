"""What a regex cannot match without: literal words, checked before the regex is run.

Python's regex engine tries a case-insensitive pattern at every position of the text (its
own prefix scans give up on cased letters), so a pack's large alternations cost a fraction
of a millisecond per sentence even where they cannot match. Read from the parsed pattern,
``needs`` gives groups of lowercase ASCII strings: in any text the pattern matches, one
string of every group is found in the text lowered by ``lowered`` (a necessary condition,
never a sufficient one: the regex still decides). ``branches`` splits a pattern that is
one alternation into its alternatives, each with its own needs, so only the alternatives
whose words are there are searched. ``starts`` gives the strings a match can begin with:
the regex is then tried only where one of them is in the lowered text (``lowered`` keeps
every character where it is), not at every position. Nothing here changes what a pattern
matches.
"""

from __future__ import annotations

from re import _parser  # type: ignore[attr-defined]
from typing import Any

VERSION = 4  # of the analysis: bump when it changes what it finds (plans cached on disk)
Needs = tuple[tuple[str, ...], ...]  # every group: one of its strings is in the text
Starts = tuple[str, ...]  # every match begins with one of them (empty: not known)
Info = tuple[frozenset[str] | None, list[frozenset[str]]]  # (all it can match, needs)

C = _parser  # the opcodes (LITERAL, BRANCH, ...) as the parser names them
CAP = 48  # the most strings a node's "all it can match" set is kept with
KEEP = 3  # the most selective groups kept per pattern
STARTS_CAP = 256  # the most strings a pattern's starts are worked out with
FEW_STARTS = 64  # kept: cut shorter until there are no more
_CUTS = (64, 16, 12, 8, 6, 5, 4, 3)  # the lengths the starts are cut to, in turn
LONG = 24  # a group of more strings is kept only where there are not KEEP shorter ones
# the only characters outside ASCII that a case-insensitive ASCII letter matches (a test
# checks every code point): mapped to it before lowering, so "İ" is not lowered to "i̇"
_ODD_CASES = {0x130: "i", 0x131: "i", 0x17F: "s"}


def lowered(text: str) -> str:
    """``text`` as the needs are checked on: every character a case-insensitive ASCII
    letter of a pattern can match is that letter, lowercase."""
    if not text.isascii() and ("İ" in text or "ı" in text or "ſ" in text):
        text = text.translate(_ODD_CASES)
    return text.lower()


def holds(needs: Needs, low: str) -> bool:
    """Whether one string of every group is in ``low`` (loops: cheaper than all/any)."""
    for group in needs:
        for word in group:
            if word in low:
                break
        else:
            return False
    return True


def needs(parsed: Any) -> Needs:
    """The best groups of the parsed pattern (at most KEEP), most selective first."""
    exact, found = _sequence(parsed)
    if exact is not None:
        found = [*found, exact]
    return _best(found)


def starts(parsed: Any) -> Starts:
    """Lowercase ASCII strings one of which every match of the pattern begins with: in the
    text lowered by ``lowered``, at the match's start; () where that is not known (a match
    can begin with anything, or with the empty string). None is a start of another."""
    found = _starts(list(parsed.data))
    for size in _CUTS:  # each string is a find per search: fewer shorter ones beat many
        kept = _first_of(found or (), size)
        if len(kept) <= FEW_STARTS:
            return tuple(sorted(kept))
    return ()  # too many: a match is tried at every position


def _first_of(strings: frozenset[str] | tuple[()], size: int) -> list[str]:
    """The strings cut to ``size`` characters, without those another one begins."""
    kept: list[str] = []
    for word in sorted({word[:size] for word in strings}, key=len):
        if not any(word.startswith(shorter) for shorter in kept):
            kept.append(word)
    return kept


def _fit(strings: frozenset[str]) -> frozenset[str] | None:
    """``strings`` cut short until at most STARTS_CAP are left (what a string begins with
    still begins the match); None where even three characters are too many."""
    for size in _CUTS:
        cut = frozenset(word[:size] for word in strings)
        if len(cut) <= STARTS_CAP:
            return cut
    return None


def _starts(items: Any) -> frozenset[str] | None:
    """A concatenation's starts: the strings of its leading exact items (zero-width ones, as
    \\b or a lookaround, add nothing), then those the first other item begins with."""
    current: frozenset[str] = frozenset({""})
    for op, av in items:
        exact, _ = _node(op, av)
        head = exact if exact is not None else _head(op, av)
        if head is None or len(current) * len(head) > STARTS_CAP:
            break
        current = frozenset(a + b for a in current for b in head)
        if exact is None:
            break
    return None if "" in current else _fit(current)


def _head(op: Any, av: Any) -> frozenset[str] | None:
    """What an item that is not exact begins with; None where not known."""
    if op is C.SUBPATTERN:
        return _starts(av[3])
    if op is C.ATOMIC_GROUP:
        return _starts(av)
    if op is C.BRANCH:
        union: set[str] = set()
        for item in av[1]:
            head = _starts(item)
            if head is None:
                return None
            union |= head
        return _fit(frozenset(union))
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _starts(av[2])
    return None


def branches(parsed: Any) -> list[Any] | None:
    """The alternatives of a pattern that is one alternation (through non-capturing groups
    with no flags of their own), flattened the same way; None for any other pattern
    (including alternatives the parser gave a common start, as ``\\ba|\\bb``: searched whole)."""
    data = _unwrap(parsed)
    if data is None or len(data) != 1 or data[0][0] is not C.BRANCH:
        return None
    flat: list[Any] = []
    for item in data[0][1][1]:
        inner = branches(item)
        flat.extend(inner if inner is not None else [item])
    return flat


def _unwrap(parsed: Any) -> list[Any] | None:
    data = list(parsed.data)
    while len(data) == 1 and data[0][0] is C.SUBPATTERN:
        group, add_flags, del_flags, inner = data[0][1]
        if group is not None or add_flags or del_flags:
            return data
        data = list(inner.data)
    return data


def _best(groups: list[frozenset[str]]) -> Needs:
    useful = {_shortest(group) for group in groups if group and "" not in group}
    # a long list costs a test per string where none is there: short lists first
    ranked = sorted(useful, key=lambda g: (len(g) > LONG, -min(map(len, g)), len(g), sorted(g)))
    return tuple(tuple(sorted(group)) for group in ranked[:KEEP])


def _shortest(group: frozenset[str]) -> frozenset[str]:
    """The group without the strings that contain another of its strings: where "models"
    is in the text, "model" is too, so the group is found or missing all the same."""
    kept: list[str] = []
    for word in sorted(group, key=len):
        if not any(shorter in word for shorter in kept):
            kept.append(word)
    return frozenset(kept)


def _sequence(items: Any) -> Info:
    """A concatenation: the product of its items' strings while they are few."""
    found: list[frozenset[str]] = []
    current: frozenset[str] = frozenset({""})
    whole = True
    for op, av in items:
        exact, more = _node(op, av)
        found.extend(more)
        if exact is not None and len(current) * len(exact) <= CAP:
            current = frozenset(a + b for a in current for b in exact)
            continue
        whole = False
        found.append(current)
        current = exact if exact is not None and len(exact) <= CAP else frozenset({""})
    if whole:
        return current, found
    return None, [*found, current]


def _node(op: Any, av: Any) -> Info:
    if op is C.LITERAL:
        return (frozenset({chr(av).lower()}) if av < 128 else None), []
    if op is C.IN:
        return _charset(av), []
    if op is C.AT:
        return frozenset({""}), []
    if op in (C.ASSERT, C.ASSERT_NOT):
        return frozenset({""}), (_sequence(av[1])[1] if op is C.ASSERT else [])
    if op is C.SUBPATTERN:
        return _sequence(av[3])
    if op is C.ATOMIC_GROUP:
        return _sequence(av)
    if op is C.BRANCH:
        return _branch(av[1])
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        return _repeat(*av)
    return None, []  # ANY, NOT_LITERAL, GROUPREF, GROUPREF_EXISTS, ...


def _charset(items: Any) -> frozenset[str] | None:
    chars = set()
    for op, av in items:
        if op is not C.LITERAL or av >= 128:
            return None
        chars.add(chr(av).lower())
    return frozenset(chars) if len(chars) <= CAP else None


def _branch(alternatives: Any) -> Info:
    infos = [_sequence(item) for item in alternatives]
    exacts = [exact for exact, _ in infos]
    if all(exact is not None for exact in exacts):
        union = frozenset().union(*(e for e in exacts if e is not None))
        if len(union) <= CAP:
            return union, []
    chosen: set[str] = set()
    for exact, found in infos:
        best = _best([*found, *([exact] if exact is not None else [])])
        if not best:
            return None, []
        chosen.update(best[0])
    return None, [frozenset(chosen)]


def _repeat(low: int, high: int, item: Any) -> Info:
    exact, found = _sequence(item)
    if low == 0:
        if high == 1 and exact is not None:
            return exact | {""}, []
        return None, []
    if low == high == 1:
        return exact, found
    return None, [*found, *([exact] if exact is not None else [])]
