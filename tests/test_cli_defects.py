"""Small CLI defects of issue 17: estimate units, export destination, a shard run's summary of the whole grid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import invoke as cli

DEMO = Path(__file__).resolve().parents[1] / "grids" / "demo.yaml"
GRID = (
    "name: g\ncycles: 2\ntest_size: 0.4\ntimeout_s: 60\ndimensions:\n  dataset: [iris]\n"
    "  strategy: [random, margin]\n  batch_size: [3]\n  learner: [lr]\n  start: {range: [0, 3]}\n"
)


def test_estimate_units_adapt_to_size():
    from algrid.cli.grid_cmd import cpu_time

    assert [cpu_time(h) for h in (0.001, 0.02, 0.5, 2, 2500)] == [
        "3.6 s",
        "72 s",
        "30.0 min",
        "2.0 h",
        "2,500 h",
    ]
    res = cli("grid", "estimate", DEMO)
    assert res.exit_code == 0
    line = next(x for x in res.stdout.splitlines() if x.startswith("cpu time"))
    assert " 0.0 " not in line and line.split()[3] in ("s", "min")  # a 240-experiment grid takes seconds
    data = json.loads(cli("grid", "estimate", DEMO, "--json").stdout)
    assert 0 < data["cpu_hours"] < 0.1 and "cpu_minutes_per_experiment" in data


@pytest.fixture
def shard_store(tmp_path):
    grid = tmp_path / "g.yaml"
    grid.write_text(GRID)
    return grid, tmp_path / "store"


def test_shard_summary_counts_pending_of_whole_grid(shard_store):
    grid, store = shard_store
    res = cli("run", grid, "--store", store, "--shard", "0/3", "--in-process", "--no-progress", "--json")
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    assert first["selected"] == 2 and first["ran"] == 2  # 6 experiments, 2 per shard
    assert sum(r["pending"] for r in first["by_strategy"]) == 0  # this shard is done ...
    assert (first["grid_total"], first["grid_pending"], first["pending_elsewhere"]) == (
        6,
        4,
        4,
    )  # ... the grid not
    res = cli("run", grid, "--store", store, "--shard", "1/3", "--in-process", "--no-progress")
    assert res.exit_code == 0
    assert "whole grid: 2 of 6 experiments pending, 2 of them in other shards" in res.stdout
    res = cli("run", grid, "--store", store, "--in-process", "--no-progress", "--json")
    last = json.loads(res.stdout)
    assert (last["grid_pending"], last["pending_elsewhere"], last["ran"]) == (0, 0, 2)


def test_export_writes_to_working_directory(shard_store, tmp_path, monkeypatch):
    grid, store = shard_store
    assert (
        cli("run", grid, "--store", store, "--shard", "0/3", "--in-process", "--no-progress").exit_code == 0
    )
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    res = cli("store", "export", store, "--format", "csv", "--table", "runs")
    assert res.exit_code == 0, res.output
    assert (
        res.stdout.strip() == str(Path("runs.csv")) or Path(res.stdout.strip()).resolve() == work / "runs.csv"
    )
    assert (work / "runs.csv").read_text().count("\n") == 1 + 2
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before  # nothing written into the store
    res = cli("store", "export", store, "--format", "parquet", "--out", tmp_path / "elsewhere")
    assert res.exit_code == 0 and (tmp_path / "elsewhere" / "curves.parquet").exists()
