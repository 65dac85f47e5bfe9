"""Label budget (issue 15): `budget:` runs every batch size to the same number of labels, and answers that compare
batch sizes say whether they compare at equal cycles or at equal labels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from algrid.engine.loop import run_experiment
from algrid.grid import grid_from_dict
from algrid.identity import KEY_SETTINGS, exp_key
from algrid.results import DIMENSIONS
from algrid.strategies.seeding import key_versions

BASE = {"dataset": "iris", "strategy": "random", "implementation": "native", "initial_pool": "per_class:1",
        "learner": "lr", "split": 0, "start": 0, "seed": 0}  # fmt: skip


def _algrid(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "algrid", *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("strategy", ["random", "margin"])
def test_equal_budget_runs_reach_the_same_number_of_labels(strategy: str) -> None:
    ends = {}
    for batch in (1, 5, 10):
        result = run_experiment(
            {**BASE, "strategy": strategy, "batch_size": batch}, {"budget": 20, "test_size": 0.4}
        )
        assert result.status == "ok", result.error
        labels = [row["n_labeled"] for row in result.curve]
        ends[batch] = labels[-1]
        steps = [b - a for a, b in zip(labels, labels[1:], strict=False)]
        assert (
            steps[:-1] == [batch] * (len(steps) - 1) and 1 <= steps[-1] <= batch
        )  # only the last batch is cut
    assert ends == {1: 20, 5: 20, 10: 20}


def _grid(**length: int) -> dict:
    return {"name": "b", "test_size": 0.4, **length,
            "dimensions": {"dataset": ["iris"], "strategy": ["random", "margin"], "batch_size": [1, 5, 10],
                           "learner": ["lr"]}}  # fmt: skip


def test_budget_enters_the_key_only_when_set() -> None:
    cycles_grid, budget_grid = grid_from_dict(_grid(cycles=5)), grid_from_dict(_grid(budget=20))
    for config in cycles_grid.configs(range(cycles_grid.total)):  # a cycles grid keeps the keys it always had
        plain = {d: config[d] for d in DIMENSIONS}
        settings = {k: cycles_grid.settings[k] for k in KEY_SETTINGS}
        assert config["exp_key"] == exp_key(plain, settings, DIMENSIONS, versions=key_versions(plain))
    keys_c = {c["exp_key"] for c in cycles_grid.configs(range(cycles_grid.total))}
    keys_b = {c["exp_key"] for c in budget_grid.configs(range(budget_grid.total))}
    keys_b2 = {c["exp_key"] for c in grid_from_dict(_grid(budget=30)).configs(range(6))}
    assert len(keys_b) == 6 and not keys_b & keys_c and not keys_b & keys_b2
    plain = {d: budget_grid[0][d] for d in DIMENSIONS}
    assert (
        run_experiment(plain, budget_grid.settings, cache=False).exp_key
        == budget_grid.configs([0])[0]["exp_key"]
    )


@pytest.mark.parametrize(
    ("length", "needle"),
    [({"cycles": 5, "budget": 20}, "budget: give either cycles or budget"), ({}, "cycles: missing"),
     ({"budget": 0}, "budget: must be an integer >= 1"), ({"budget": "lots"}, "budget: must be an integer")],
)  # fmt: skip
def test_bad_length_settings_exit_2(tmp_path: Path, length: dict, needle: str) -> None:
    grid = tmp_path / "g.yaml"
    grid.write_text(json.dumps(_grid(**length)))
    done = _algrid("grid", "info", grid)
    assert done.returncode == 2 and needle in done.stderr and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, length in (("cycles", {"cycles": 4}), ("budget", {"budget": 13})):
        root = tmp_path_factory.mktemp(name)
        grid = root / "g.yaml"
        grid.write_text(json.dumps(_grid(**length)))
        done = _algrid("run", grid, "--store", root / "store", "--jobs", "1")
        assert done.returncode == 0, done.stderr
        out[name] = root / "store"
        out[name + "_grid"] = grid
    return out


def test_budget_store_ends_every_batch_size_at_the_budget(stores: dict[str, Path]) -> None:
    import duckdb

    ends = duckdb.sql(
        f"SELECT r.batch_size, max(c.n_labeled) FROM '{stores['budget']}/curves/*.parquet' c "
        f"JOIN '{stores['budget']}/runs/*.parquet' r USING (exp_key) GROUP BY c.exp_key, r.batch_size"
    ).fetchall()
    assert sorted(ends) == [(1, 13), (1, 13), (5, 13), (5, 13), (10, 13), (10, 13)]


def test_grid_estimate_copes_with_a_budget(stores: dict[str, Path]) -> None:
    done = _algrid("grid", "estimate", stores["budget_grid"], "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["budget"] == 13 and data["cycles"] is None and data["cpu_hours"] > 0


def test_impact_and_compare_say_on_which_axis_batch_sizes_are_compared(stores: dict[str, Path]) -> None:
    for kind, axis in (("cycles", "cycles"), ("budget", "labels")):
        done = _algrid("query", "impact", stores[kind], "--param", "batch_size", "--json")
        assert done.returncode == 0, done.stderr
        res = json.loads(done.stdout)
        assert res["axis"] == axis
        text = _algrid("query", "impact", stores[kind], "--param", "batch_size").stdout
        cmp = json.loads(
            _algrid("query", "compare", stores[kind], "--a", "random", "--b", "margin", "--json").stdout
        )
        assert cmp["axis"] == axis
        if axis == "cycles":
            assert (
                "larger batches saw more labels" in res["note"] and "larger batches saw more labels" in text
            )
            assert "batch 10: 43" in res["note"]  # 3 start rows + 4 cycles x 10
            assert "larger batches saw more labels" in cmp["note"]
        else:
            assert "equal labels" in res["note"] and "equal labels" in text and "equal labels" in cmp["note"]


def test_aulc_over_the_label_axis(stores: dict[str, Path]) -> None:
    done = _algrid("query", "leaderboard", stores["budget"], "--summary", "aulc_labels", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert len(rows) == 2 and all(0 < r["mean_value"] <= 1 for r in rows)
