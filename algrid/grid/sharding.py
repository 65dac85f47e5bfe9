"""Shard i of N, computed (never stored).

Scheme:
1. The grid is a sequence of *work groups*: experiments sharing dataset, learner, initial pool, split, start and seed
   (they differ only in batch size, strategy and implementation, and share the start-set fit and often many later
   fits). Each group is a contiguous exp_index range (see algrid.grid.lazy).
2. Groups are laid out in a golden-ratio stride order: position j holds group (j * s) mod G with s ~ 0.618 G,
   coprime with G. Consecutive positions land far apart in the grid, so every shard gets a spread of datasets and
   learners (the expensive values) instead of, say, all of the largest dataset.
3. The experiments, in that group order, are cut into N contiguous chunks of floor/ceil(T / N) experiments.
   Sizes therefore differ by at most one experiment, and only the (at most two) groups at a chunk's edges are
   split across shards; every other group stays whole in one shard.
Cost: O(G) integer arithmetic per call (G = number of groups <= experiments), no per-experiment state.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from algrid.errors import AlgridError


class Grid(Protocol):
    """What sharding needs of a grid (so this module sits below ``algrid.grid.lazy``, which uses it)."""

    @property
    def total(self) -> int: ...

    @property
    def group_offsets(self) -> np.ndarray: ...


_GOLDEN = (math.sqrt(5) - 1) / 2


#: Most shards a grid may be cut into (a SLURM array of a billion tasks is not a plan; N > experiments is harmless).
MAX_SHARDS = 10**9


def stride_for(n_groups: int) -> int:
    """A stride near 0.618 * G that is coprime with G (so j -> j*s mod G is a permutation)."""
    if n_groups <= 2:
        return 1
    s = max(1, round(n_groups * _GOLDEN))
    for delta in range(n_groups):
        for cand in (s + delta, s - delta):
            if 0 < cand < n_groups and math.gcd(cand, n_groups) == 1:
                return cand
    return 1


def shard_bounds(total: int, n: int) -> np.ndarray:
    """Chunk boundaries: shard i covers positions [b[i], b[i+1]) of the permuted experiment sequence."""
    _check_n(n)
    return (np.arange(n + 1, dtype=np.int64) * total) // n


def shard_range(total: int, i: int, n: int) -> tuple[int, int]:
    """Positions [lo, hi) of shard i of n, in O(1): N may be far larger than any array (Python ints)."""
    return (i * total) // n, ((i + 1) * total) // n


def shard_sizes(total: int, n: int) -> np.ndarray:
    """Size of every shard; max - min <= 1."""
    _check_n(n)
    return np.diff(shard_bounds(total, n))


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_SHARDS:
        raise ValueError(f"number of shards must be an integer in [1, {MAX_SHARDS:,}], got {n!r}")


def _groups(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(first exp_index, size) of every work group, in exp_index order."""
    starts, sizes = [], []
    for offset, n_groups, group_size in grid.group_offsets:
        starts.append(offset + np.arange(n_groups, dtype=np.int64) * group_size)
        sizes.append(np.full(n_groups, group_size, dtype=np.int64))
    return np.concatenate(starts), np.concatenate(sizes)


def shard_indices(grid: Grid, i: int, n: int) -> np.ndarray:
    """exp_indices of shard i of n, grouped so experiments that share work are consecutive."""
    _check_n(n)
    if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < n:
        raise ValueError(f"shard index must be in [0, {n}), got {i!r}")
    group_start, group_size = _groups(grid)
    n_groups = group_start.size
    order = (np.arange(n_groups, dtype=np.int64) * stride_for(n_groups)) % n_groups
    sizes = group_size[order]
    ends = np.cumsum(sizes)  # position just past each permuted group
    begins = ends - sizes
    lo, hi = shard_range(grid.total, i, n)
    if lo == hi:
        return np.empty(0, dtype=np.int64)
    first = int(np.searchsorted(ends, lo, side="right"))
    last = int(np.searchsorted(begins, hi, side="left"))  # exclusive
    sel = order[first:last]
    # experiment ranges [a, b) in exp_index space, clipped to the chunk at both edges
    a = group_start[sel] + np.maximum(lo - begins[first:last], 0)
    b = group_start[sel] + np.minimum(hi - begins[first:last], sizes[first:last])
    lengths = b - a
    out = np.repeat(a - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(lengths.sum())
    return out.astype(np.int64)


def shard_of(grid: Grid, indices: np.ndarray, n: int) -> np.ndarray:
    """Which shard of n each exp_index belongs to (inverse of shard_indices, vectorised)."""
    _check_n(n)
    idx = np.asarray(indices, dtype=np.int64)
    group_start, group_size = _groups(grid)
    n_groups = group_start.size
    order = (np.arange(n_groups, dtype=np.int64) * stride_for(n_groups)) % n_groups
    sizes = group_size[order]
    begins = np.cumsum(sizes) - sizes
    position_of_group = np.empty(n_groups, dtype=np.int64)
    position_of_group[order] = np.arange(n_groups)
    g = np.searchsorted(group_start, idx, side="right") - 1
    pos = begins[position_of_group[g]] + (idx - group_start[g])
    return (np.searchsorted(shard_bounds(grid.total, n), pos, side="right") - 1).astype(np.int64)


def parse_shard(spec: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"i/N"`` (0-based i) -> (i, N); raises AlgridError naming the value."""
    if spec is None or isinstance(spec, tuple):
        return spec
    i, sep, n = str(spec).partition("/")
    try:
        if not sep:
            raise ValueError
        i_, n_ = int(i), int(n)
    except ValueError:
        raise AlgridError(f"--shard: expected i/N such as 3/10, got {spec!r}") from None
    if n_ < 1 or not 0 <= i_ < n_:
        raise AlgridError(f"--shard: need 0 <= i < N, got {spec!r}")
    if n_ > MAX_SHARDS:
        raise AlgridError(
            f"--shard: N must be at most {MAX_SHARDS:,} (one shard per experiment at most), got {n_:,}"
        )
    return i_, n_
