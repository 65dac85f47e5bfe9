"""Dask backend: a LocalCluster run stores the same curves as a local run, and a worker that dies costs nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from helpers import run_cli

pytest.importorskip("distributed")

from algrid.cluster.dask import DaskError, chunk_indices, plan_chunks, run_dask  # noqa: E402
from algrid.execute.runner import run_shard  # noqa: E402
from algrid.grid.lazy import load_grid  # noqa: E402
from algrid.store import Store, deterministic_table  # noqa: E402

GRID_YAML = """\
name: dasktest
cycles: 2
test_size: 0.4
timeout_s: 120
dimensions:
  dataset: [iris, wine]
  strategy: [random, margin]
  implementation: [native]
  batch_size: [3]
  learner: [lr, gnb]
  seed: [0, 1]
"""


def _curves(store: Path) -> pa.Table:
    return deterministic_table(store, "curves")


def _runs(store: Path) -> pa.Table:
    return deterministic_table(store, "runs")


def _verify(store: Path) -> None:
    proc = run_cli("store", "verify", store, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dask") / "grid.yaml"
    path.write_text(GRID_YAML)
    return path


@pytest.fixture(scope="module")
def local_store(grid_file, tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("dask-local") / "store"
    summary = run_shard(grid_file, store, jobs=1, progress=False)
    assert summary.ok == 16
    return store


def test_plan_chunks_keeps_work_groups_together():
    groups = [[0, 1], [2, 3], [4, 5], [6, 7, 8, 9, 10]]
    assert plan_chunks(groups, n_threads=2, chunk_size=4) == [[0, 1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]
    chunks = plan_chunks(groups, n_threads=1, chunk_size=100)
    assert chunks == [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]
    assert plan_chunks([], 2) == []


def test_chunks_of_a_grid_never_split_a_work_group(grid_file):
    grid = load_grid(grid_file)
    chunks = chunk_indices(grid, list(range(len(grid))), n_threads=4, chunk_size=2)
    assert sorted(i for c in chunks for i in c) == list(range(len(grid)))
    table = grid.decode(list(range(len(grid))))
    group_of = {
        int(i): tuple(
            table[d][j].as_py() for d in ("dataset", "learner", "initial_pool", "split", "start", "seed")
        )
        for j, i in enumerate(table["exp_index"].to_pylist())
    }
    for chunk in chunks:  # 8 groups of 2 experiments, chunk_size 2: one whole group per chunk
        assert len({group_of[i] for i in chunk}) == 1


@pytest.mark.slow
def test_local_cluster_run_equals_local_run(grid_file, local_store, tmp_path):
    store = tmp_path / "dask store"
    summary = run_dask(grid_file, store, n_workers=2, progress=False)
    assert (summary.selected, summary.ok, summary.already_done) == (16, 16, 0)
    _verify(store)
    assert _curves(store).equals(_curves(local_store))
    assert _runs(store).equals(_runs(local_store))
    # a second run finds everything done and starts no cluster work
    again = run_dask(grid_file, store, n_workers=2, progress=False)
    assert (again.already_done, again.ran) == (16, 0)


@pytest.mark.slow
def test_killed_worker_loses_only_experiments_in_flight(grid_file, local_store, tmp_path):
    """SIGKILL a Dask worker mid-run (experiments run inside the Dask workers here, so they die with it)."""
    from distributed import Client, LocalCluster

    store = tmp_path / "store"
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, scheduler_port=0) as cluster:
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            killed: list[int] = []

            def kill_one_worker_after_first_commit() -> None:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if list((store / "runs").glob("part-*.parquet")):
                        os.kill(pids[0], signal.SIGKILL)
                        killed.append(pids[0])
                        return
                    time.sleep(0.05)

            killer = threading.Thread(target=kill_one_worker_after_first_commit)
            killer.start()
            try:
                run_dask(
                    grid_file,
                    store,
                    scheduler=cluster.scheduler_address,
                    chunk_size=2,
                    in_process=True,
                    progress=False,
                )
            except DaskError:
                pass  # allowed: the message says to rerun; the rerun below must complete the store
            killer.join()
            assert killed, "no run part appeared: the worker was never killed"
            summary = run_dask(
                grid_file,
                store,
                scheduler=cluster.scheduler_address,
                chunk_size=2,
                in_process=True,
                progress=False,
            )
    assert summary.ok + summary.already_done == 16
    runs = Store.open(store).runs(["exp_key", "status", "error"]).to_pylist()
    assert len(runs) == 16 and all(r["status"] == "ok" for r in runs), [
        r for r in runs if r["status"] != "ok"
    ]
    _verify(store)
    assert _curves(store).equals(_curves(local_store))


def test_unreachable_scheduler_is_a_clear_error(grid_file, tmp_path):
    with pytest.raises(DaskError, match="tcp://127.0.0.1:9"):
        run_dask(grid_file, tmp_path / "s", scheduler="tcp://127.0.0.1:9", progress=False, connect_timeout=2)
    assert not (tmp_path / "s").exists()  # nothing written before the scheduler answered


def test_jobs_is_the_dask_worker_count(grid_file, tmp_path, monkeypatch):
    """`--jobs K` with the Dask backend starts K workers, 1 included (it was silently 2)."""
    import algrid.cluster.dask as dask_backend
    from algrid import api

    seen = []
    monkeypatch.setattr(dask_backend, "run_dask", lambda *a, **kw: seen.append(kw["n_workers"]))
    for jobs in (1, 3):
        api.run(grid_file, tmp_path / "s", backend="dask", jobs=jobs)
    assert seen == [1, 3]


def test_cli_dask_run_ends_without_a_traceback(grid_file, local_store, tmp_path):
    """The workers' fork servers end quietly when their Dask worker shuts down (it once printed
    ConnectionResetError tracebacks after a successful run)."""
    store = tmp_path / "s"
    done = run_cli("run", grid_file, "--store", store, "--backend", "dask", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert _runs(store).num_rows == _runs(local_store).num_rows
    assert deterministic_table(store, "curves").equals(deterministic_table(local_store, "curves"))
