"""Generate a large synthetic result store (schema v1) for benchmarking the analysis layer.

Default: 40 datasets x 7 strategies x 4 implementations x 6 batch sizes x 3 learners x 5 splits x 20 start sets
= 2,016,000 experiments, 40 cycles each (82.7 million curve rows), written as Parquet parts by
`algrid.analysis.synthetic.write_synthetic_store` (vectorised NumPy + PyArrow, no per-experiment Python).
Query lists are capped at --max-selected ids per cycle to bound disk use (the real store keeps the full batch);
about 2% of experiments fail or time out so the missing-data paths are exercised.

    python benchmarks/make_synthetic_store.py /tmp/algrid-bench-store            # ~2M experiments
    python benchmarks/make_synthetic_store.py /tmp/small --starts 2 --cycles 10  # ~200k
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from algrid.analysis.synthetic import write_synthetic_store

STRATEGIES = ["random", "least_confidence", "margin", "entropy", "coreset", "badge", "qbc"]
IMPLEMENTATIONS = ["native", "modal", "smalltext", "skactiveml"]
BATCH_SIZES = [1, 5, 10, 20, 50, 100]
LEARNERS = ["rf", "svm_rbf", "mlp"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path, help="output directory (put it under /tmp, not in the repository)")
    ap.add_argument("--datasets", type=int, default=40)
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--cycles", type=int, default=40)
    ap.add_argument("--parts", type=int, default=24, help="Parquet parts per table")
    ap.add_argument("--max-selected", type=int, default=5, help="cap on selected ids stored per cycle")
    ap.add_argument("--no-queries", action="store_true", help="skip the queries table")
    ap.add_argument("--force", action="store_true", help="replace an existing store")
    args = ap.parse_args(argv)
    if args.store.exists():
        if not args.force:
            print(f"{args.store} exists (use --force to replace it)", file=sys.stderr)
            return 1
        shutil.rmtree(args.store)
    dims = {
        "dataset": [f"ds{i:03d}" for i in range(args.datasets)],
        "strategy": STRATEGIES,
        "implementation": IMPLEMENTATIONS,
        "batch_size": BATCH_SIZES,
        "initial_pool": ["per_class:1"],
        "learner": LEARNERS,
        "split": list(range(args.splits)),
        "start": list(range(args.starts)),
        "seed": [0],
    }
    effects = {
        "strategy": {
            "random": 0.0,
            "least_confidence": 0.03,
            "margin": 0.05,
            "entropy": 0.02,
            "coreset": 0.01,
            "badge": 0.045,
            "qbc": 0.015,
            "margin@modal": 0.04,
            "entropy@smalltext": 0.0,
        },
        "learner": {"rf": 0.0, "svm_rbf": -0.04, "mlp": -0.02},
        "batch_size": {1: 0.02, 5: 0.015, 10: 0.01, 20: 0.0, 50: -0.02, 100: -0.04},
        "dataset": {f"ds{i:03d}": (i % 10) * 0.02 - 0.1 for i in range(args.datasets)},
    }
    t0 = time.perf_counter()
    info = write_synthetic_store(
        args.store,
        dims,
        cycles=args.cycles,
        effects=effects,
        interactions=[("learner", "mlp", {"coreset": 0.05}), ("batch_size", 100, {"badge": 0.03})],
        noise=0.03,
        timeout={"qbc": 0.05, "coreset@skactiveml": 0.05},
        fail={"badge@modal": 0.02},
        cost={"coreset": 20.0, "badge": 10.0, "qbc": 8.0, "random": 0.05},
        parts=args.parts,
        queries=not args.no_queries,
        max_selected=args.max_selected,
        shared_selection=["learner"],
    )
    seconds = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in args.store.rglob("*.parquet"))
    info.pop("labels")
    info.update(cycles=args.cycles, seconds=round(seconds, 1), bytes=size)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
