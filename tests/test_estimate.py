"""`algrid grid estimate`: keys, totals = sum of parts, exact scaling with starts, affine in cycles, store calibration."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from algrid.api import load_calibration
from algrid.cli import main
from algrid.cost.estimate import estimate_grid
from algrid.grid.lazy import grid_from_dict, load_grid

BREAKDOWNS = (
    "per_dataset",
    "per_learner",
    "per_strategy",
    "per_implementation",
    "per_pair",
    "per_batch_size",
)


def _doc(**over):
    doc = {
        "name": "est",
        "cycles": 20,
        "test_size": 0.4,
        "dimensions": {
            "dataset": ["iris", "wine", "breast_cancer"],
            "strategy": ["random", "margin", "entropy"],
            "implementation": ["native", "modal"],
            "batch_size": [1, 5],
            "learner": ["rf", "svm_rbf"],
            "start": {"range": [0, 2]},
        },
    }
    dims = over.pop("dimensions", {})
    doc.update(over)
    doc["dimensions"] = {**doc["dimensions"], **dims}
    return doc


def _write(tmp_path, doc, name="g.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def test_json_keys_and_totals_equal_sum_of_parts(tmp_path):
    path = _write(tmp_path, _doc())
    res = CliRunner().invoke(main, ["grid", "estimate", str(path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    grid = load_grid(path)
    assert data["experiments"] == len(grid)
    assert data["cpu_hours"] > 0
    assert data["cpu_minutes_per_experiment"] == pytest.approx(data["cpu_hours"] * 60 / len(grid))
    for key in BREAKDOWNS:
        parts = data[key]
        assert sum(p["experiments"] for p in parts.values()) == len(grid), key
        assert sum(p["cpu_hours"] for p in parts.values()) == pytest.approx(data["cpu_hours"], rel=1e-9), key
    assert set(data["per_dataset"]) == {"iris", "wine", "breast_cancer"}
    assert set(data["per_learner"]) == {"rf", "svm_rbf"}
    assert set(data["per_strategy"]) == {"random", "margin", "entropy"}
    assert set(data["per_batch_size"]) == {"1", "5"}
    # modAL has no random sampler: the grid excludes that pair, and so does the estimate
    assert (
        "random@modal" not in data["per_pair"]
        and data["per_pair"]["margin@modal"]["experiments"] == 3 * 2 * 2 * 2
    )
    # rf (100 trees) costs more than an RBF SVM on these small sets in every calibration we measured
    assert data["per_learner"]["rf"]["cpu_hours"] > data["per_learner"]["svm_rbf"]["cpu_hours"]


def test_scales_exactly_with_starts_and_splits():
    base = estimate_grid(grid_from_dict(_doc()))
    starts = estimate_grid(grid_from_dict(_doc(dimensions={"start": {"range": [0, 6]}})))
    splits = estimate_grid(grid_from_dict(_doc(dimensions={"split": [0, 1, 2]})))
    assert starts["experiments"] == 3 * base["experiments"]
    assert starts["cpu_hours"] == pytest.approx(3 * base["cpu_hours"], rel=1e-12)
    assert splits["cpu_hours"] == pytest.approx(3 * base["cpu_hours"], rel=1e-12)


def test_constant_costs_make_the_estimate_affine_in_cycles(tmp_path):
    """With size-independent costs, each extra cycle adds the same amount (as long as the pool lasts)."""
    flat = {"a": 0.01, "b": 0.0, "n": 0.0, "d": 0.0, "k": 0.0}
    calib = {
        "learners": {
            name: {"fit": flat, "predict": {**flat, "a": 0.0, "call": 0.003}} for name in ("rf", "svm_rbf")
        },
        "strategies": {},
        "default_strategy": {"a": 0.002, "b": 0.0, "p": 0.0, "batch": 0.0, "d": 0.0},
        "overhead": {"per_cycle": 0.0, "per_experiment": 0.0},
    }
    cal_path = tmp_path / "flat.json"
    cal_path.write_text(json.dumps(calib))
    cal = load_calibration(cal_path)
    doc = _doc(dimensions={"dataset": ["breast_cancer"], "batch_size": [1]})  # 341 train rows: pool lasts
    hours = [estimate_grid(grid_from_dict({**doc, "cycles": c}), cal)["cpu_hours"] for c in (10, 20, 30, 40)]
    steps = [b - a for a, b in zip(hours, hours[1:], strict=False)]
    assert all(s > 0 for s in steps)
    assert steps[0] == pytest.approx(steps[1], rel=1e-9) and steps[1] == pytest.approx(steps[2], rel=1e-9)
    # the shipped (size-dependent) model grows with the labelled set: more cycles cost more than linearly
    shipped = [estimate_grid(grid_from_dict({**doc, "cycles": c}))["cpu_hours"] for c in (10, 20, 40)]
    assert shipped[0] < shipped[1] < shipped[2]


def test_pool_exhaustion_caps_the_cycles():
    """iris has 90 train rows: 100 cycles of batch 10 stop after ~9, so they cost like 9-10 cycles."""
    doc = _doc(dimensions={"dataset": ["iris"], "batch_size": [10]})
    short = estimate_grid(grid_from_dict({**doc, "cycles": 9}))["cpu_hours"]
    long = estimate_grid(grid_from_dict({**doc, "cycles": 100}))["cpu_hours"]
    assert long == pytest.approx(short, rel=0.2)


def test_large_grid_is_estimated_without_enumerating_experiments():
    doc = _doc(
        dimensions={
            "dataset": ["iris", "wine", "breast_cancer", "digits", "xor_2x2"],
            "batch_size": [1, 5, 10, 20, 50, 100],
            "split": {"range": [0, 5]},
            "start": {"range": [0, 2000]},
        },
        cycles=100,
    )
    grid = grid_from_dict(doc)
    assert len(grid) > 1_000_000
    data = estimate_grid(grid)
    assert data["experiments"] == len(grid)
    assert sum(p["cpu_hours"] for p in data["per_dataset"].values()) == pytest.approx(data["cpu_hours"])


def test_calibration_from_a_store_reproduces_its_measured_cpu(tmp_path):
    doc = {
        "name": "estcal",
        "cycles": 2,
        "dimensions": {
            "dataset": ["iris"],
            "strategy": ["random", "margin"],
            "batch_size": [2],
            "learner": ["lr", "gnb"],
        },
    }
    path = _write(tmp_path, doc)
    store = tmp_path / "store"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "algrid",
            "run",
            str(path),
            "--store",
            str(store),
            "--in-process",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    from algrid.store import Store

    measured = sum(Store.open(store).runs(columns=["cpu_s"]).column("cpu_s").to_pylist())
    cal = load_calibration(store)
    assert "re-scaled from store" in cal.source
    assert set(cal.learner_scale) == {"lr", "gnb"}
    projected = estimate_grid(load_grid(path), cal)["cpu_hours"] * 3600
    assert projected == pytest.approx(measured, rel=1e-6)
    res = CliRunner().invoke(main, ["grid", "estimate", str(path), "--calibration", str(store), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["cpu_hours"] * 3600 == pytest.approx(measured, rel=1e-6)


def test_text_output_and_bad_inputs(tmp_path):
    path = _write(tmp_path, _doc())
    res = CliRunner().invoke(main, ["grid", "estimate", str(path)])
    assert res.exit_code == 0
    assert "cpu hours" in res.output and "dataset:" in res.output and "strategy:" in res.output
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "algrid",
            "grid",
            "estimate",
            str(path),
            "--calibration",
            str(tmp_path / "nope.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert "nope.json" in missing.stderr and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    res = CliRunner().invoke(main, ["grid", "estimate", str(path), "--calibration", str(bad)])
    assert res.exit_code == 2 and "bad.json" in res.output
    nolearner = tmp_path / "nolearner.json"
    nolearner.write_text(json.dumps({"learners": {"lr": {}}}))
    res = CliRunner().invoke(main, ["grid", "estimate", str(path), "--calibration", str(nolearner)])
    assert res.exit_code == 2 and "rf" in res.output
    broken = _write(tmp_path, {**_doc(), "cycles": 0}, "broken.yaml")
    res = CliRunner().invoke(main, ["grid", "estimate", str(broken)])
    assert res.exit_code == 2 and "cycles" in res.output


def test_costs_are_capped_by_the_timeout():
    """The runner kills an experiment at timeout_s, so none can cost more CPU than that."""
    grid = grid_from_dict({**_doc(), "timeout_s": 0.001})
    data = estimate_grid(grid)
    assert data["capped_by_timeout"]["experiments"] == len(grid)
    assert data["cpu_hours"] == pytest.approx(len(grid) * 0.001 / 3600)
    assert estimate_grid(grid_from_dict(_doc()))["capped_by_timeout"]["experiments"] == 0


def test_cycle_limit_ends_projected_runs_at_the_first_cycle_over_it(tmp_path):
    """--cycle-limit: each run costs at most its cycles under the limit plus the limit once (then timeout)."""
    path = _write(tmp_path, _doc())
    free = json.loads(CliRunner().invoke(main, ["grid", "estimate", str(path), "--json"]).output)
    assert free["cycle_limit_s"] is None and free["capped_by_cycle_limit"]["experiments"] == 0
    huge = json.loads(
        CliRunner().invoke(main, ["grid", "estimate", str(path), "--json", "--cycle-limit", "1e9"]).output
    )
    assert huge["cpu_hours"] == pytest.approx(free["cpu_hours"], rel=1e-9)  # no cycle reaches it
    tiny = json.loads(
        CliRunner().invoke(main, ["grid", "estimate", str(path), "--json", "--cycle-limit", "1e-6"]).output
    )
    assert tiny["cycle_limit_s"] == 1e-6
    assert tiny["capped_by_cycle_limit"]["experiments"] == tiny["experiments"] == free["experiments"]
    assert tiny["cpu_hours"] < free["cpu_hours"] / 5  # only the shared start-set fits and the limit remain
    # the grid's own cycle_limit_s is the default, and it shows in the text output
    capped = _write(tmp_path, {**_doc(), "cycle_limit_s": 1e-6}, "capped.yaml")
    data = estimate_grid(load_grid(capped))
    assert data["cpu_hours"] == pytest.approx(tiny["cpu_hours"], rel=1e-9)
    text = CliRunner().invoke(main, ["grid", "estimate", str(capped)]).output
    assert "cycle limit 1e-06 s" in text
    bad = CliRunner().invoke(main, ["grid", "estimate", str(path), "--cycle-limit", "0"])
    assert bad.exit_code == 2 and "--cycle-limit" in bad.output


def test_a_pool_cap_bounds_a_sub_sampling_strategy_cost():
    """A law with pool_max (scikit-activeml's QUIRE scores <= 500 candidates) stops growing with the pool."""
    cal = load_calibration()
    law, calibrated = cal.strategy("quire@skactiveml")
    assert calibrated and law["pool_max"] == 500 and law["labeled_in_pool"]
    pools = [500.0, 5000.0, 50000.0]
    costs = cal.query_s("quire@skactiveml", pools, [10.0] * 3, 10.0, 3.0, labeled=[20.0] * 3)
    assert costs[0] == costs[1] == costs[2]
    more_labelled = cal.query_s("quire@skactiveml", [5000.0], [10.0], 10.0, 3.0, labeled=[2000.0])
    assert more_labelled[0] > costs[1]


def test_one_costing_chain_serves_the_estimate_and_the_runner_order():
    """Issue 13: the grid estimate and the runner's per-experiment costs come from the same chain (_Coster)."""
    from algrid.cost.estimate import _Coster, experiment_costs
    from algrid.grid import load_grid

    grid = load_grid("grids/demo.yaml")
    cal = load_calibration()
    configs = grid.configs(range(0, len(grid), 17))
    chain = _Coster(cal, grid.settings)
    direct = [
        chain.seconds(
            c["dataset"],
            c["initial_pool"],
            c["batch_size"],
            c["learner"],
            f"{c['strategy']}@{c['implementation']}",
            1,
            True,
        )
        for c in configs
    ]
    assert experiment_costs(configs, grid.settings, cal) == [
        min(d, grid.settings["timeout_s"]) for d in direct
    ]
    assert all(d > 0 for d in direct)
