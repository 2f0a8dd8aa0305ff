"""The Jinja2 environment (the only module importing jinja2): templates shipped as package
data, autoescaping on for every template, undefined names an error.

Policy text is untrusted: templates receive plain strings and Jinja2 escapes them; no
caller passes pre-built HTML (there is no ``Markup`` outside this module).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor.publish.site", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_escaped,
    )
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    return env


def render(name: str, **context: Any) -> str:
    """The template ``name`` rendered with ``context`` (every value escaped)."""
    return environment().get_template(name).render(**context)


def _escaped(value: Any) -> Any:
    """Escapes as html.escape does (``&quot;``, ``&#x27;``), so pages and feed bodies keep
    the bytes they had before templates; what a macro built is escaped already."""
    if isinstance(value, Markup):
        return value
    text = str(escape(value))  # markupsafe's, in C
    if "&#" in text:
        text = text.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
    return Markup(text)
