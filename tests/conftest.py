"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.httpserver import LocalServer


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 with configurable routes (see tests/httpserver.py)."""
    with LocalServer() as server:
        yield server
