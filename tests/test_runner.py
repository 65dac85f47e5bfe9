"""Runner: identical results for any shard layout / job count / in-process, limits, failures, concurrent runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import deterministic, plugin_env, run_cli

from algrid.execute.runner import run_shard
from algrid.grid.lazy import load_grid
from algrid.store import Store
from algrid.store.verify import verify


def write_grid(path: Path, **over) -> Path:
    doc = {
        "name": "rt",
        "cycles": 2,
        "timeout_s": 60,
        "dimensions": {
            "dataset": ["iris", "wine"],
            "strategy": ["random", "margin"],
            "implementation": ["native"],
            "batch_size": [4],
            "initial_pool": ["per_class:1"],
            "learner": ["lr", "gnb"],
            "split": [0],
            "start": [0, 1],
            "seed": [0],
        },
    }
    dims = over.pop("dimensions", {})
    doc.update(over)
    doc["dimensions"].update(dims)
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory) -> Path:
    return write_grid(tmp_path_factory.mktemp("grid") / "rt.yaml")


@pytest.fixture(scope="module")
def reference(grid_file, tmp_path_factory) -> Path:
    """One uninterrupted run: 1 shard, 2 worker processes, via the CLI (prints the summary table)."""
    store = tmp_path_factory.mktemp("ref") / "store"
    r = run_cli("run", str(grid_file), "--store", str(store), "--jobs", "2", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "f1_weighted_aulc" in r.stdout and "random" in r.stdout and "margin" in r.stdout
    return store


def test_reference_run_complete_and_verified(reference, grid_file):
    grid = load_grid(grid_file)
    st = json.loads(run_cli("status", str(reference), "--json").stdout)
    assert (st["total"], st["ok"], st["pending"]) == (len(grid), len(grid), 0)
    assert verify(reference).ok
    curves = Store.open(reference).curves()
    assert curves.num_rows == len(grid) * 3


@pytest.mark.slow
def test_seven_shards_jobs1_identical(reference, grid_file, tmp_path):
    store = tmp_path / "s7"
    for i in range(7):
        s = run_shard(str(grid_file), store, shard=f"{i}/7", jobs=1, progress=False)
        assert s.failed == s.timeout == 0
    st = json.loads(run_cli("status", str(store), "--json").stdout)
    assert len(st["shards"]) == 7 and st["pending"] == 0  # N recovered from the recorded shard specs
    assert deterministic(store) == deterministic(reference)
    assert verify(store).ok


def test_in_process_and_resume_skip(reference, grid_file, tmp_path):
    store = tmp_path / "ip"
    s = run_shard(str(grid_file), store, jobs=1, in_process=True, progress=False)
    assert s.ran == s.ok == 16
    assert deterministic(store) == deterministic(reference)
    again = run_shard(str(grid_file), store, jobs=2, progress=False)
    assert again.ran == 0 and again.already_done == 16
    # a grid that only adds a value reuses every finished experiment (matched by exp_key, not by index)
    grown = write_grid(tmp_path / "grown.yaml", dimensions={"strategy": ["entropy", "random", "margin"]})
    more = run_shard(str(grown), store, jobs=1, in_process=True, progress=False)
    assert more.already_done == 16 and more.ran == 8 and more.ok == 8
    assert {r["strategy"] for r in more.by_strategy} == {"entropy", "random", "margin"}


@pytest.mark.slow
def test_timeout_failure_memory_do_not_stop_the_shard(tmp_path):
    limit = 8.0
    grid_file = write_grid(
        tmp_path / "bad.yaml",
        name="bad",
        timeout_s=limit,
        dimensions={
            "dataset": ["iris"],
            "strategy": ["random", "t_sleep", "t_boom", "t_hog"],
            "learner": ["lr"],
            "start": [0],
        },
    )
    store = tmp_path / "store"
    r = run_cli(
        "run", str(grid_file), "--store", str(store), "--jobs", "2", "--memory-mb", "300", "--no-progress",
        env_extra={**plugin_env(), "ALGRID_TEST_HOG_MB": "1200"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = {row["strategy"]: row for row in Store.open(store).runs().to_pylist()}
    assert rows["random"]["status"] == "ok"
    assert rows["t_boom"]["status"] == "failed" and rows["t_boom"]["error"].startswith("ValueError: boom")
    assert rows["t_sleep"]["status"] == "timeout"
    assert rows["t_sleep"]["wall_s"] <= limit + 2.0
    assert rows["t_sleep"]["cycles_done"] == 0  # cycle 0 (start set) finished, the first query never returned
    assert rows["t_hog"]["status"] == "failed" and rows["t_hog"]["error"].startswith("memory")
    curves = Store.open(store).curves().to_pylist()
    sleep_key = rows["t_sleep"]["exp_key"]
    assert [c["cycle"] for c in curves if c["exp_key"] == sleep_key] == [0]
    assert run_cli("store", "verify", str(store), env_extra=plugin_env()).returncode == 0
    st = json.loads(run_cli("status", str(store), "--json", env_extra=plugin_env()).stdout)
    assert (st["ok"], st["failed"], st["timeout"], st["pending"]) == (1, 2, 1, 0)
    # --retry-failed reruns them (still failing) without ever storing an exp_key twice
    r = run_cli("run", str(grid_file), "--store", str(store), "--retry-failed", "--no-progress", "--json",
            env_extra={**plugin_env(), "ALGRID_TEST_SLEEP": "0", "ALGRID_TEST_HOG_MB": "1"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["ran"] == 3 and summary["retired"] == 3
    rows = {row["strategy"]: row["status"] for row in Store.open(store).runs().to_pylist()}
    assert rows == {"random": "ok", "t_sleep": "ok", "t_boom": "failed", "t_hog": "ok"}
    assert run_cli("store", "verify", str(store), env_extra=plugin_env()).returncode == 0


@pytest.mark.slow
def test_two_runners_same_shard_no_duplicates(reference, grid_file, tmp_path):
    store = tmp_path / "both"
    args = (
        "run",
        str(grid_file),
        "--store",
        str(store),
        "--jobs",
        "1",
        "--no-progress",
        "--flush-every",
        "1",
    )
    env = {**os.environ}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "algrid", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    assert verify(store).ok
    keys = Store.open(store).runs()["exp_key"].to_pylist()
    assert len(keys) == len(set(keys)) == 16
    assert deterministic(store) == deterministic(reference)


def test_bad_shard_and_incompatible_store_are_one_line_errors(grid_file, reference, tmp_path):
    r = run_cli("run", str(grid_file), "--shard", "7/7", "--store", str(tmp_path / "x"))
    assert r.returncode != 0 and "--shard" in r.stderr and "Traceback" not in r.stderr
    other = write_grid(tmp_path / "other.yaml", cycles=3)
    r = run_cli("run", str(other), "--store", str(reference))
    assert r.returncode == 2 and "does not match this store" in r.stderr and "Traceback" not in r.stderr
