"""Where a document stands on AI training, read from its current text (pure, like classify).

Every sentence the classifier's training rules match (monitor/rules/*.yaml) is a training
sentence; its *passage* is its line (a paragraph, or a table row) and the bullet lines
right after it (a table row's list of data). The board's cells are read from those
passages with the facets of ``facets.yaml``:

- ``trains_on_user_data``: "yes" when a training sentence says people's data is used
  (its category names data, or its passage names a kind of data); "no" when the only
  training sentences say data is *not* used; else "not stated".
- ``opt_out``: "yes" when a passage names an opt-out or objection right (``where``: the
  words saying where, e.g. "in your settings").
- ``legal_basis``: "yes" with ``which`` (consent, legitimate interest, contract) when a
  passage names one, or the passage is a table row under a line declaring one.
- ``data_used``: "yes" with ``which`` kinds of data (posts, photos, interactions, voice,
  chats, public information, inputs to AI features, personal data).
- ``regions``: "yes" with ``which`` regions (EU/EEA, UK, Switzerland, US) the passages name.

Each cell quotes the sentence it rests on; ``not stated`` cells quote none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from monitor.board.facets import Facets, Named, first_found, load_facets, names_found
from monitor.classify import (
    classifier_version,
    load_rules,
    match_sentence,
    sentence_key,
    split_sentences,
)

__all__ = ["CELLS", "Cell", "board_version", "derive_cells", "sentence_key"]

CELLS = ("trains_on_user_data", "opt_out", "legal_basis", "data_used", "regions")
YES, NO, NOT_STATED = "yes", "no", "not stated"
# categories of training sentences that name people's data themselves
DATA_CATEGORIES = frozenset(
    {"user-content-training", "public-data-training", "personal-data-training", "opt-out",
     "legal-basis"}
)  # fmt: skip
BULLETS = ("* ", "- ", "• ", "· ")
MAX_BULLETS = 15  # bullet lines after a training line that still belong to its passage
SECTION_LOOKBACK = 400  # lines above a table row searched for a legal-basis declaration
_INVISIBLE = " \ufeff\u200b\u200c\u200d\u2060"  # stripped from a cited sentence's ends
_STATEMENT = re.compile(r"[.;:)][\"'”’»)\]\s\ufeff]*$")


@dataclass(frozen=True)
class Cell:
    """One cell of the board: its value, what it names, and the sentence it rests on."""

    name: str
    value: str  # "yes", "no" or "not stated"
    which: tuple[str, ...] = ()
    sentence: str = ""
    where: str = ""


@dataclass(frozen=True)
class _Hit:
    line: int
    sentence: str
    category: str
    passage: tuple[str, ...] = field(default=())  # the sentences of its passage


def board_version() -> str:
    """The rules and facets in force: a change of them can move a cell without the text."""
    return f"{classifier_version()}+{load_facets().version}"


def derive_cells(text: str) -> dict[str, Cell]:
    """The board's cells for one version's text."""
    facets = load_facets()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    hits = sorted(_training_hits(lines), key=_statement_first)
    positive = [hit for hit in hits if _names_data(hit, facets)]
    negative = [hit for hit in hits if hit.category == "training-negation"]
    cells = [
        _trains(positive, negative),
        _opt_out(hits, facets),
        _legal_basis(positive, lines, facets),
        _named_cell("data_used", positive, facets.data),
        _named_cell("regions", positive, facets.regions),
    ]
    return {cell.name: cell for cell in cells}


def _training_hits(lines: list[str]) -> list[_Hit]:
    rules = load_rules()
    hits: list[_Hit] = []
    for index, line in enumerate(lines):
        passage: tuple[str, ...] = ()  # one per line, shared by its hits (not one each)
        for sentence in _sentences(line):
            match = match_sentence(sentence, rules, training_only=True)
            if match:
                passage = passage or tuple(_passage(lines, index))
                hits.append(_Hit(index, sentence, match.rule.category, passage))
    return hits


def _statement_first(hit: _Hit) -> tuple[int, int]:
    """Statements before headings and questions ("How do I turn off training?"), then
    document order: a cell cites what the text asserts."""
    return (0 if _STATEMENT.search(hit.sentence) else 1, hit.line)


def _sentences(line: str) -> list[str]:
    """The sentences of a line; a table row's cells (``a | b``) are read one by one."""
    sentences = (s.strip(_INVISIBLE) for cell in line.split(" | ") for s in split_sentences(cell))
    return [sentence for sentence in sentences if sentence]


def _passage(lines: list[str], index: int) -> list[str]:
    sentences = _sentences(lines[index])
    for line in lines[index + 1 : index + 1 + MAX_BULLETS]:
        if not line.startswith(BULLETS):
            break
        sentences += _sentences(line)
    return sentences


def _names_data(hit: _Hit, facets: Facets) -> bool:
    if hit.category == "training-negation":
        return False
    return hit.category in DATA_CATEGORIES or any(
        names_found(facets.data, sentence) for sentence in hit.passage
    )


def _trains(positive: list[_Hit], negative: list[_Hit]) -> Cell:
    if positive:
        return Cell("trains_on_user_data", YES, sentence=positive[0].sentence)
    if negative:
        return Cell("trains_on_user_data", NO, sentence=negative[0].sentence)
    return Cell("trains_on_user_data", NOT_STATED)


def _opt_out(hits: list[_Hit], facets: Facets) -> Cell:
    for hit in hits:
        for sentence in hit.passage:
            found = first_found(facets.opt_out, sentence)
            if found:
                where = first_found(facets.where, sentence)
                return Cell(
                    "opt_out", YES, sentence=sentence, where=where.group(0) if where else ""
                )
    return Cell("opt_out", NOT_STATED)


def _legal_basis(positive: list[_Hit], lines: list[str], facets: Facets) -> Cell:
    which: list[str] = []
    cited = ""
    for hit in positive:
        sources = list(hit.passage) + _section_declaration(lines, hit.line, facets)
        for sentence in sources:
            found = names_found(facets.legal_basis, sentence)
            which += [name for name in found if name not in which]  # one name each
            cited = cited or (sentence if found else "")
    if not which:
        return Cell("legal_basis", NOT_STATED)
    order = [name for name, _ in facets.legal_basis]
    return Cell("legal_basis", YES, tuple(sorted(which, key=order.index)), cited)


def _section_declaration(lines: list[str], index: int, facets: Facets) -> list[str]:
    """The sentence declaring the legal basis of a training paragraph (the paragraph right
    after it: "We rely on our legitimate interests for this.") or of the table a training
    row is part of (the nearest declaration above it)."""
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if first_found(facets.section_basis, following):
        return _sentences(following)[:1]
    if " | " not in lines[index] and not lines[index].startswith(BULLETS):
        return []
    for line in reversed(lines[max(0, index - SECTION_LOOKBACK) : index]):
        if first_found(facets.section_basis, line):
            return _sentences(line)[:1]
    return []


def _named_cell(name: str, positive: list[_Hit], named: Named) -> Cell:
    which: list[str] = []
    cited = ""
    for hit in positive:
        found = [n for s in hit.passage for n in names_found(named, s)]
        which += [n for n in dict.fromkeys(found) if n not in which]
        cited = cited or (hit.sentence if found else "")
    if not which:
        return Cell(name, NOT_STATED)
    order = [n for n, _ in named]
    return Cell(name, YES, tuple(sorted(which, key=order.index)), cited)
