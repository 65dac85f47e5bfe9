"""The two entry points of the public API that are more than a re-export: :func:`run` and :func:`load_plugins`.

Why a function on top of the runner: ``algrid run`` and a Python user must do the same set-up (plugins loaded and
exported to workers, the grid loaded, the backend chosen, ``jobs`` defaulting to the CPUs this process may use);
doing it here keeps the CLI a thin layer over the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from algrid.execute.runner import RunSummary
    from algrid.grid.lazy import Grid
    from algrid.plugins import Plugin

__all__ = ["load_calibration", "load_plugins", "read_store_runs", "run"]


def load_plugins(refs: Iterable[str] = ()) -> list[Plugin]:
    """Load installed (entry-point) plugins, ``ALGRID_PLUGINS`` and ``refs`` (modules or .py paths), once each,
    and make worker processes started from here load them too."""
    from algrid import plugins

    out = plugins.load_configured()
    out += plugins.load(refs, where="load_plugins")
    plugins.export_for_children()
    return out


def run(
    grid: Grid | str | Path,
    store: str | Path | None = None,
    *,
    shard: str | tuple[int, int] | None = None,
    jobs: int | None = None,
    retry_failed: bool = False,
    backend: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    in_process: bool = False,
    memory_mb: int | None = None,
    progress: bool = False,
    plugins: Iterable[str] = (),
    **options: Any,
) -> RunSummary:
    """Run ``grid`` (or shard ``"i/N"`` of it) into ``store`` (default ``results/<grid name>``); resumable.

    ``jobs`` defaults to one worker per CPU available to this process. ``backend="dask"`` runs on a Dask cluster
    (``scheduler`` address, or a LocalCluster). Further ``options`` go to the local runner
    (``flush_every``, ``flush_seconds``).
    """
    from algrid.config import available_cpus
    from algrid.grid.lazy import load_grid
    from algrid.grid.sharding import parse_shard

    load_plugins(plugins)
    grid_obj = load_grid(grid) if isinstance(grid, str | Path) else grid
    from algrid import plugins as plugin_registry

    plugin_registry.export_for_children()  # the grid's own `plugins:` reach the workers too
    shard_t = parse_shard(shard)
    # No worker yet: run_shard starts the zygote once it knows there is something to run (a finished store or shard
    # then costs no worker imports at all).
    n_jobs = available_cpus() if jobs is None else int(jobs)
    if backend == "dask":
        from algrid.cluster.dask import run_dask

        return run_dask(
            grid_obj,
            store,
            shard=shard_t,
            scheduler=scheduler,
            n_workers=max(n_jobs, 1),  # --jobs K: K workers, as for the local backend
            retry_failed=retry_failed,
            in_process=in_process,
            memory_mb=memory_mb,
            progress=progress,
        )
    from algrid.execute.runner import run_shard

    return run_shard(
        grid_obj,
        store,
        shard=shard_t,
        jobs=n_jobs,
        retry_failed=retry_failed,
        progress=progress,
        memory_mb=memory_mb,
        in_process=in_process,
        **options,
    )


def read_store_runs(store_dir: Path) -> tuple[Any, dict[str, Any]]:
    """(runs table with dimensions, status and cpu_s; grid settings) of a result store, for cost calibration."""
    from algrid.errors import AlgridError
    from algrid.results import DIMENSIONS
    from algrid.store import Store

    try:
        store = Store.open(store_dir)
        runs = store.runs(columns=[*DIMENSIONS, "status", "cpu_s"])
        settings = store.grid().settings
    except AlgridError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken store is a user error here
        raise AlgridError(
            f"{store_dir}: cannot read the result store ({type(exc).__name__}: {exc})"
        ) from None
    return runs, dict(settings)


def load_calibration(path: str | Path | None = None) -> Any:
    """The shipped cost calibration, a calibration JSON file, or one re-scaled from a result store's measured CPU."""
    from algrid.cost.estimate import load_calibration as load

    return load(path, read_store=read_store_runs)
