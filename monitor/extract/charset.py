"""Page bytes to str, as declared: the byte-order mark, then the Content-Type charset, then
<meta charset>; detection only when nothing usable is declared.

A server that sends one invalid byte (a truncated multi-byte character, a stray byte from
a template) must not change the decoding of the whole page: re-decoding every byte in
another charset would turn each non-ASCII character into another one, a false change of the
whole text. So the declared charset is kept and only the bad bytes become U+FFFD. A
declaration is dropped only when it is plainly wrong for these bytes (most of their
non-ASCII content is invalid in it, e.g. a Latin-1 page served as UTF-8), and an undeclared
page that is UTF-8 apart from a few bytes stays UTF-8. Pure functions, no I/O.
"""

from __future__ import annotations

import codecs
import logging
import re

from monitor.errors import ExtractError

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?([-\w.:]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
# With errors="surrogateescape" each undecodable byte becomes one lone surrogate.
_ESCAPED = re.compile("[\udc80-\udcff]+")
# Python's text codecs that decode escapes or code point numbers, not a charset's bytes: a
# page declaring one can decode to lone surrogates (UTF-7's "+2AA-", "\\ud800"), which no
# parser, hash or database takes; they become U+FFFD. (A charset decoder never makes one.)
_CODE_POINT_CODECS = frozenset({"utf-7", "unicode-escape", "raw-unicode-escape", "punycode",
                                "idna"})  # fmt: skip
_SURROGATE = re.compile("[\ud800-\udfff]")
# A charset that decodes some characters outside ASCII fits the bytes when those outnumber
# its invalid bytes this many times, or, when it was declared, when at most this many
# bytes are invalid.
FEW_BAD_BYTES = 3
GOOD_PER_BAD = 4


def decode(body: bytes, content_type: str = "") -> str:
    """Bytes to str: BOM, then the header's charset, then <meta charset>, then detection;
    invalid bytes in a fitting charset become U+FFFD, the rest of the page is unchanged."""
    for declared in _declared_charsets(body, content_type):
        text = _decoded_if_fits(body, declared, FEW_BAD_BYTES)
        if text is not None:
            return _checked(text, declared)
    # Undeclared: UTF-8 only when its valid multi-byte characters dominate the bad bytes
    # (an all-ASCII page with one stray byte goes to detection, which changes only it).
    text = _decoded_if_fits(body, "utf-8", 0)
    if text is not None:
        return _checked(text, "utf-8")
    # Imported here: only a page that declares nothing and is not UTF-8 needs detection,
    # and importing BeautifulSoup costs every check about 0.1 s.
    from bs4 import UnicodeDammit

    # Its "Some characters could not be decoded" warning went to stderr as a stray line
    # (cron mails it); the page's replaced bytes are counted by _checked instead.
    logging.getLogger("bs4.dammit").setLevel(logging.ERROR)
    dammit = UnicodeDammit(body, [], is_html=True)
    if dammit.unicode_markup is None:
        raise ExtractError("page bytes are in no known text encoding: is the URL an HTML page?")
    return _checked(dammit.unicode_markup, dammit.original_encoding or "")


def _declared_charsets(body: bytes, content_type: str) -> list[str]:
    found: list[str] = []
    if body.startswith(codecs.BOM_UTF8):
        found.append("utf-8-sig")
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        found.append("utf-16")
    header = _CT_CHARSET.search(content_type)
    meta = _META_CHARSET.search(body[:4096])
    found += [header.group(1)] if header else []
    found += [meta.group(1).decode("ascii", "replace")] if meta else []
    return found


def _decoded_if_fits(body: bytes, charset: str, few: int) -> str | None:
    """The text in ``charset`` with bad bytes replaced, or None when the name is unknown or
    the charset plainly does not fit the bytes: it decodes no character outside ASCII
    (then another charset changes only the bad bytes, never the rest), or over ``few`` bad
    bytes without many more good characters outside ASCII."""
    try:
        return body.decode(charset)
    except LookupError:
        return None
    except UnicodeDecodeError:
        pass
    escaped = body.decode(charset, "surrogateescape")
    bad = sum(len(run) for run in _ESCAPED.findall(escaped))
    good = len(escaped) - len(escaped.encode("ascii", "ignore")) - bad
    if good == 0 or (bad > few and good < GOOD_PER_BAD * bad):
        return None
    return _ESCAPED.sub("\ufffd", escaped)


def _checked(text: str, charset: str) -> str:
    # Binary data decodes "successfully" in single-byte charsets; control bytes give it away.
    sample = text[:20000]
    if sample and len(_CONTROL.findall(sample)) > 0.01 * len(sample):
        raise ExtractError("page bytes are not text (binary file or wrong charset?)")
    text = text.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", text) if _by_code_point(charset) else text


def _by_code_point(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name in _CODE_POINT_CODECS
    except LookupError:
        return False
