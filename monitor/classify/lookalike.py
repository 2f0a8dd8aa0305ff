"""Letters of other scripts drawn like Latin ones, read as the Latin letters a reader sees.

"tr\\u0430in" (a Cyrillic а) or "\\u0410I" (a Cyrillic А) is drawn as "train" and "AI", but
the rules, written in Latin letters, do not find it. :func:`latin` gives the rules (and
the sentence keys) the Latin letter for each such look-alike, one character for one (a
match's span is the same in the sentence as stored, which keeps its own letters), and
only where a reader is reading Latin: in a word that mixes Latin letters and look-alikes
("tr\\u0430in"), or in a word of look-alikes alone ("\\u0410\\u0406") in a sentence whose
other words are mostly Latin. Russian, Greek or Armenian text is left as written: its
words hold letters with no Latin look-alike, and its sentences are not mostly Latin.

The table is Unicode's (UTS #39 confusables.txt, 15.1, read through the data of the
``confusable_homoglyphs`` package): each single letter of the Cyrillic, Greek, Armenian,
Georgian, Cherokee, Coptic and Lisu scripts whose prototype is one ASCII letter, and that
NFKC (done at extraction) leaves alone; capitals confusable with "l" read as "I". Copied
here rather than imported: 161 pairs against a 900 KB table loaded in every process, and
its prototypes are many-to-many ("rn" for "m") where a span must stay one for one.

Latin letters drawn like other Latin ones (the IPA alpha "\u0251", script g, dotless i,
the small capitals "\u1d00\u026a" of "AI") are Latin wherever they stand, so they are read
as those letters in any text, but for the dotless i of a text holding a letter of Turkish
or Azerbaijani ("ğ", "ş", "İ", "ə"), where it is the language's own.
"""

from __future__ import annotations

import re

_FROM = (
    "\u037f\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4"
    "\u03a5\u03a7\u03b1\u03b3\u03b9\u03bd\u03bf\u03c1\u03c3\u03c5\u03dc\u03f3\u03fa"
    "\u0405\u0406\u0408\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422"
    "\u0423\u0425\u042c\u0430\u0433\u0435\u043e\u0440\u0441\u0443\u0445\u0455\u0456"
    "\u0458\u0461\u0474\u0475\u04ae\u04af\u04bb\u04bd\u04c0\u04cf\u0501\u050c\u051b"
    "\u051c\u051d\u054d\u054f\u0555\u0561\u0563\u0566\u0570\u0578\u057c\u057d\u0581"
    "\u0584\u0585\u10e7\u10ff\u13a0\u13a1\u13a2\u13a5\u13a9\u13aa\u13ab\u13ac\u13b3"
    "\u13b7\u13bb\u13bd\u13c0\u13c2\u13c3\u13cf\u13d2\u13d4\u13d5\u13d9\u13da\u13de"
    "\u13df\u13e2\u13e6\u13e7\u13f3\u13f4\u1d26\u2c85\u2c8e\u2c92\u2c94\u2c98\u2c9a"
    "\u2c9e\u2c9f\u2ca2\u2ca3\u2ca4\u2ca5\u2ca6\u2ca8\u2cac\u2cd0\ua4d0\ua4d1\ua4d2"
    "\ua4d3\ua4d4\ua4d6\ua4d7\ua4d9\ua4da\ua4dc\ua4dd\ua4df\ua4e0\ua4e1\ua4e2\ua4e3"
    "\ua4e6\ua4e7\ua4ea\ua4eb\ua4ec\ua4ee\ua4f0\ua4f2\ua4f3\ua4f4\ua647\uab75\uab81"
    "\uab83\uab93\uaba9\uabaa\uabaf"
)
_TO = (
    "JABEZHIKMNOPTYXayivopouFjMSIJABEKMHOPCTYXbareopcyxsijwVvYyheIidGqWwUSOwqqhnnug"
    "foyoDRTiYAJEWMHYGhZbRWSVSLCPKdGBrrHIKMNOoPpCcTYXLBPdDTGKJCZFMNLSRVHWXYAElOUiir"
    "wzvsc"
)
TABLE = str.maketrans(_FROM, _TO)
_LOOKALIKE = re.compile(f"[{_FROM}]")
# The Latin ones (UTS #39 prototypes; NFKC leaves them alone): alpha, script g, iota,
# dotless i and j, then the small capitals A to Z (X has none), read as capitals.
_LATIN_FROM = (
    "\u0251\u0261\u0269\u0131\u0237\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a"
    "\ua7ae\u1d0a\u1d0b\u029f\u1d0d\u0274\u1d0f\u1d18\ua7af\u0280\ua731\u1d1b\u1d1c\u1d20"
    "\u1d21\u028f\u1d22"
)
_LATIN_TO = "agiijABCDEFGHIIJKLMNOPQRSTUVWYZ"
LATIN_TABLE = str.maketrans(_LATIN_FROM, _LATIN_TO)
_TURKIC_TABLE = str.maketrans(_LATIN_FROM.replace("\u0131", ""), _LATIN_TO.replace("ii", "i"))
_TURKIC = re.compile("[\u011e\u011f\u015e\u015f\u0130\u018f\u0259]")
_LATIN_LOOKALIKE = re.compile(f"[{_LATIN_FROM}]")
# Every letter read as another: what a search must look at beyond its index (phrase.py).
LOOKALIKES = _FROM + _LATIN_FROM
_ANY = re.compile(f"[{LOOKALIKES}]")
_LETTERS = re.compile(r"[^\W\d_]+")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")  # (µ, × and ÷ need none)


def has_lookalike(text: str) -> bool:
    """Whether ``text`` holds a letter of the tables (never an ASCII text)."""
    return not text.isascii() and _ANY.search(text) is not None


def latin(text: str) -> str:
    """``text`` with its look-alikes read as Latin letters where a reader reads Latin (see
    the module's note); as long as ``text``, and ``text`` itself when there is none."""
    if not has_lookalike(text):
        return text
    if _LATIN_LOOKALIKE.search(text):
        text = text.translate(_TURKIC_TABLE if _TURKIC.search(text) else LATIN_TABLE)
    if not _LATIN.search(text) or not _LOOKALIKE.search(text):
        return text  # (a sentence of another script alone: most of them, quickly)
    folded: list[tuple[int, int]] = []  # spans of the words read as Latin
    alone: list[tuple[int, int]] = []  # words of look-alikes alone: Latin if the rest is
    latin_letters = other_letters = 0
    for word in _LETTERS.finditer(text):
        letters = word.group()
        alike = len(_LOOKALIKE.findall(letters))
        roman = sum(1 for letter in letters if _is_latin(letter))
        if alike and roman:
            folded.append(word.span())
        elif alike == len(letters):
            alone.append(word.span())
            continue
        latin_letters += roman + (alike if roman else 0)
        other_letters += len(letters) - roman - (alike if roman else 0)
    if latin_letters > other_letters:
        folded = sorted(folded + alone)
    if not folded:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in folded:
        pieces += (text[last:start], text[start:end].translate(TABLE))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _is_latin(letter: str) -> bool:
    # every letter below U+0250 is Latin (ASCII, Latin-1, Extended-A and -B), and so are
    # the Latin Extended Additional ones (Vietnamese, Welsh...)
    return letter < "\u0250" or "\u1e00" <= letter <= "\u1eff"
