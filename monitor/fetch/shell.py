"""Whether a page fetched over plain HTTP is a script shell worth rendering in a browser."""

from __future__ import annotations

import re

# A real policy has thousands of words; a shell has a menu, a cookie notice and scripts.
SHELL_WORDS = 150
THIN_WORDS = 600
SNIFF_BYTES = 2_000_000
MOUNT_IDS = "root|app|__next|__nuxt|react-root|app-root|mount|application|main-app|content"
EMPTY_MOUNT = re.compile(
    rf"<(div|main|section)\b[^>]*\bid\s*=\s*[\"']?(?:{MOUNT_IDS})[\"']?[^>]*>\s*</\1\s*>"
    r"|<app-root\b[^>]*>\s*</app-root\s*>"
)
NOSCRIPT = re.compile(r"<noscript\b[^>]*>(.{0,600}?)</noscript", re.DOTALL)
NEEDS_JS = re.compile(r"(enable|turn on|activate|requires?|needs?|allow)\b.{0,40}javascript")
SCRIPT = re.compile(r"<script\b")


def needs_browser(html: bytes, extracted_words: int) -> bool:
    """Whether a page fetched over HTTP looks like a script shell that a browser would fill.

    A short text with scripts, or a slightly longer one (a menu, a footer) beside an empty
    app mount point or a "please enable JavaScript" notice. Without any script a browser
    could not add text, and a long text is the policy itself.
    """
    if extracted_words >= THIN_WORDS:
        return False
    page = html[:SNIFF_BYTES].decode("utf-8", "replace").lower()
    scripts = len(SCRIPT.findall(page))
    if scripts == 0:
        return False
    if extracted_words < SHELL_WORDS:
        return True
    asks_for_js = any(NEEDS_JS.search(m) for m in NOSCRIPT.findall(page))
    return asks_for_js or EMPTY_MOUNT.search(page) is not None
