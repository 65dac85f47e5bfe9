"""Fixtures shared by several test modules (plain helper functions live in tests/helpers/).

Why session scope for the synthetic stores: they are read-only inputs for the analysis and report tests, and
writing each once per session instead of once per module saves their set-up time; a test that modifies a store
builds its own from helpers.analysis_stores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.analysis_stores import missing_store, simple_store, structured_store

from algrid import config


@pytest.fixture(autouse=True)
def _fresh_config():
    """Tests may change ALGRID_* variables (monkeypatch): every test starts and ends with the environment's config."""
    config.reload()
    yield
    config.reload()


@pytest.fixture(scope="session")
def simple_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No interactions: 'best' is best everywhere, seed has no effect, learner a strong one (read-only)."""
    path = tmp_path_factory.mktemp("simple") / "store"
    simple_store(path)
    return path


@pytest.fixture(scope="session")
def structured_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """learner has a strong effect, seed none, batch_size flips the ranking (read-only)."""
    path = tmp_path_factory.mktemp("structured") / "store"
    structured_store(path)
    return path


@pytest.fixture(scope="session")
def missing_store_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(store, what was written): 'slow' times out in about half its experiments, 'mid' fails in some."""
    path = tmp_path_factory.mktemp("missing") / "store"
    return path, missing_store(path)
