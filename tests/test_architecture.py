"""The pipeline's import direction and the one-home-per-library rule, checked with ast.

A module's layer is its first name under ``monitor`` (``monitor/fetch/http.py`` is in
``fetch``); ``from monitor import views`` counts as an import of ``views``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "monitor"
# Stages import nothing of ours but errors and models (and their own folder).
STAGES = {"watchlist", "fetch", "store", "extract", "diff", "classify", "schedule", "lock",
          "claims"}  # fmt: skip
ALLOWED = {
    "errors": set(),
    "models": {"errors"},
    **{stage: {"errors", "models"} for stage in STAGES},
    # where the caches between processes live ($POLICY_MONITOR_CACHE, XDG): a leaf
    "cachedir": set(),
    "classify": {"cachedir", "errors", "models"},  # compiled rule patterns
    "check": STAGES | {"errors", "models"},
    # the AI-training board: read from a version's text with classify's rule packs
    "board": {"classify", "errors", "models"},
    "publish": {"store", "diff", "board", "cachedir", "citation", "errors", "models"},  # templates
    # Pure renderings and queries over versions: a phrase's history, a diff's lines.
    "phrase": {"errors", "models"},
    "linediff": {"errors", "models"},
    "export": {"views", "errors", "models"},
    "views": {"store", "diff", "linediff", "citation", "errors", "models"},
    # How to cite an imported version (repository, file, permalinks, OTA's licence): pure.
    "citation": {"errors", "models"},
    "daemon": STAGES | {"check", "publish", "views", "errors", "models"},
    "daemonlog": set(),  # the daemon's log queue and start-up stop: a leaf
    "signals": set(),  # signals raising an exception for a block: a leaf
    "dependencies": set(),  # the third-party modules checked at start-up: a leaf
    # Imported history: archives read into steps, each recorded through the check's path.
    "importer": STAGES | {"check", "citation", "errors", "models"},
    "cli": STAGES
    | {
        "check",
        "publish",
        "views",
        "daemon",
        "daemonlog",
        "signals",
        "dependencies",
        "importer",
        "board",
        "phrase",
        "linediff",
        "export",
        "errors",
        "models",
    },
    "demo": {"cli"},
}
# Each third-party library lives in exactly one module.
LIBRARY_HOME = {
    "httpx": "fetch/http.py",
    "httpcore": "fetch/netguard.py",  # the network layer under httpx that checks addresses
    "protego": "fetch/robots.py",
    "playwright": "fetch/browser.py",
    # the HTML reader, its chrome rules and its limits share lxml's parse tree
    "lxml": "extract/",
    "cssselect": "extract/selectors.py",  # watchlist selectors, translated to XPath
    "bs4": "extract/charset.py",  # only charset detection, for pages that declare none
    "pypdf": "extract/pdf.py",
    "markdown_it": "extract/markdown.py",
    "diff_match_patch": "diff.py",
    "sqlite_utils": "store",
    "zstandard": "store/compress.py",  # raw snapshots, whole or a delta on an earlier one
    "feedgen": "publish/",
    "jinja2": "publish/site/templates.py",
    "markupsafe": "publish/site/templates.py",
    "apscheduler": "schedule.py",
    "filelock": "lock.py",
    "click": "cli/",
    # classify: a pack's needed strings and the trigger words found in one pass
    "ahocorasick_rs": "classify/vocab.py",
}


def monitor_imports(path: Path) -> set[str]:
    """The monitor modules a file imports, as dotted names (``monitor.fetch.http``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("monitor"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "monitor":
                found.update(f"monitor.{a.name}" for a in node.names)
            elif node.module.startswith("monitor."):
                found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; write monitor.... in full")
    return found


def third_party_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif _is_dynamic_import(node):
            found.add(node.args[0].value.split(".")[0])  # type: ignore[attr-defined]
    return found


def _is_dynamic_import(node: ast.AST) -> bool:
    # importlib.import_module("playwright.sync_api"): a lazy import is still an import.
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("import_module", "find_spec")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


MODULES = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if p.name not in ("__main__.py",) and p != PACKAGE / "__init__.py"
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path: Path) -> None:
    name = layer(path)
    assert name in ALLOWED, f"{path.name}: new layer, add it to ALLOWED"
    ours = {m.split(".")[1] for m in monitor_imports(path) if "." in m} - {name, "__version__"}
    assert ours <= ALLOWED[name], f"{path} imports {sorted(ours - ALLOWED[name])}"


def test_from_monitor_import_is_seen(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from monitor import views\nimport monitor.store\n")
    assert monitor_imports(sample) == {"monitor.views", "monitor.store"}


@pytest.mark.parametrize("library,home", sorted(LIBRARY_HOME.items()))
def test_each_library_lives_in_one_home(library: str, home: str) -> None:
    users = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if library in third_party_imports(p)
    }
    assert users, f"{library} is imported nowhere: drop it from LIBRARY_HOME"
    assert all(u.startswith(home) for u in users), f"{library} imported outside {home}: {users}"
