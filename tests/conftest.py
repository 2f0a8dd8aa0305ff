"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from monitor.fetch.browser import BrowserSettings, browser_available
from tests.httpserver import LocalServer


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 with configurable routes (see tests/httpserver.py)."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright, one per test module (the site's pages
    opened as a reader opens them); a module may define its own ``browser`` instead."""
    missing = browser_available(BrowserSettings())
    if missing:  # fails saying what is missing, never a silent skip
        pytest.fail(f"this test needs what is missing: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=BrowserSettings().executable, args=["--no-sandbox"]
        )
        yield launched
        launched.close()
