"""Text of a PDF policy (the only module importing pypdf).

Some publishers post their terms as PDF only. The text comes out a line per PDF text
line; the usual normalisation then applies, so diffs compare words as for HTML.
"""

from __future__ import annotations

import io
import logging
import re

from monitor.errors import ExtractError

# pypdf warns on every slightly malformed PDF; those warnings are not the user's business.
logging.getLogger("pypdf").setLevel(logging.ERROR)
MAX_PAGES = 500
# pypdf decodes a font's ToUnicode map with "surrogatepass": a map to <D800> gives a lone
# surrogate, which no hash or database takes; it becomes U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")


def pdf_text(body: bytes) -> str:
    """The text of every page, pages separated by a blank line."""
    # Imported here: most policies are HTML, and importing pypdf costs every check 70 ms.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError("the PDF is encrypted: watch an HTML version of the document")
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise ExtractError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    return _SURROGATE.sub("\ufffd", "\n\n".join(pages))
