"""The frame of the site's HTML pages (the index and each change's page)."""

from __future__ import annotations

from collections.abc import Sequence


def html_page(title: str, body: Sequence[str], head: Sequence[str] = ()) -> bytes:
    """A plain, accessible HTML5 page; ``title`` and every part are escaped already."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        *head,
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{title}</h1>",
        *body,
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part).encode("utf-8") + b"\n"
