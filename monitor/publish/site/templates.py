"""The Jinja2 environment (the only module importing jinja2): templates shipped as package
data, autoescaping on for every template, undefined names an error.

Policy text is untrusted: templates receive plain strings and Jinja2 escapes them; no
caller passes pre-built HTML (there is no ``Markup`` outside this module).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from html import escape as html_escape
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.bccache import Bucket, BytecodeCache
from markupsafe import Markup, escape

from monitor.cachedir import cache_folder
from monitor.publish.stamp import read_marker

# Compiling the templates is most of a first check's publishing (0.05-0.1 s): their code
# is kept between processes, in a folder of ``$POLICY_MONITOR_CACHE`` (as the rule
# patterns are, monitor/classify/regex_cache.py) or ``~/.cache/policy-monitor``.
MAX_CACHE_FILE = 4_000_000
_OPTIONS = dict(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_KEY = f"{jinja2.__version__}|{sorted(_OPTIONS.items())}|escaped1|strict|autoescape"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor.publish.site", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        finalize=_escaped,
        bytecode_cache=_cache(),
        **_OPTIONS,  # type: ignore[arg-type]
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


def _cache() -> BytecodeCache | None:
    """The compiled templates' folder, when it is this user's alone (it holds code that
    is run: a folder others may write is not used); None: compile in every process."""
    try:
        folder = cache_folder("templates")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(folder)
    except (OSError, RuntimeError):  # RuntimeError: no home folder
        return None
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return _FolderCache(folder)


class _FolderCache(BytecodeCache):
    """Jinja's compiled code per template, keyed by the template and these settings (Jinja
    checks the source's checksum); a damaged, foreign or odd file is compiled again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return hashlib.sha256(f"{_KEY}|{name}|{filename}".encode()).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            data = read_marker(self.folder / f"{bucket.key}.jinja", MAX_CACHE_FILE)
            if data is not None:
                bucket.bytecode_from_string(data)
        except Exception:  # noqa: BLE001 - a memo: compile as usual
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Written to a temporary file and renamed: a reader never sees half a file."""
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(bucket.bytecode_to_string())
                os.replace(tmp, self.folder / f"{bucket.key}.jinja")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except (OSError, ValueError, TypeError):
            return


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


def _marked(parts: list[tuple[str, str]], left_out: str) -> str:
    """Escaped parts (``(kind, html)``) as HTML, without those of kind ``left_out``."""
    out: list[str] = []
    for kind, html in parts:
        if kind != left_out:
            tags = _TAGS.get(kind)
            out += (tags[0], html, tags[1]) if tags else (html,)
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
        if line.changed:  # each part escaped once for both sides
            parts = [(kind, html_escape(text)) for kind, text in line.parts]
            old, new = _marked(parts, "ins"), _marked(parts, "del")
        else:  # no insertion or deletion: both sides are the same
            old = new = _parts(line.parts)
        out.append(f'<div class="row{_classes(line)}" role="row"><div role="cell">{old}</div>'
                   f'<div role="cell">{new}</div></div>\n')  # fmt: skip
    return Markup("".join(out))
