"""Results never change silently: a store written before the package restructure (issue 13) must equal a fresh run.

`tests/fixtures/identity/store` was written by commit 82a2bd8 (before the layout change) from
`tests/fixtures/identity/grid.yaml`; every column but the timings must be byte-identical now. When a change must
alter results, the version that enters `exp_key` changes: those experiments must then have new keys (a store never
mixes the two), and only the experiments whose version did not change are compared byte for byte. Fair randomness
(issue 15) changed the pairs that read the strategy's random stream (algrid.strategies.seeding).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from helpers import run_cli

from algrid.grid import load_grid
from algrid.identity import exp_key
from algrid.results import DIMENSIONS
from algrid.store import deterministic_table
from algrid.strategies.seeding import implementation_version

FIXTURE = Path(__file__).parent / "fixtures" / "identity"


@pytest.fixture(scope="module")
def fresh_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("identity") / "store"
    done = run_cli("run", FIXTURE / "grid.yaml", "--store", store, "--jobs", "2", timeout=600)
    assert done.returncode == 0, done.stderr
    return store


def _fixture_configs() -> tuple[list[dict], list[dict]]:
    """The fixture grid's configurations: (key version unchanged, key version changed since the fixture)."""
    grid = load_grid(FIXTURE / "grid.yaml")
    configs = grid.configs(range(grid.total))
    same = [c for c in configs if implementation_version(c["implementation"], c["strategy"]) is None]
    changed = [c for c in configs if implementation_version(c["implementation"], c["strategy"]) is not None]
    return same, changed


def _only(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.filter(pc.is_in(table.column("exp_key"), value_set=pa.array(keys, pa.string())))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["runs", "curves", "queries"])
def test_fresh_run_equals_the_pre_refactor_store(fresh_store: Path, kind: str) -> None:
    same, _ = _fixture_configs()
    keys = [c["exp_key"] for c in same]
    assert len(keys) >= 40  # native/modal/smalltext uncertainty scorers and native coreset keep their keys
    expected = _only(deterministic_table(FIXTURE / "store", kind), keys)
    got = _only(deterministic_table(fresh_store, kind), keys)
    assert expected.num_rows > 0
    assert got.column_names == expected.column_names
    assert got.equals(expected), f"{kind}: stored bytes differ from the pre-refactor fixture"


def test_results_changed_by_fair_seeding_have_new_keys(fresh_store: Path) -> None:
    """Pairs that read the strategy's random stream changed results with the fair-seeding rule: their keys
    differ from the fixture's (old rule) keys, so the old and the new results never share a key."""
    _, changed = _fixture_configs()
    assert {(c["strategy"], c["implementation"]) for c in changed} >= {
        ("random", "native"),
        ("least_confidence", "skactiveml"),
        ("oracle_greedy_k", "native"),
    }
    old_keys = set(deterministic_table(FIXTURE / "store", "runs").column("exp_key").to_pylist())
    fresh_keys = set(deterministic_table(fresh_store, "runs").column("exp_key").to_pylist())
    key_settings = load_grid(FIXTURE / "grid.yaml").key_settings
    for c in changed:
        before = exp_key({d: c[d] for d in DIMENSIONS}, key_settings, DIMENSIONS)  # the key without versions
        assert before in old_keys and before not in fresh_keys
        assert c["exp_key"] != before and c["exp_key"] in fresh_keys
