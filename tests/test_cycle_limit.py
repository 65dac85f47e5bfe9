"""cycle_limit_s: a query cycle over the limit ends the run as `timeout` with the cycles before it (issue 19)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from algrid.engine.loop import run_experiment
from algrid.store import Store

TESTS = Path(__file__).parent
CFG = dict(dataset="iris", strategy="margin", implementation="native", batch_size=5,
           initial_pool="per_class:1", learner="gnb", split=0, start=0, seed=0)  # fmt: skip


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "algrid", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)  # fmt: skip


def _grid(path: Path, **settings) -> Path:
    doc = {"name": "cl", "cycles": 3, "timeout_s": 60, **settings,
           "dimensions": {"dataset": ["iris"], "strategy": ["random", "margin"], "learner": ["gnb"],
                          "batch_size": [5]}}  # fmt: skip
    path.write_text(yaml.safe_dump(doc))
    return path


def test_api_cycle_over_the_limit_is_a_timeout_with_the_cycles_before_it():
    res = run_experiment(CFG, {"cycles": 3, "test_size": 0.4, "cycle_limit_s": 1e-9})
    assert res.status == "timeout"
    assert res.error.startswith("cycle_limit: cycle 1 took")
    assert res.cycles_done == 0 and len(res.curve) == 1 and len(res.selected) == 1


def test_api_generous_limit_changes_nothing():
    free = run_experiment(CFG, {"cycles": 3, "test_size": 0.4})
    capped = run_experiment(CFG, {"cycles": 3, "test_size": 0.4, "cycle_limit_s": 1e6})
    assert capped.status == free.status == "ok"
    strip = lambda rows: [{k: v for k, v in r.items() if not k.endswith("_s")} for r in rows]  # noqa: E731
    assert strip(capped.curve) == strip(free.curve) and capped.selected == free.selected


def test_run_records_timeouts_from_the_grid_setting(tmp_path: Path):
    grid = _grid(tmp_path / "cl.yaml", cycle_limit_s=1e-9)
    store = tmp_path / "store"
    r = _cli("run", str(grid), "--store", str(store), "--jobs", "1", "--no-progress", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["timeout"] == 2
    runs = Store.open(store).runs().to_pylist()
    assert {(x["status"], x["cycles_done"]) for x in runs} == {("timeout", 0)}
    assert all(x["error"].startswith("cycle_limit") for x in runs)
    assert {c["cycle"] for c in Store.open(store).curves().to_pylist()} == {0}
    st = json.loads(_cli("status", str(store), "--json").stdout)
    assert (st["timeout"], st["pending"]) == (2, 0)


def test_worker_stuck_in_a_cycle_is_killed(tmp_path: Path):
    """A cycle that never returns (the test plugin's t_sleep) is stopped by the runner near the limit."""
    doc = {"name": "stuck", "cycles": 3, "timeout_s": 120, "cycle_limit_s": 1.0,
           "dimensions": {"dataset": ["iris"], "strategy": ["t_sleep"], "learner": ["gnb"], "batch_size": [5]}}  # fmt: skip
    grid = tmp_path / "stuck.yaml"
    grid.write_text(yaml.safe_dump(doc))
    store = tmp_path / "store"
    env = {"ALGRID_PLUGINS": "algrid_testplugin", "ALGRID_TEST_SLEEP": "1000",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    r = _cli("run", str(grid), "--store", str(store), "--jobs", "1", "--no-progress", env_extra=env)
    assert r.returncode == 0, r.stderr
    (row,) = Store.open(store).runs().to_pylist()
    assert row["status"] == "timeout" and row["error"].startswith("cycle_limit")
    assert row["cycles_done"] == 0 and row["wall_s"] < 60


def test_bad_cycle_limit_is_a_one_line_error(tmp_path: Path):
    grid = _grid(tmp_path / "bad.yaml", cycle_limit_s=-3)
    r = _cli("grid", "validate", str(grid))
    assert r.returncode == 2
    assert "cycle_limit_s" in r.stderr and "-3" in r.stderr and "Traceback" not in r.stderr
