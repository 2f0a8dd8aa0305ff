"""The Jinja2 environment (the only module importing jinja2): templates shipped as package
data, autoescaping on for every template, undefined names an error.

Policy text is untrusted: templates receive plain strings and Jinja2 escapes them; no
caller passes pre-built HTML (there is no ``Markup`` outside this module).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from html import escape as html_escape
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
    env.filters["inline_lines"] = inline_lines
    env.filters["side_lines"] = side_lines
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


# A change page's diff is most of the site's rendering (a line is a few parts, a page up to
# 2 MB of them): its lines are built here, in Python, rather than by template loops (a
# generator step and an escape call per part), with the same bytes as those loops gave.
_TAGS = {"del": ("<del>", "</del>"), "ins": ("<ins>", "</ins>")}


def _parts(parts: Iterable[tuple[str, str]]) -> str:
    out: list[str] = []
    for kind, text in parts:
        tags = _TAGS.get(kind)
        out += (tags[0], html_escape(text), tags[1]) if tags else (html_escape(text),)
    return "".join(out)


def _classes(line: Any) -> str:
    return (" changed" if line.changed else "") + (" flagged" if line.flag else "")


def inline_lines(lines: Iterable[Any]) -> Markup:
    """Each diff line (monitor/publish/site/diffview.py ``Line``) as the inline view's
    ``<div>``, its flag labelled, one per line: html.escape's escaping, as ``_escaped``."""
    out: list[str] = []
    for line in lines:
        label = f'<span class="flag-label">{html_escape(line.flag)}</span> ' if line.flag else ""
        out.append(f'<div class="line{_classes(line)}">{label}{_parts(line.parts)}</div>\n')
    return Markup("".join(out))


def side_lines(lines: Iterable[Any]) -> Markup:
    """Each diff line as the side-by-side view's row: before (no insertions), after (no
    deletions)."""
    out: list[str] = []
    for line in lines:
        old = _parts(p for p in line.parts if p[0] != "ins")
        new = _parts(p for p in line.parts if p[0] != "del")
        out.append(f'<div class="row{_classes(line)}" role="row"><div role="cell">{old}</div>'
                   f'<div role="cell">{new}</div></div>\n')  # fmt: skip
    return Markup("".join(out))
