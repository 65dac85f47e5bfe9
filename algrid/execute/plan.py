"""Run planning every backend shares: which experiments to run, in which work groups, order and chunks.

Why one module: `algrid run` (local pool), SLURM array tasks and Dask all select experiments the same way and must
keep the experiments that share fits together; only the last step differs (a local pool orders groups longest
first, Dask packs them into chunks). Planning reads the grid only, never the store: what is already done is the run
session's business (algrid.execute.session).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from algrid.errors import AlgridError
from algrid.execute.records import Task
from algrid.results import DIMENSIONS, OPTIONAL_DIMENSIONS

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid

#: Dimensions whose equal values make experiments share work in a worker (the engine's cache key).
GROUP_DIMS: tuple[str, ...] = (
    "dataset",
    "learner",
    "query_learner",
    "initial_pool",
    "split",
    "start",
    "seed",
)
#: Chunks per worker thread when chunk_size is not given: small enough to balance, large enough to share work.
CHUNKS_PER_THREAD = 4
#: Default chunks hold at least this many experiments (unless that leaves threads idle): each chunk starts one
#: runner worker process, whose imports cost about a second.
MIN_CHUNK = 16


def select(
    grid: Grid, indices: Sequence[int] | np.ndarray | None, shard: tuple[int, int] | None
) -> np.ndarray:
    """The exp_indices to run, in an order that keeps work groups contiguous."""
    if shard is not None:
        return np.asarray(grid.shard(*shard), dtype=np.int64)
    if indices is None:
        return np.arange(len(grid), dtype=np.int64)
    idx = np.unique(np.asarray(indices, dtype=np.int64))  # sorted: exp_index order keeps groups contiguous
    if idx.size and (idx[0] < 0 or idx[-1] >= len(grid)):
        raise AlgridError(f"experiment index out of range [0, {len(grid)})")
    return idx


def work_groups(table: pa.Table) -> list[list[Task]]:
    """Split a decoded selection (in order) into runs of consecutive experiments that share work."""
    cols = {
        c: table.column(c).to_pylist()
        for c in ("exp_key", "exp_index", *table.column_names)
        if c in table.column_names
    }
    groups: list[list[Task]] = []
    last = None
    for j in range(table.num_rows):
        config = {d: cols[d][j] for d in DIMENSIONS}
        for d in OPTIONAL_DIMENSIONS:  # a column only when the grid sets the dimension; null = unset
            if d in cols and cols[d][j] is not None:
                config[d] = cols[d][j]
        key = tuple(config.get(d) for d in GROUP_DIMS)
        task = Task(exp_key=cols["exp_key"][j], exp_index=int(cols["exp_index"][j]), config=config, group=key)
        if key != last:
            groups.append([])
            last = key
        groups[-1].append(task)
    return groups


def longest_first(groups: list[list[Task]], settings: dict[str, Any]) -> list[list[Task]]:
    """Work groups in decreasing projected cost (the calibrated estimate), ties in their given order.

    Why: with several workers the run ends when the last group does; starting the expensive groups first leaves
    only cheap ones to even out the finish (longest-processing-time-first scheduling), so fewer groups have to be
    split between workers, which would cost each half its shared fits. Results do not depend on the order.
    """
    if len(groups) < 2:
        return groups
    from algrid.cost.estimate import experiment_costs

    try:
        costs = experiment_costs([t.config for g in groups for t in g], settings)
    except Exception:  # noqa: BLE001 - no estimate (e.g. an uncalibrated plugin learner): keep the shard order
        return groups
    totals, i = [], 0
    for g in groups:
        totals.append(sum(costs[i : i + len(g)]))
        i += len(g)
    order = sorted(range(len(groups)), key=lambda j: -totals[j])
    return [groups[j] for j in order]


def plan_chunks(groups: list[list[int]], n_threads: int, chunk_size: int | None = None) -> list[list[int]]:
    """Pack consecutive work groups (lists of exp_indices) into chunks of about ``chunk_size`` experiments.

    For backends that hand out whole runner calls (a Dask task per chunk). A group larger than a chunk is split
    (parallelism beats sharing when there are fewer groups than workers); otherwise groups stay whole.
    """
    total = sum(len(g) for g in groups)
    if total == 0:
        return []
    if chunk_size is None:
        threads = max(1, n_threads)
        chunk_size = max(
            1, math.ceil(total / (threads * CHUNKS_PER_THREAD)), min(MIN_CHUNK, math.ceil(total / threads))
        )
    chunks: list[list[int]] = []
    current: list[int] = []
    for group in groups:
        if len(group) > chunk_size:
            if current:
                chunks.append(current)
                current = []
            chunks.extend(group[i : i + chunk_size] for i in range(0, len(group), chunk_size))
            continue
        if current and len(current) + len(group) > chunk_size:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks


def index_groups(groups: list[list[Task]]) -> list[list[int]]:
    """Work groups as lists of exp_indices (what chunks are made of)."""
    return [[int(t.exp_index) for t in g if t.exp_index is not None] for g in groups]
