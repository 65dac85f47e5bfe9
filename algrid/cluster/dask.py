"""Run a grid's experiments on a Dask cluster (`algrid run GRID --backend dask [--scheduler tcp://HOST:PORT]`).

Entry point (called lazily by `algrid run --backend dask`; needs the `algrid[dask]` extra)::

    run_dask(grid, store_dir=None, indices=None, *, scheduler=None, n_workers=2, shard=None, retry_failed=False,
             chunk_size=None, in_process=False, memory_mb=None, progress=True, connect_timeout=20.0)
        -> algrid.execute.runner.RunSummary   (raises DaskError if experiments are still missing afterwards)

- ``grid``: a Grid or a grid file path; ``indices`` / ``shard`` select experiments as in ``run_shard``.
- ``scheduler``: address of a running scheduler (``tcp://host:8786``); None starts a LocalCluster of ``n_workers``
  single-threaded worker processes for the duration of the call.
- ``store_dir``: must be on a filesystem every worker sees (the default is ``results/<grid name>``, made absolute).

Why chunks of work groups: the client splits the pending experiments into chunks of consecutive work groups
(experiments that share dataset, learner, start set, ... and therefore fits), and each Dask task runs one chunk with
the runner's own ``run_shard(grid, store, indices=chunk, jobs=1)``. The store therefore receives exactly the atomic
parts (and bytes) a local run writes, claims keep two tasks from ever storing one experiment twice, and the engine's
per-worker cache still turns shared fits into hits. A worker that dies loses only the experiments in flight: Dask
reruns its chunk elsewhere and ``run_shard`` skips what was committed; running the same command again completes
whatever is still missing.

Dask workers are daemonic processes, where ``multiprocessing`` may not start children; the runner's worker processes
are started with ``subprocess``, which is allowed, so per-experiment time and memory limits stay hard limits.
``in_process=True`` runs experiments inside the Dask worker instead (cooperative time limit, no memory cap),
serialised per process by a lock because some strategy libraries read NumPy's global RNG.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from algrid.errors import AlgridError
from algrid.execute.plan import CHUNKS_PER_THREAD, MIN_CHUNK, index_groups, plan_chunks, work_groups
from algrid.execute.session import RunSession
from algrid.execute.summary import strategy_table
from algrid.store.progress import add_grid_progress

if TYPE_CHECKING:
    from algrid.execute.summary import RunSummary
    from algrid.grid.lazy import Grid

__all__ = ["CHUNKS_PER_THREAD", "MIN_CHUNK", "DaskError", "chunk_indices", "plan_chunks", "run_dask"]

_IN_PROCESS_LOCK = threading.Lock()


class DaskError(AlgridError):
    """Dask is missing, the scheduler is unreachable, or chunks failed on the workers."""

    exit_code = 1  # the cluster failed (environment), not the input


def _run_chunk(
    grid: Grid,
    store_dir: str,
    indices: list[int],
    in_process: bool,
    memory_mb: int | None,
    plugin_refs: tuple[str, ...] = (),
) -> dict[str, int]:
    """A Dask task: run one chunk through the runner (same parts, claims and limits as a local run).

    The client's plugins travel with the task and are loaded (once per worker process) before anything runs, so a
    remote worker needs no ALGRID_PLUGINS set by hand; its own worker processes inherit them."""
    from algrid import plugins
    from algrid.execute.runner import run_shard

    plugins.load_configured()
    plugins.load(plugin_refs, where="dask worker")
    plugins.export_for_children()

    def run() -> dict[str, int]:
        s = run_shard(
            grid,
            store_dir,
            indices=indices,
            jobs=1,
            progress=False,
            in_process=in_process,
            memory_mb=memory_mb,
        )
        return {
            k: getattr(s, k)
            for k in ("ran", "ok", "failed", "timeout", "held_elsewhere", "dropped_duplicates")
        }

    if in_process:
        with _IN_PROCESS_LOCK:
            return run()
    return run()


def _client(scheduler: str | None, n_workers: int, connect_timeout: float = 20.0):
    """(client, cluster-or-None): connect to ``scheduler`` or start a LocalCluster of single-threaded processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DaskError("the dask backend needs dask.distributed: pip install 'algrid[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout=f"{connect_timeout}s"), None
        except (OSError, TimeoutError) as exc:
            raise DaskError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    cluster = LocalCluster(
        n_workers=max(1, int(n_workers)),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_port=0,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def run_dask(
    grid: Grid | str | Path,
    store_dir: str | Path | None = None,
    indices: Any = None,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    shard: str | tuple[int, int] | None = None,
    retry_failed: bool = False,
    chunk_size: int | None = None,
    in_process: bool = False,
    memory_mb: int | None = None,
    progress: bool = True,
    connect_timeout: float = 20.0,
) -> RunSummary:
    """Run the selected experiments of ``grid`` on a Dask cluster into ``store_dir``; see the module docstring.

    The client runs the first steps of a RunSession (open the store, select, retire failed rows once, plan the work
    groups); each Dask task then runs a whole session of its own on one chunk.
    """
    t0 = time.monotonic()
    if not hasattr(grid, "decode"):
        from algrid.grid.lazy import load_grid

        grid = load_grid(grid)
    grid = cast("Grid", grid)  # a Grid, or any grid-like object with decode() (hasattr does not narrow)
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise DaskError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    client = cluster = None
    if scheduler:  # an unreachable scheduler fails before the store is touched
        client, cluster = _client(scheduler, n_workers, connect_timeout)
    try:
        from algrid.store import default_store_dir

        store_path = Path(store_dir if store_dir is not None else default_store_dir(grid)).resolve()
        session = RunSession(grid, store_path, indices=indices, shard=shard, retry_failed=retry_failed)
        session.open_store()
        session.select()
        session.retire()  # once, here: tasks retiring rows of shared parts concurrently would race
        groups = index_groups(session.plan())
        summary = session.summary

        errors: list[str] = []
        if groups:
            if client is None:  # start a LocalCluster only when there is work
                client, cluster = _client(None, n_workers, connect_timeout)
            errors = _distribute(
                client, grid, store_path, groups, chunk_size, in_process, memory_mb, progress, summary
            )
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    summary.elapsed_s = time.monotonic() - t0
    summary.by_strategy = strategy_table(session.store, session.keys, session.table)
    add_grid_progress(summary, session.store, session.grid)
    missing = session.missing()
    if errors or missing:
        why = f"{len(errors)} Dask task(s) failed (first: {errors[0]}); " if errors else ""
        raise DaskError(
            f"{why}{len(missing)} of {len(session.keys)} experiments are not in {store_path} after the Dask run "
            f"({summary.ran} ran this time, all committed); run the same command again to complete the store"
        )
    return summary


def _distribute(
    client, grid, store_path: Path, groups, chunk_size, in_process, memory_mb, progress, summary
) -> list[str]:
    """Submit one task per chunk and add their counts to ``summary``; returns the failed tasks' errors."""
    from distributed import as_completed
    from tqdm import tqdm

    n_threads = sum(client.nthreads().values()) or 1
    chunks = plan_chunks(groups, n_threads, chunk_size)
    grid_future = client.scatter(grid, broadcast=True)
    from algrid import plugins

    plugin_refs = tuple(p.ref for p in plugins.loaded() if p.origin in ("module", "file"))
    futures = [
        client.submit(
            _run_chunk, grid_future, str(store_path), chunk, in_process, memory_mb, plugin_refs, pure=False
        )
        for chunk in chunks
    ]
    size = {f.key: len(c) for f, c in zip(futures, chunks, strict=True)}
    errors: list[str] = []
    total = sum(size.values())
    with tqdm(total=total, unit="exp", desc="experiments", disable=not progress, dynamic_ncols=True) as bar:
        for future in as_completed(futures):
            if future.status == "finished":
                result = future.result()
                for k, v in result.items():
                    setattr(summary, k, getattr(summary, k) + v)
            else:
                exc = future.exception()
                errors.append(f"{type(exc).__name__}: {exc}")
            bar.update(size[future.key])
    return errors


def chunk_indices(
    grid: Grid, indices: np.ndarray, n_threads: int, chunk_size: int | None = None
) -> list[list[int]]:
    """The chunks run_dask would submit for these (pending) exp_indices: a planning aid for users and tests."""
    groups = index_groups(work_groups(grid.decode(np.asarray(indices, dtype=np.int64))))
    return plan_chunks(groups, n_threads, chunk_size)
