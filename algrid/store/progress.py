"""How far the whole grid is, for the summary of a run that covered only part of it (`algrid run --shard i/N`).

Why: a shard's own table says "pending 0" when the shard is done, while other shards' experiments may still be
pending; the summary must say how many of the whole grid are left. Vectorised like `algrid status` (uint64 keys,
chunks of the grid), so it stays cheap on grids of millions of experiments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from algrid.store.core import Store
from algrid.store.status import hex_to_keys

if TYPE_CHECKING:
    from algrid.grid import Grid

_CHUNK = 1_000_000


def grid_pending(store: Store, grid: Grid) -> int:
    """Experiments of ``grid`` without any run row in ``store`` (pending in any shard)."""
    stored = np.unique(hex_to_keys(store.read("runs", ["exp_key"]).column("exp_key").to_pylist()))
    done = 0
    for start in range(0, len(grid), _CHUNK):
        idx = np.arange(start, min(start + _CHUNK, len(grid)), dtype=np.int64)
        keys = grid.keys_from_codes(grid.codes(idx))
        if len(stored):
            pos = np.minimum(np.searchsorted(stored, keys), len(stored) - 1)
            done += int((stored[pos] == keys).sum())
    return len(grid) - done


def add_grid_progress(summary: Any, store: Store, grid: Grid) -> None:
    """Fill ``grid_total``, ``grid_pending`` and ``pending_elsewhere`` (outside this run's selection) of a
    RunSummary whose ``by_strategy`` is set."""
    pending_here = sum(int(r.get("pending") or 0) for r in summary.by_strategy)
    summary.grid_total = len(grid)
    summary.grid_pending = grid_pending(store, grid)
    summary.pending_elsewhere = max(0, summary.grid_pending - pending_here)
