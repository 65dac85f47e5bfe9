"""The performance baseline (benchmarks/baseline.py) must run the same experiments as algrid: same key, same curve.

``benchmarks/run.py`` compares the baseline's curves with algrid's store by ``exp_key`` and reports "baseline curves
identical to algrid's"; if the baseline derived a strategy's random streams differently (e.g. from the strategy
name, as before the fair-randomness rule), random and tie-breaking strategies would silently stop matching.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from algrid.engine.loop import run_experiment

SETTINGS = {"cycles": 4, "test_size": 0.4}


@pytest.fixture(scope="module")
def baseline():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "baseline.py"
    spec = importlib.util.spec_from_file_location("algrid_bench_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("strategy", "implementation"),
    [("random", "native"), ("random", "skactiveml"), ("margin", "skactiveml"), ("margin", "native")],
)
def test_baseline_reproduces_algrid_curve_and_key(baseline, tmp_path, strategy, implementation):
    config = {
        "dataset": "breast_cancer",
        "strategy": strategy,
        "implementation": implementation,
        "batch_size": 1,
        "initial_pool": "per_class:1",
        "learner": "rf",  # ties: scikit-activeml's tie-breaking reads the strategy's stream
        "split": 0,
        "start": 0,
        "seed": 0,
    }
    ours = run_experiment(config, SETTINGS)
    rows = tmp_path / "rows.csv"
    theirs = baseline.run(config, SETTINGS, str(rows))
    assert ours.status == theirs["status"] == "ok"
    np.testing.assert_allclose(
        np.float32([r["accuracy"] for r in ours.curve]), np.float32(theirs["accuracies"]), atol=1e-6
    )
    with rows.open() as fh:
        assert {ours.exp_key} == {row[-1] for row in csv.reader(fh)}


def test_peer_export_gives_random_the_draws_of_algrids_loop(tmp_path):
    """The peer baselines rebuild random's generator from benchmarks/peers/export.py; it must be the loop's."""
    import json

    root = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"
    spec = importlib.util.spec_from_file_location("algrid_peer_export", root / "export.py")
    export = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export)
    grid = tmp_path / "g.yaml"
    grid.write_text(
        "name: g\ncycles: 3\ntest_size: 0.4\ndimensions:\n  dataset: [iris, wine]\n  strategy: [random]\n"
        "  implementation: [native]\n  batch_size: [4]\n  initial_pool: ['per_class:1']\n  learner: [lr]\n"
        "  split: [0]\n  start: [0, 1]\n  seed: [0]\n"
    )
    doc = export.export(grid, tmp_path / "out")
    spec = importlib.util.spec_from_file_location("algrid_peer_common", root / "common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    random_generator = common.random_generator
    from algrid.grid import load_grid

    configs = {c.pop("exp_key"): c for c in load_grid(grid).configs(range(4))}
    assert {exp["exp_key"] for exp in doc["experiments"]} == set(configs)
    for exp in doc["experiments"]:
        config = {k: v for k, v in configs[exp["exp_key"]].items() if k != "exp_index"}
        ours = run_experiment(config, {"cycles": 3, "test_size": 0.4})
        assert ours.exp_key == exp["exp_key"]
        order = np.asarray(doc["datasets"][exp["data"]]["pool_order"])
        labelled = set(exp["start"])
        for cycle in (1, 2, 3):
            pool = np.array([i for i in order if i not in labelled])
            picked = pool[random_generator(exp, cycle).choice(len(pool), size=4, replace=False)]
            assert sorted(picked.tolist()) == sorted(ours.selected[cycle]), (exp["exp_key"], cycle)
            labelled |= set(picked.tolist())
    assert json.loads((tmp_path / "out" / "experiments.json").read_text())["experiments"]
