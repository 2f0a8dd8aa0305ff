"""The pipeline's import direction and the one-module-per-library rule, checked with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "monitor"
STAGES = {"watchlist", "fetch", "store", "extract", "diff", "classify", "feed", "schedule", "lock",
          "suspect", "browser"}  # fmt: skip
# What each layer may import from the package.
ALLOWED = {
    "errors": set(),
    "models": {"errors"},
    **{stage: {"errors", "models"} for stage in STAGES},
    "pipeline": STAGES | {"errors", "models"},
    "publish": {"feed", "store", "errors", "models"},
    "views": {"store", "diff", "errors", "models"},
    "daemon": STAGES | {"pipeline", "publish", "views", "errors", "models"},
    "cli": STAGES | {"pipeline", "publish", "views", "daemon", "errors", "models"},
}
# Each third-party library lives in exactly one module.
LIBRARY_HOME = {
    "httpx": "fetch",
    "bs4": "extract",
    "diff_match_patch": "diff",
    "sqlite_utils": "store",
    "feedgen": "feed",
    "apscheduler": "schedule",
    "filelock": "lock",
    "click": "cli",
    "protego": "fetch",
    "playwright": "browser",
    "pypdf": "extract",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def module_name(path: Path) -> str:
    if path.parent.name in SUBPACKAGES:
        return path.parent.name  # a stage split into a package is still one layer
    helpers = ("extract_", "classify_", "fetch_", "feed_")
    return path.stem.split("_")[0] if path.stem.startswith(helpers) else path.stem


# Stages that are packages: every module inside counts as the stage itself.
SUBPACKAGES = {"classify"}
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")) + [
    p for name in sorted(SUBPACKAGES) for p in sorted((PACKAGE / name).glob("*.py"))
]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path: Path) -> None:
    name = module_name(path)
    assert name in ALLOWED, f"{path.name}: new module, add it to ALLOWED with its layer"
    ours = {m.split(".")[1] for m in imports_of(path) if m.startswith("monitor.")}
    ours = {module_name(Path(m + ".py")) for m in ours} - {name}
    assert ours <= ALLOWED[name], f"{path.name} imports {sorted(ours - ALLOWED[name])}"


@pytest.mark.parametrize("library,home", sorted(LIBRARY_HOME.items()))
def test_each_library_lives_in_one_module(library: str, home: str) -> None:
    users = {
        module_name(p)
        for p in PACKAGE.rglob("*.py")
        if any(m == library or m.startswith(library + ".") for m in imports_of(p))
    }
    assert users <= {home}, f"{library} imported outside monitor/{home}.py: {sorted(users)}"
