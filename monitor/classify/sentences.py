"""Sentence splitting and the comparable key of a sentence (its meaning-bearing words)."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate

from monitor.classify.lookalike import has_lookalike, latin
from monitor.classify.visible import IGNORABLE

# A sentence ends at . ! ? (plus closing quotes) only before what can start one; extracted
# text sometimes loses the space between two sentences ("our products.Meta does not").
# Written to start with the stop itself, so the engine skips to the next . ! ? … in C; where
# the space is lost the end is after the stop (group 1 marks it), else the whole match.
_END = re.compile(
    r"[.!?…](?:[\"'”’»)\]]*(?=\s+(?:[\"'“‘(\[¿¡]|«\s?)?[A-ZÀ-ÖØ-Þ0-9])|(?<=[a-zà-ÿ]{3}[.!?])(?=[A-Z][a-z])())"
)
_ABBREVIATIONS = frozenset(
    "e.g. i.e. etc. inc. ltd. co. corp. llc. no. nos. vs. cf. mr. mrs. ms. dr. st. approx. "
    "u.s. u.k. e.u. art. sec. para. p. ex. ibid. fig. jr. sr. mme. m. c.-à-d. n°.".split()
)
_BULLETS = "*•·▪◦‣–—-"
_BULLET = re.compile(rf"^(?:[{_BULLETS}]\s+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_INVISIBLE = re.compile(f"[{IGNORABLE}]")  # no reader sees them: not part of a word
_WORD = re.compile(r"[^\W_]+")
# lowered ASCII: what _WORD does not find made a space (line breaks kept), spaces made one
_ASCII_GAPS = {code: " " for code in range(128) if not chr(code).isalnum() and code != 10}
_SPACES = re.compile("  +")
# every character str.split() cuts at, or str.splitlines() at, but " " and "\n"
_SPACES_BUT_TWO = tuple(
    char for char in map(chr, range(0x3001)) if char not in " \n" and (char.isspace()
    or len(f"a{char}b".splitlines()) > 1)
)  # fmt: skip
_ASCII_SPACES = tuple(char for char in _SPACES_BUT_TWO if char.isascii())
_NOT_WORD = re.compile(r"[^\w\n]+")  # what _WORD does not find, but line breaks and "_"
# the longest "sentence" the rules are run on; longer ones are cut (see _bounded)
MAX_SENTENCE = 1000
_CUTS = ("; ", ", ", " ")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: each line is split at sentence ends; bullets dropped."""
    lines, ends = _plain_lines(text)
    sentences: list[str] = []
    for at, line in enumerate(lines):
        if ends is None:
            line = " ".join(line.split())
            if not line:
                continue
            if len(line) > MAX_SENTENCE or _END.search(line):
                sentences.extend(_split_line(line))
                continue
        elif not line:
            continue
        elif len(line) > MAX_SENTENCE or at in ends:
            sentences.extend(_split_line(line))
            continue
        # one sentence (most lines): what _split_line keeps of it, without its loops
        if line[:1] in _BULLETS:
            line = _BULLET.sub("", line)
        if line[:1].isalnum() or _WORD.search(line):
            sentences.append(line)
    return sentences


def _plain_lines(text: str) -> tuple[list[str], set[int] | None]:
    """The lines of ``text`` and, where its white space is plain (each line already as
    ``" ".join(line.split())`` makes it: what extraction gives), the lines a sentence end
    is found in, by one search of the whole text; else (None) each line is normalised and
    searched alone. A match in a line is a match in the text at the same place, ending
    before the line's end (a stop begins it, no match spans a stop, and the space and
    capital it looks for are in the line); the text adds some (at a line's end, where the
    line break is the space after it: left out; after "«" and a line break: kept), and a
    line split with no end in it gives itself, as a line not split does."""
    lines = text.splitlines()
    if not _is_plain(text):
        return lines, None
    starts = list(accumulate((len(line) + 1 for line in lines), initial=0))
    ends: set[int] = set()
    line = 0
    for end in _END.finditer(text):
        where = end.start()
        if where >= starts[line + 1]:
            line = bisect_right(starts, where, line) - 1
        if end.end() < starts[line + 1] - 1:  # else it ends the line: no end in it alone
            ends.add(line)
    return lines, ends


def _is_plain(text: str) -> bool:
    """Whether the only white space in ``text`` is single spaces inside lines, and line
    breaks that are "\n" alone (so ``splitlines`` cuts where "\n" is)."""
    if text[:1] == " " or text[-1:] == " " or "  " in text or " \n" in text or "\n " in text:
        return False
    for space in _ASCII_SPACES if text.isascii() else _SPACES_BUT_TWO:
        if space in text:
            return False
    return True


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for end in _END.finditer(line):
        stop, after = (end.end(), end.end()) if end.lastindex else (end.start(), end.end())
        word = line[max(start, line.rfind(" ", start, stop + 1) + 1) : stop + 1]
        if word.lower().lstrip("([«\"'") in _ABBREVIATIONS:
            continue  # "e.g. Google" does not end a sentence (the line has single spaces)
        if len(line[start:after].strip()) <= 4:
            continue  # "1. Data we collect" is a numbered heading
        pieces.append(line[start:after])
        start = after
    pieces.append(line[start:])
    kept: list[str] = []
    for piece in pieces:
        for part in _bounded(piece) if len(piece) > MAX_SENTENCE else (piece,):
            part = part.strip()
            if part[:1] in _BULLETS:  # (what _BULLET can remove starts with one)
                part = _BULLET.sub("", part)
            if part[:1].isalnum() or _WORD.search(part):  # isalnum: [^\W_]
                kept.append(part)
    return kept


def _bounded(piece: str) -> list[str]:
    """A run-on "sentence" (a list or a table flattened with no full stop) in parts of at
    most MAX_SENTENCE characters, cut at the last semicolon, comma or space before the
    limit: the rules' cost grows faster than a sentence's length, so any input stays
    bounded. Real policy sentences are shorter (the longest in the corpus: 755)."""
    parts: list[str] = []
    while len(piece) > MAX_SENTENCE:
        cut = next(
            (
                at + 1
                for mark in _CUTS
                if (at := piece.rfind(mark, MAX_SENTENCE // 2, MAX_SENTENCE)) > 0
            ),
            MAX_SENTENCE,
        )
        parts.append(piece[:cut])
        piece = piece[cut:]
    parts.append(piece)
    return parts


def sentence_key(sentence: str) -> str:
    """The meaning-bearing words of a sentence, as one comparable string."""
    text = sentence
    if not text.isascii():  # the invisible characters and look-alikes are not ASCII
        text = unicodedata.normalize("NFKC", latin(_INVISIBLE.sub("", text)))
    low = text.lower()
    if "://" in low or "www." in low:  # where a link can be
        low = _URL.sub(" ", low)
    return " ".join(_WORD.findall(low))


def sentence_keys(sentences: list[str]) -> list[str]:
    """``[sentence_key(s) for s in sentences]``, keyed together: the sentences (of
    ``split_sentences``: no line breaks) joined by line breaks, each step done once on the
    whole (a line break changes none of them at its sides), and every run of characters
    _WORD does not find made one space (in C, where ``findall`` makes a string of each
    word). ASCII ones (most) take a faster way: no invisible characters to remove."""
    plain = [sentence for sentence in sentences if sentence.isascii()]
    other = [sentence for sentence in sentences if not sentence.isascii()]
    plain_keys, other_keys = iter(_ascii_keys(plain)), iter(_keys(other))
    return [next(plain_keys if s.isascii() else other_keys) for s in sentences]


def _ascii_keys(sentences: list[str]) -> list[str]:
    joined = "\n".join(sentences).lower()
    if not sentences or joined.count("\n") != len(sentences) - 1:
        return [sentence_key(sentence) for sentence in sentences]
    keys = _SPACES.sub(" ", joined.translate(_ASCII_GAPS)).split("\n")
    if "://" in joined or "www." in joined:  # where a link can be: keyed one by one
        starts = list(accumulate((len(sentence) + 1 for sentence in sentences), initial=0))
        for mark in ("://", "www."):
            at = joined.find(mark)
            while at >= 0:
                line = bisect_right(starts, at) - 1
                keys[line] = sentence_key(sentences[line])
                at = joined.find(mark, starts[line + 1])
    return [key.strip(" ") for key in keys]


def _keys(sentences: list[str]) -> list[str]:
    """Not ASCII: NFKC, lowercasing (its final sigma sees no letter across a line break)
    and the link regex (``\\S+`` stops at one) give each sentence what they give it alone."""
    joined = _INVISIBLE.sub("", "\n".join(sentences))
    if has_lookalike(joined):  # read as Latin sentence by sentence, as sentence_key does
        joined = "\n".join(latin(sentence) for sentence in joined.split("\n"))
    low = unicodedata.normalize("NFKC", joined).lower()
    if not sentences or low.count("\n") != len(sentences) - 1:
        return [sentence_key(sentence) for sentence in sentences]
    if "://" in low or "www." in low:
        low = _URL.sub(" ", low)
    # what _WORD does not find made a space: all but "_" in one run each, then "_" (a
    # class with no alternation: the engine's fast loop, 2x the pattern of both)
    spaced = _NOT_WORD.sub(" ", low)
    if "_" in spaced:
        spaced = _SPACES.sub(" ", spaced.replace("_", " "))
    return [key.strip(" ") for key in spaced.split("\n")]


def word_set(sentence: str) -> frozenset[str]:
    return frozenset(sentence_key(sentence).split())
