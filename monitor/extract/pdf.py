"""Text of a PDF policy (the only module importing pypdf).

Some publishers post their terms as PDF only. The text comes out a line per PDF text
line; the usual normalisation then applies, so diffs compare words as for HTML.
"""

from __future__ import annotations

import io
import logging
import re
import time
from typing import Any

from monitor.errors import ExtractError

# pypdf warns on every slightly malformed PDF; those warnings are not the user's business.
logging.getLogger("pypdf").setLevel(logging.ERROR)
MAX_PAGES = 500
# Pages may share one deflated content stream: pypdf caps a stream at 75 MB, not the pages
# drawing it, and reads about 1 MB of text operators in 7-9 s. A 4 KB PDF of 10 pages
# sharing 1 MB took 70 s, 500 pages of 75 MB would take days. A policy's pages hold far
# less (tens of KB each, a 100-page PDF 1-2 MB): the pages' instructions are measured
# before any is read (decoding is quick: 10 ms a MB), then their reading is bounded in time.
MAX_CONTENT_BYTES = 4_000_000
MAX_SECONDS = 20.0
# pypdf decodes a font's ToUnicode map with "surrogatepass": a map to <D800> gives a lone
# surrogate, which no hash or database takes; it becomes U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")


class _TooSlow(Exception):
    pass


def pdf_text(body: bytes, seconds: float = MAX_SECONDS) -> str:
    """The text of every page, pages separated by a blank line; ExtractError past
    ``MAX_CONTENT_BYTES`` of drawing instructions or ``seconds`` of reading."""
    # Imported here: most policies are HTML, and importing pypdf costs every check 70 ms.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError("the PDF is encrypted: watch an HTML version of the document")
        pages = _pages(reader, time.monotonic() + seconds)
    except _TooSlow:
        raise ExtractError(f"the PDF takes over {seconds:g} s to read (its pages draw too "
                           "much): not read; a PDF bomb?") from None  # fmt: skip
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise ExtractError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    return _SURROGATE.sub("\ufffd", "\n\n".join(pages))


def _pages(reader: Any, deadline: float) -> list[str]:
    """Each page's text, within the size and time bounds (see ``MAX_CONTENT_BYTES``)."""

    def in_time(*_: object) -> None:  # called before each drawing instruction
        if time.monotonic() > deadline:
            raise _TooSlow

    pages = reader.pages[:MAX_PAGES]
    _measure(pages, len(reader.pages))
    return [page.extract_text(visitor_operand_before=in_time) or "" for page in pages]


def _measure(pages: Any, count: int) -> None:
    """ExtractError once the pages' decoded drawing instructions pass the bound (a
    stream shared by many pages counts for each: each is read)."""
    left = MAX_CONTENT_BYTES
    for number, page in enumerate(pages, 1):
        contents = page.get_contents()
        left -= len(contents.get_data()) if contents is not None else 0
        if left < 0:
            raise ExtractError(
                f"the PDF's pages hold over {MAX_CONTENT_BYTES // 1_000_000} MB of drawing "
                f"instructions (at page {number} of {count}): not read; a policy holds "
                "far less (a PDF bomb?)"
            )
