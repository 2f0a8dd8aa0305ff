"""Where the tests find ../shared (the corpus and the evaluation), and a loud failure when
it is missing: a test that needs it never skips silently."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

F = TypeVar("F", bound=Callable[..., Any])

SHARED = Path(__file__).resolve().parents[2] / "shared"


def need(path: Path) -> Path:
    """``path`` (inside ../shared); raises, naming it, when it is not there."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: these tests read Open Terms Archive data from ../shared "
            "beside the checkout (see the README's Development section)"
        )
    return path


def requires(problem: str | None) -> Callable[[F], F]:
    """For tests that need a tool `make test` installs (Chromium, newsboat): run as they
    are when it is there, else fail saying what is missing (never a silent skip)."""

    def wrap(test: F) -> F:
        if problem is None:
            return test

        @functools.wraps(test)
        def missing(*args: Any, **kwargs: Any) -> None:
            pytest.fail(f"this test needs what is missing: {problem}")

        return cast(F, missing)

    return wrap
