"""Soft failures: a 200 response that is not the policy.

Login walls, bot challenges, consent interstitials and error pages come back as "200 OK"
with a few words: such a page is a *wall*, a failed check that never becomes a version
(not even the first one). A real page that lost most of its text is *suspect*: held until
a later check sees it again, then recorded. Pure functions over extracted texts.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Real rewrites (an EU page swapped for the global one) can halve a policy;
# losing four fifths of the words in one step is what broken pages look like.
MIN_KEPT_SHARE = 0.2
SHORT_PAGE_WORDS = 300
WORD = re.compile(r"\w+")
WALL_PHRASES = re.compile(
    r"\b(?:log ?in|sign ?in|sign up)\b.{0,40}\b(?:to continue|to see|to view|required)\b"
    r"|verify (?:that )?you are (?:a )?human|are you a robot|captcha|unusual traffic"
    r"|enable javascript|javascript is (?:disabled|required)|checking your browser"
    r"|access denied|request blocked|too many requests|temporarily unavailable"
    r"|page (?:not found|isn.t available)|something went wrong|error \d{3}\b"
    r"|before you continue|accept (?:all )?cookies to continue",
    re.IGNORECASE,
)


@lru_cache(maxsize=8)  # counted before a check's transaction, asked again inside it
def words(text: str) -> int:
    return len(WORD.findall(text))


def wall_reason(new_text: str, old_text: str | None) -> str | None:
    """Why ``new_text`` is a login wall, bot or error page rather than a policy, or None.

    Only a short page can be one, and never one longer than the text it replaces: a
    policy that mentions "sign in to see your settings" is still the policy.
    """
    new_words = words(new_text)
    if new_words >= SHORT_PAGE_WORDS or (old_text is not None and new_words >= words(old_text)):
        return None
    wall = WALL_PHRASES.search(new_text)
    if wall is None:
        return None
    return f"looks like a login wall or error page ({wall.group(0)!r}, {new_words} words)"


def suspect_reason(old_text: str, new_text: str) -> str | None:
    """Why ``new_text`` looks like a broken page rather than a new policy, or None."""
    old_words, new_words = words(old_text), words(new_text)
    if new_words < SHORT_PAGE_WORDS:
        wall = WALL_PHRASES.search(new_text)
        if wall and new_words < old_words:  # a short page saying so, replacing a longer text
            return f"looks like a login wall or error page ({wall.group(0)!r}, {new_words} words)"
    if old_words >= 100 and new_words < MIN_KEPT_SHARE * old_words:
        return f"text shrank from {old_words} to {new_words} words"
    return None
