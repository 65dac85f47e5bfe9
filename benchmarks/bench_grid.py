"""Benchmark the grid layer on the paper-scale grid: `grid info`, `grid show`, and vectorised shard decoding.

Usage: python benchmarks/bench_grid.py [--grid grids/paper.yaml] [--repeats 5]
Prints a Markdown section (also written to benchmarks/results/grid.md; merged into BENCHMARKS.md by hand). The baseline is a plain per-row
Python decode (`grid.configs`, one dict per experiment) run in the same invocation on the same shard.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from algrid.grid.lazy import load_grid  # noqa: E402


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def cli_time(args: list[str], repeats: int) -> float:
    return median_time(
        lambda: subprocess.run([sys.executable, "-m", "algrid.cli", *args], check=True, capture_output=True),
        repeats,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grid", default=str(ROOT / "grids" / "paper.yaml"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shard-size", type=int, default=100_000)
    args = ap.parse_args()

    grid = load_grid(args.grid)
    n_shards = max(1, len(grid) // args.shard_size)
    shard = grid.shard(0, n_shards)
    t_load = median_time(lambda: load_grid(args.grid), args.repeats)
    t_shard = median_time(lambda: grid.shard(n_shards // 2, n_shards), args.repeats)
    t_decode = median_time(lambda: grid.decode(shard), args.repeats)
    sample = shard[:20_000]
    t_rows = median_time(lambda: grid.configs(sample), max(1, args.repeats // 2)) * (shard.size / sample.size)
    t_info = cli_time(["grid", "info", args.grid, "--json"], args.repeats)
    t_show = cli_time(["grid", "show", args.grid, str(len(grid) // 2), "--json"], args.repeats)
    import pyarrow

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        "## Grid layer (benchmarks/bench_grid.py)",
        "",
        f"Command: `python benchmarks/bench_grid.py --grid {Path(args.grid).relative_to(ROOT) if Path(args.grid).is_absolute() else args.grid} --repeats {args.repeats}`  ",
        f"Machine: {cpu}, {len(__import__('os').sched_getaffinity(0))} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pyarrow {pyarrow.__version__}. Median of {args.repeats} runs.",
        "",
        f"Grid: {len(grid):,} experiments, {len(grid.subrects)} sub-rectangles, {grid.excluded:,} excluded.",
        "",
        "| operation | median | rate |",
        "|---|---|---|",
        f"| `algrid grid info --json` (process start to exit) | {t_info:.3f} s | |",
        f"| `algrid grid show INDEX --json` (process start to exit) | {t_show:.3f} s | |",
        f"| `load_grid` (parse + validate + index, in-process) | {t_load * 1e3:.1f} ms | |",
        f"| `grid.shard(i, {n_shards})` ({shard.size:,} indices) | {t_shard * 1e3:.2f} ms | |",
        f"| vectorised decode of a {shard.size:,}-experiment shard to a table (with exp_key) | {t_decode * 1e3:.1f} ms "
        f"| {shard.size / t_decode / 1e6:.2f} M configs/s |",
        f"| baseline: per-row Python decode (dict per experiment) | {t_rows * 1e3:.0f} ms "
        f"| {shard.size / t_rows / 1e6:.2f} M configs/s |",
        "",
        f"Vectorised / per-row speed-up: {t_rows / t_decode:.1f}x.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    (ROOT / "benchmarks" / "results" / "grid.md").write_text(text)


if __name__ == "__main__":
    main()
