"""Watchlist CSS selectors (the one module using cssselect): checked before any page is
fetched, and matched on lxml's tree of a page.

The watchlist stage may not import cssselect (it lives in the extract stage), so the
command line passes :func:`selector_problem` to ``load_config``: a typo in `select:` or
`remove:` then names its entry at load time instead of failing every check later.
A selector is translated to XPath once per process and evaluated by libxml2.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from monitor.errors import ConfigError


def selector_problem(selector: str) -> str | None:
    """Why ``selector`` cannot be used to select elements, or None when it can."""
    try:
        _compiled(selector)
    except ConfigError as exc:
        return str(exc).split(": ", 1)[1]
    return None


def matches(root: Any, selector: str) -> list[Any]:
    """The elements under ``root`` (root included) that ``selector`` matches, in document
    order; ConfigError when it is not a selector."""
    found: list[Any] = _compiled(selector)(root)
    return found


@lru_cache(maxsize=256)
def _compiled(selector: str) -> Any:
    # Imported here: most watchlist entries have no selector, and it costs 15-30 ms (lxml:
    # a check that gets a 304 parses nothing).
    from cssselect import HTMLTranslator, SelectorError
    from lxml import etree

    try:
        return etree.XPath(HTMLTranslator().css_to_xpath(selector))
    except SelectorError as exc:  # syntax errors, pseudo-elements, unknown pseudo-classes
        reason = str(exc).splitlines()[0] or type(exc).__name__
    except etree.XPathSyntaxError as exc:
        reason = f"not supported ({exc})"
    raise ConfigError(f"invalid CSS selector {selector!r}: {reason}")
