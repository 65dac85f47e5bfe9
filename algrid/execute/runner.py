"""Run a shard (or any set of experiments) of a grid into a result store: resume, claims, limits, progress.

`run_shard` is the one entry point every backend uses: `algrid run` locally, a SLURM array task (`--shard i/N`) and a
Dask task (a small `indices` chunk, `jobs=1`). It runs a RunSession (algrid.execute.session), which

1. opens (or creates) the store and refuses a grid with other key settings;
2. skips experiments that already have a run row (with ``retry_failed`` only `ok` ones; the failed/timeout rows of
   the selection are retired first, so an exp_key is never stored twice);
3. runs the rest on ``jobs`` worker processes (algrid.execute.pool) in work-group order, so a worker's model cache
   turns the fits that experiments share into hits; ``in_process=True`` runs in the calling process instead (for hosts
   where no child process may be started; the time limit is then checked between cycles only);
4. claims every experiment (claim file, O_EXCL) right before starting it and releases the claim only after its run
   row is committed; before committing, rows another runner committed meanwhile are dropped. Two runners on the same
   shard therefore neither duplicate rows nor (mostly) work;
5. commits results every ``flush_every`` experiments or ``flush_seconds``: a killed runner loses at most those plus the
   experiments in flight. SIGTERM/SIGINT (e.g. SLURM's time limit) flush what is finished before exiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from algrid.execute.plan import GROUP_DIMS, longest_first, select, work_groups
from algrid.execute.plugins import load_plugins
from algrid.execute.session import RunSession
from algrid.execute.summary import Interrupted, RunSummary, strategy_table
from algrid.grid.sharding import parse_shard

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid

__all__ = [
    "GROUP_DIMS",
    "Interrupted",
    "RunSummary",
    "longest_first",
    "parse_shard",
    "run_shard",
    "select",
    "strategy_table",
    "work_groups",
]


def run_shard(
    grid: Grid | str | Path,
    store_dir: str | Path | None = None,
    indices: Sequence[int] | np.ndarray | None = None,
    shard: str | tuple[int, int] | None = None,
    jobs: int = 1,
    retry_failed: bool = False,
    progress: bool = True,
    *,
    memory_mb: int | None = None,
    in_process: bool = False,
    flush_every: int = 8,
    flush_seconds: float = 5.0,
    merge: bool = True,
) -> RunSummary:
    """Run the selected experiments of ``grid`` into the store; see the module docstring. Never runs one twice."""
    session = RunSession(
        grid,
        store_dir,
        indices=indices,
        shard=shard,
        jobs=jobs,
        retry_failed=retry_failed,
        progress=progress,
        memory_mb=memory_mb,
        in_process=in_process,
        flush_every=flush_every,
        flush_seconds=flush_seconds,
        merge=merge,
    )
    load_plugins()  # the zygote starts in RunSession.plan, only when there is work (a finished store starts none)
    return session.run()
