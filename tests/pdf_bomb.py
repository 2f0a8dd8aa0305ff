"""A small PDF whose pages share one content stream that inflates to many megabytes of
text operators (tests/test_attacks_ninth.py)."""

from __future__ import annotations

import zlib


def make_pdf(content_bytes: bytes, pages: int) -> bytes:
    """A PDF of ``pages`` pages, each drawing ``content_bytes`` (stored deflated once)."""
    stream = zlib.compress(content_bytes, 9)
    objs = []
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objs.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages)
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    head = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
    objs.append(head + stream + b"\nendstream")
    font = b"/Resources << /Font << /F1 3 0 R >> >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] " + font + b" /Contents 4 0 R >>"
    objs += [page] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def text_bomb(megabytes: float, pages: int) -> bytes:
    """Pages of ``megabytes`` of "show this text, next line" operators each."""
    op = b"(We keep data.) Tj T* "
    content = b"BT /F1 12 Tf 14 TL " + op * int(megabytes * 1e6 / len(op)) + b"ET"
    return make_pdf(content, pages)
