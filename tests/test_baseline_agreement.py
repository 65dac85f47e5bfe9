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
