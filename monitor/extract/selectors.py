"""Checks a watchlist's CSS selectors before any page is fetched.

The watchlist stage may not import soupsieve (it lives in the extract stage), so the
command line passes :func:`selector_problem` to ``load_config``: a typo in `select:` or
`remove:` then names its entry at load time instead of failing every check later.
"""

from __future__ import annotations

import warnings

import soupsieve
from soupsieve import SelectorSyntaxError


def selector_problem(selector: str) -> str | None:
    """Why ``selector`` cannot be used to select elements, or None when it can."""
    try:
        with warnings.catch_warnings():
            # A deprecated form (":contains") would warn on every check; say so once now.
            warnings.simplefilter("error")
            soupsieve.compile(selector)
    except SelectorSyntaxError as exc:
        return str(exc).splitlines()[0]
    except NotImplementedError as exc:  # pseudo-elements such as ::before
        return str(exc).splitlines()[0] or "not supported"
    except (FutureWarning, DeprecationWarning, ValueError, TypeError) as exc:
        return str(exc).splitlines()[0] or type(exc).__name__
    return None
