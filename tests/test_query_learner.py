"""query_learner (Lu et al. 2023): the strategy scores the pool with another model than the one whose curve is
measured. Unset, keys and results are what they were before the dimension existed."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from algrid.engine.loop import run_experiment
from algrid.errors import GridError
from algrid.grid import grid_from_dict

DIMS = {
    "dataset": ["iris", "sonar"],
    "strategy": ["margin", "entropy"],
    "batch_size": [3],
    "learner": ["lr"],
}


def _grid(**extra):
    return grid_from_dict({"name": "q", "cycles": 3, "dimensions": {**DIMS, **extra}})


def test_keys_change_only_when_the_dimension_is_set():
    plain = _grid()
    both = _grid(query_learner=[None, "rf"])
    assert len(both) == 2 * len(plain)
    plain_keys = {c["exp_key"]: c for c in plain.configs(range(len(plain)))}
    unset = [c for c in both.configs(range(len(both))) if "query_learner" not in c]
    set_ = [c for c in both.configs(range(len(both))) if c.get("query_learner") == "rf"]
    assert len(unset) == len(set_) == len(plain)
    assert {c["exp_key"] for c in unset} == set(plain_keys)  # unset: the keys of a grid without it
    assert not {c["exp_key"] for c in set_} & set(plain_keys)
    assert plain.fingerprint == grid_from_dict({"name": "q", "cycles": 3, "dimensions": DIMS}).fingerprint
    assert "query_learner" not in plain.decode(range(len(plain))).column_names
    assert "query_learner" not in plain.info()["dimensions"]
    assert both.info()["dimensions"]["query_learner"] == 2
    # the scalar key of a config (API, store) matches the grid's vectorised one
    for c in both.configs(range(len(both))):
        cfg = {k: v for k, v in c.items() if k not in ("exp_index", "exp_key")}
        assert both.exp_key(cfg) == c["exp_key"]
        assert both.index_of(cfg) == c["exp_index"]


def test_unknown_query_learner_is_a_one_line_grid_error():
    with pytest.raises(GridError, match=r"dimensions.query_learner\[0\]: unknown learner 'rff'"):
        _grid(query_learner=["rff"])


def _config(learner: str, **over) -> dict:
    config = dict(
        dataset="iris",
        strategy="margin",
        implementation="native",
        batch_size=3,
        initial_pool="per_class:1",
        learner=learner,
        split=0,
        start=0,
        seed=0,
    )
    config.update(over)
    return config


def test_the_strategy_scores_with_the_query_model_and_the_curve_is_the_learners():
    settings = {"name": "q", "cycles": 3, "test_size": 0.4}
    mixed = run_experiment(_config("lr", query_learner="rf"), settings, cache=False)
    task = run_experiment(_config("lr"), settings, cache=False)
    query = run_experiment(_config("rf"), settings, cache=False)
    assert mixed.status == task.status == query.status == "ok"
    # cycle 0 is the shared start set, evaluated with the task learner (lr)
    assert mixed.curve[0]["accuracy"] == task.curve[0]["accuracy"]
    assert mixed.curve[0]["accuracy"] != query.curve[0]["accuracy"]
    # the first query ranks the pool with rf's probabilities (margin takes no random draw), not lr's
    assert mixed.selected[1] == query.selected[1]
    assert mixed.selected[1] != task.selected[1]
    assert mixed.config["query_learner"] == "rf" and "query_learner" not in task.config
    again = run_experiment(_config("lr", query_learner="rf"), settings, cache=True)
    assert again.selected == mixed.selected


def test_a_grid_with_query_learner_runs_and_stores_the_column(tmp_path):
    grid = tmp_path / "q.yaml"
    grid.write_text(
        "name: q\ncycles: 2\ndimensions:\n  dataset: [iris]\n  strategy: [margin]\n  batch_size: [4]\n"
        "  learner: [lr]\n  query_learner: [null, rf]\n"
    )
    store = tmp_path / "store"
    cmd = [sys.executable, "-m", "algrid", "run", str(grid), "--store", str(store), "--jobs", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    runs = pq.ParquetDataset(sorted((store / "runs").glob("part-*.parquet"))).read().to_pylist()
    assert sorted(str(r["query_learner"]) for r in runs) == ["None", "rf"]
    assert all(r["status"] == "ok" for r in runs)
    g = grid_from_dict(
        {
            "name": "q",
            "cycles": 2,
            "dimensions": {"dataset": ["iris"], "strategy": ["margin"], "batch_size": [4], "learner": ["lr"]},
        }
    )
    plain_key = g.configs([0])[0]["exp_key"]
    assert plain_key in {r["exp_key"] for r in runs if r["query_learner"] is None}
