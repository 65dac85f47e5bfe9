"""Shared fixtures for the test suite."""

from __future__ import annotations

import pytest

from algrid import config


@pytest.fixture(autouse=True)
def _fresh_config():
    """Tests may change ALGRID_* variables (monkeypatch): every test starts and ends with the environment's config."""
    config.reload()
    yield
    config.reload()
