"""The third-party modules the monitor needs, checked before the command line loads them.

A `git pull` can bring a new dependency (ahocorasick-rs came that way) to a checkout whose
venv was made before it: without this check the first command run after the pull ended in
a traceback (ModuleNotFoundError) instead of saying what to install. Finding a module's
spec imports nothing (well under a millisecond each). Imports nothing of ours (a leaf).
"""

from __future__ import annotations

import importlib.util
import sys

# module -> the package that installs it, one per entry of pyproject's `dependencies`
# (tests/test_ops_operator.py checks both lists agree). The browser (playwright) is an
# optional extra: a page that needs it says so when it is checked.
REQUIRED = {
    "httpx": "httpx",
    "bs4": "beautifulsoup4",
    "lxml": "lxml",
    "cssselect": "cssselect",
    "diff_match_patch": "diff-match-patch",
    "apscheduler": "apscheduler",
    "sqlite_utils": "sqlite-utils",
    "zstandard": "zstandard",
    "feedgen": "feedgen",
    "click": "click",
    "yaml": "pyyaml",
    "filelock": "filelock",
    "protego": "protego",
    "pypdf": "pypdf",
    "markdown_it": "markdown-it-py",
    "jinja2": "jinja2",
    "ahocorasick_rs": "ahocorasick-rs",
}
EXIT_USAGE = 2  # monitor.cli.options.EXIT_USAGE: something an operator must fix first


def missing() -> list[str]:
    """The required modules this interpreter cannot find."""
    return [module for module in REQUIRED if importlib.util.find_spec(module) is None]


def install_advice(modules: list[str]) -> str:
    """One line: which modules (and packages) are missing, and what to run."""
    import shlex  # only on this path: start-up stays a few find_spec calls
    from pathlib import Path

    named = ", ".join(f"{m} (package {REQUIRED.get(m, m.split('.')[0])})" for m in modules)
    which = "module" if len(modules) == 1 else "modules"
    root = Path(__file__).resolve().parents[1]
    python = shlex.quote(sys.executable)
    if (root / "pyproject.toml").is_file():  # a checkout (an editable install)
        todo = (f"run `make install` in {shlex.quote(str(root))}, or "
                f"`{python} -m pip install -e {shlex.quote(str(root))}`")  # fmt: skip
    else:
        todo = f"run `{python} -m pip install --upgrade policy-monitor`"
    return (f"error: the Python {which} {named} is not installed for {sys.executable}, which "
            f"policy-monitor needs (a `git pull` may have added it): {todo}")  # fmt: skip


def require_installed() -> None:
    """Exits with one line (status 2) when a required module is missing."""
    absent = missing()
    if absent:
        sys.stderr.write(install_advice(absent) + "\n")
        sys.exit(EXIT_USAGE)
