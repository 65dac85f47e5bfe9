"""Engine speed-ups never change results: every built-in learner's curves and selections equal main's bytes.

`tests/fixtures/learners_identity/store` was written by main's code (commit 535bafb) before the hot-loop changes of
issue 19 ("the floor for every learner") from `tests/fixtures/learners_identity/grid.yaml`: every built-in learner on
the bench grid's settings and native strategies, plus the modAL and scikit-activeml adapters on three learners. A
fresh run must equal it in every column but the timings (algrid.store.deterministic_table).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli

from algrid.grid import load_grid
from algrid.learners import BUILTIN_LEARNERS
from algrid.store import deterministic_table

FIXTURE = Path(__file__).parent / "fixtures" / "learners_identity"


@pytest.fixture(scope="module")
def fresh_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("learners_identity") / "store"
    done = run_cli("run", FIXTURE / "grid.yaml", "--store", store, "--jobs", "2", timeout=900)
    assert done.returncode == 0, done.stderr
    return store


def test_fixture_covers_every_builtin_learner() -> None:
    grid = load_grid(FIXTURE / "grid.yaml")
    learners = {c["learner"] for c in grid.configs(range(grid.total))}
    assert learners == set(BUILTIN_LEARNERS)
    stored = set(deterministic_table(FIXTURE / "store", "runs").column("learner").to_pylist())
    assert stored == set(BUILTIN_LEARNERS)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["runs", "curves", "queries"])
def test_fresh_run_equals_mains_store(fresh_store: Path, kind: str) -> None:
    expected = deterministic_table(FIXTURE / "store", kind)
    got = deterministic_table(fresh_store, kind)
    assert expected.num_rows > 0
    assert got.column_names == expected.column_names
    assert got.equals(expected), f"{kind}: a built-in learner's stored bytes differ from main's"
