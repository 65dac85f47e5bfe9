"""Sanity benchmark of the AL engine's quality: margin vs random with a random forest at batch 5.

Usage: python benchmarks/engine_quality.py [--starts 5] [--cycles 20] [--out benchmarks/results/engine.md]
Prints (and optionally writes) a Markdown table: per dataset the mean over start sets of accuracy_mean
(mean test accuracy over cycles 1..T) and accuracy_aulc for random and margin, and how many start sets margin won.

   or: python benchmarks/engine_quality.py --grid grids/demo.yaml --strategies random,oracle_greedy_k
runs every experiment of the grid whose strategy is listed and compares the strategies per dataset, averaged over
all other settings (learner, batch size, start set, ...).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from algrid.engine.cache import ModelCache
from algrid.engine.loop import run_experiment

DATASETS = ["wine", "breast_cancer", "ionosphere", "sonar", "vehicle", "segment", "pima", "banana", "digits"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--learner", default="rf")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--strategies", default="random,margin")
    ap.add_argument("--out", default=None)
    ap.add_argument("--grid", default=None)
    args = ap.parse_args()
    if args.grid:
        return compare_on_grid(args.grid, args.strategies.split(","), args.out)
    settings = {"cycles": args.cycles, "test_size": 0.4}
    strategies = args.strategies.split(",")
    cache = ModelCache(512)
    rows = []
    t0 = time.perf_counter()
    for ds in args.datasets.split(","):
        res: dict[str, list[tuple[float, float]]] = {s: [] for s in strategies}
        for start in range(args.starts):
            for strat in strategies:
                cfg = dict(
                    dataset=ds,
                    strategy=strat,
                    implementation="native",
                    batch_size=args.batch,
                    initial_pool="per_class:1",
                    learner=args.learner,
                    split=0,
                    start=start,
                    seed=0,
                )
                r = run_experiment(cfg, settings, cache=cache)
                assert r.status == "ok", r.error
                res[strat].append((r.summary["accuracy_mean"], r.summary["accuracy_aulc"]))
        arr = {s: np.array(v) for s, v in res.items()}
        base = arr[strategies[0]]
        row = [ds]
        for s in strategies:
            row += [f"{arr[s][:, 0].mean():.4f}", f"{arr[s][:, 1].mean():.4f}"]
        for s in strategies[1:]:
            row.append(f"{int((arr[s][:, 0] > base[:, 0]).sum())}/{args.starts}")
        rows.append(row)
        print(" | ".join(row), flush=True)
    header = ["dataset"]
    for s in strategies:
        header += [f"{s} acc_mean", f"{s} acc_aulc"]
    header += [f"{s} wins (acc_mean)" for s in strategies[1:]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    wins = sum(float(r[3]) > float(r[1]) for r in rows)
    note = (
        f"\n{strategies[1]} beats {strategies[0]} (mean accuracy over cycles 1..{args.cycles}, averaged over "
        f"{args.starts} start sets) on {wins} of {len(rows)} datasets. learner={args.learner}, batch={args.batch}, "
        f"initial_pool=per_class:1, split 0, test_size 0.4. Cache: {cache.stats()}. "
        f"Wall {time.perf_counter() - t0:.0f} s.\n"
    )
    text = "\n".join(lines) + "\n" + note
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


def compare_on_grid(path: str, strategies: list[str], out: str | None) -> None:
    from collections import defaultdict

    from algrid.grid.lazy import load_grid

    grid = load_grid(path)
    cache = ModelCache(512)
    vals: dict[tuple[str, str], list[float]] = defaultdict(list)
    pairs: dict[tuple, dict[str, float]] = defaultdict(dict)
    t0 = time.perf_counter()
    for i in range(len(grid)):
        config = grid[i]
        if config["strategy"] not in strategies:
            continue
        r = run_experiment(config, grid.settings, exp_key=grid.exp_key(config), cache=cache)
        assert r.status == "ok", r.error
        vals[(config["dataset"], config["strategy"])].append(r.summary["accuracy_mean"])
        rest = tuple(v for k, v in config.items() if k not in ("strategy", "implementation"))
        pairs[rest][config["strategy"]] = r.summary["accuracy_mean"]
    datasets = sorted({d for d, _ in vals})
    header = ["dataset", *(f"{s} acc_mean" for s in strategies), f"{strategies[1]} wins"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for d in datasets:
        won = [p for k, p in pairs.items() if k[0] == d and len(p) == len(strategies)]
        wins = sum(p[strategies[1]] > p[strategies[0]] for p in won)
        cells = [d, *(f"{np.mean(vals[(d, s)]):.4f}" for s in strategies), f"{wins}/{len(won)}"]
        lines.append("| " + " | ".join(cells) + " |")
    overall = {s: np.mean([v for (d, s2), vs in vals.items() if s2 == s for v in vs]) for s in strategies}
    text = "\n".join(lines) + (
        f"\n\nGrid {path}: accuracy_mean averaged over every other setting; overall "
        + ", ".join(f"{s} {overall[s]:.4f}" for s in strategies)
        + f". Cache: {cache.stats()}. Wall {time.perf_counter() - t0:.0f} s.\n"
    )
    print(text)
    if out:
        with open(out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
