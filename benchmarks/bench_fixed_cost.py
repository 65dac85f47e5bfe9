"""Fixed cost of ``algrid run`` (issue 19): a finished store, and start-up per experiment for small shards.

    python benchmarks/bench_fixed_cost.py [--reps 2] [--baseline-path /work/main] [--out results/fixed-cost.json]

For shards of 10, 50 and 200 experiments of a cheap grid (gnb and lr on iris/wine/breast_cancer, 10 cycles) it
runs ``algrid run --jobs 1`` into a fresh store and reports the process tree's CPU (cgroup, benchmarks/meter.py)
minus the experiments' own CPU (the store's ``cpu_s``): the fixed cost, in total and per experiment. Then the same
command on the finished store (nothing to do). With ``--baseline-path`` every measurement is repeated, interleaved,
with that algrid checkout on PYTHONPATH (e.g. main before this change).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from machine import machine_info  # noqa: E402
from meter import TreeMeter  # noqa: E402

GRID = {
    "name": "fixedcost",
    "description": "cheap experiments to measure the runner's fixed cost",
    "cycles": 10,
    "timeout_s": 600,
    "dimensions": {
        "dataset": ["iris", "wine", "breast_cancer", "pima", "vehicle"],
        "strategy": ["random", "margin", "entropy", "least_confidence"],
        "learner": ["gnb", "lr"],
        "batch_size": [5],
        "start": {"range": [0, 5]},
    },
}
SIZES = (10, 50, 200)  # experiments per shard


def _run(meter: TreeMeter, grid: Path, store: Path, shard: str, path: str) -> dict:
    env = {**os.environ, "PYTHONPATH": path}
    cmd = [sys.executable, "-m", "algrid", "run", str(grid), "--store", str(store), "--shard", shard,
           "--jobs", "1", "--no-progress", "--json"]  # fmt: skip
    m = meter.run(cmd, env=env)
    if m.returncode != 0:
        raise RuntimeError(m.stderr[-2000:])
    return {"cpu_s": m.cpu_s, "wall_s": m.wall_s, "ran": json.loads(m.stdout)["ran"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--baseline-path", default=None)
    ap.add_argument("--out", default=str(HERE / "results" / "fixed-cost.json"))
    args = ap.parse_args(argv)
    args.out = str(Path(args.out).resolve())
    import pyarrow.parquet as pq

    sides = {"this": str(ROOT)}
    if args.baseline_path:
        sides["baseline"] = args.baseline_path
    meter = TreeMeter()
    rows: dict[str, dict] = {s: {} for s in sides}
    with tempfile.TemporaryDirectory(prefix="algrid-fixed-") as tmp:
        os.chdir(tmp)  # `python -m algrid` puts the working directory before PYTHONPATH: no checkout here
        grid = Path(tmp) / "fixed.yaml"
        grid.write_text(yaml.safe_dump(GRID, sort_keys=False))
        for rep in range(args.reps):
            for n in SIZES:
                shard = f"0/{200 // n}"  # the grid has 200 experiments: shard 0 of 200/n holds n of them
                for side, path in sides.items():
                    store = Path(tmp) / f"{side}-{n}-{rep}"
                    m = _run(meter, grid, store, shard, path)
                    exp_cpu = sum(
                        pq.read_table(store / "runs", columns=["cpu_s"]).column("cpu_s").to_pylist()
                    )
                    again = _run(meter, grid, store, shard, path)
                    r = rows[side].setdefault(
                        str(n), {"fixed_cpu_s": [], "finished_store_cpu_s": [], "ran": m["ran"]}
                    )
                    r["fixed_cpu_s"].append(m["cpu_s"] - exp_cpu)
                    r["finished_store_cpu_s"].append(again["cpu_s"])
                    print(f"[{time.strftime('%H:%M:%S')}] {side} n={m['ran']}: tree {m['cpu_s']:.2f} CPU-s, "
                          f"experiments {exp_cpu:.2f}, fixed {m['cpu_s'] - exp_cpu:.2f}; finished store "
                          f"{again['cpu_s']:.2f} CPU-s", file=sys.stderr, flush=True)  # fmt: skip
    for side in rows.values():
        for r in side.values():
            r["median_fixed_cpu_s"] = statistics.median(r["fixed_cpu_s"])
            r["per_experiment_cpu_s"] = r["median_fixed_cpu_s"] / max(r["ran"], 1)
            r["median_finished_store_cpu_s"] = statistics.median(r["finished_store_cpu_s"])
    out = {"command": "python benchmarks/bench_fixed_cost.py " + " ".join(argv or sys.argv[1:]),
           "machine": machine_info(), "load": os.getloadavg(), "results": rows}  # fmt: skip
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
