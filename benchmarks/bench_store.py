"""Store benchmark: commit throughput, done-set read, status, verify and compact on a synthetic store.

Usage: python benchmarks/bench_store.py [--out DIR] [--cycles 10]
Writes synthetic ExperimentResults (no AL loop) for a 24,000-experiment grid in parts of 16 experiments (the runner's
default flush), then times the operations runners and users do. Results: section 3 of benchmarks/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from algrid.engine.metrics import summarize
from algrid.grid.lazy import grid_from_dict
from algrid.results import CURVE_METRICS, ExperimentResult
from algrid.store import DoneTracker, Store
from algrid.store.compact import compact
from algrid.store.status import store_status
from algrid.store.verify import verify


def _grid(cycles: int):
    return grid_from_dict(
        {
            "name": "bench",
            "cycles": cycles,
            "dimensions": {
                "dataset": ["iris", "wine", "breast_cancer", "digits"],
                "strategy": ["random", "margin", "entropy", "least_confidence"],
                "implementation": ["native"],
                "batch_size": [1, 5, 10, 20, 50],
                "initial_pool": ["per_class:1"],
                "learner": ["lr", "gnb", "dt"],
                "split": {"range": [0, 5]},
                "start": {"range": [0, 20]},
                "seed": [0],
            },
        }
    )


def _result(grid, i: int, key: str, cycles: int) -> ExperimentResult:
    curve = [
        {"n_labeled": 2 + c, **{m: 0.5 + c * 1e-3 for m in CURVE_METRICS}, "fit_s": 0.01, "query_s": 0.01}
        for c in range(cycles + 1)
    ]
    return ExperimentResult(
        exp_key=key,
        config=grid[i],
        curve=curve,
        selected=[[i, i + 1, i + 2] for _ in range(cycles + 1)],
        summary=summarize(curve),  # consistent with the curve: verify cross-checks them
        exp_index=i,
    )


def timed(label: str, fn, rows: list):
    t = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - t))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    ap.add_argument("--cycles", type=int, default=10)
    args = ap.parse_args()
    root = args.out or Path(tempfile.mkdtemp()) / "bench"
    shutil.rmtree(root, ignore_errors=True)
    grid = _grid(args.cycles)
    n = len(grid)
    keys = grid.decode(range(n))["exp_key"].to_pylist()
    store = Store.create_or_open(root, grid)
    rows: list[tuple[str, float]] = []

    def write() -> None:
        w = store.writer(flush_every=16, flush_seconds=1e9)
        for i in range(n):
            w.add(_result(grid, i, keys[i], args.cycles))
        w.flush()

    timed(f"commit {n} experiments in parts of 16 ({n // 16} parts)", write, rows)
    timed("done-set read (exp_key, status), many parts", lambda: store.status_table(), rows)
    timed(
        "DoneTracker for one 1/100 shard, many parts",
        lambda: DoneTracker(store, interest=keys[: n // 100]),
        rows,
    )
    timed("algrid status (whole grid), many parts", lambda: store_status(root), rows)
    rep = timed("algrid store verify, many parts", lambda: verify(root), rows)
    assert rep.ok, rep.problems
    res = timed("algrid store compact", lambda: compact(root), rows)
    timed("done-set read, compacted", lambda: store.status_table(), rows)
    timed("algrid status, compacted", lambda: store_status(root), rows)
    timed("algrid store verify, compacted", lambda: verify(root), rows)
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    print(f"| operation ({n} experiments x {args.cycles + 1} curve rows) | seconds |")
    print("|---|---|")
    for label, s in rows:
        print(f"| {label} | {s:.2f} |")
    print(
        f"\ncompacted {res['parts_before']} -> {res['parts_after']} parts; store size {size / 2**20:.1f} MiB"
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
