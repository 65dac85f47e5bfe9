"""Results never change silently: a store written before the package restructure (issue 13) must equal a fresh run.

`tests/fixtures/identity/store` was written by commit 82a2bd8 (before the layout change) from
`tests/fixtures/identity/grid.yaml`; every column but the timings must be byte-identical now. When a change must
alter results, the version that enters `exp_key` changes and this fixture is regenerated on purpose.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from algrid.store import deterministic_table

FIXTURE = Path(__file__).parent / "fixtures" / "identity"


@pytest.fixture(scope="module")
def fresh_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("identity") / "store"
    cmd = [
        sys.executable,
        "-m",
        "algrid",
        "run",
        str(FIXTURE / "grid.yaml"),
        "--store",
        str(store),
        "--jobs",
        "2",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return store


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["runs", "curves", "queries"])
def test_fresh_run_equals_the_pre_refactor_store(fresh_store: Path, kind: str) -> None:
    expected = deterministic_table(FIXTURE / "store", kind)
    got = deterministic_table(fresh_store, kind)
    assert expected.num_rows > 0
    assert got.column_names == expected.column_names
    assert got.equals(expected), f"{kind}: stored bytes differ from the pre-refactor fixture"
