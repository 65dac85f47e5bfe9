"""Export what the peer baselines need from algrid, once, as plain data (the peers never import algrid).

    python benchmarks/peers/export.py GRID.yaml OUT_DIR [--starts N]

Writes ``OUT_DIR/experiments.json`` (integers and names only: per dataset the test rows and the pool's row order;
per experiment the dataset, learner, strategy, batch size, cycles, algrid's exp_key, the start set, the learner's
``random_state`` and, for ``random``, each cycle's NumPy SeedSequence as (entropy, spawn_key)) and
``OUT_DIR/data.npz`` (each dataset's preprocessed features ``X_<name>`` and integer labels ``y_<name>``).
With these a peer runs *the same* experiment as algrid: same split, start set, pool order, learner seed and
random draws, so its learning curve can be compared with algrid's value for value.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def export(grid_path: Path, out: Path, starts: int | None = None) -> dict:
    from algrid.datasets import PREPROCESSING_VERSION, load_dataset
    from algrid.engine.seeds import _int_seed, seed_sequence, seed_sequences, strategy_setting
    from algrid.engine.split import initial_pool, pool_order, train_test_ids
    from algrid.grid import load_grid

    grid = load_grid(grid_path)
    s = grid.settings
    test_size, cycles = float(s["test_size"]), int(s["cycles"])
    preprocessing = s.get("preprocessing") or PREPROCESSING_VERSION
    configs = grid.configs(range(len(grid)))
    if starts is not None:
        configs = [c for c in configs if int(c["start"]) < starts]
    datasets: dict[str, dict] = {}
    arrays: dict[str, np.ndarray] = {}
    experiments = []
    for c in configs:
        name, split, seed = str(c["dataset"]), int(c["split"]), int(c["seed"])
        ds = load_dataset(name)
        train, test = train_test_ids(name, split, test_size)
        dkey = f"{name}/{split}/{seed}"
        if dkey not in datasets:
            datasets[dkey] = {
                "name": name,
                "classes": int(ds.info.classes),
                "test": test.tolist(),
                "pool_order": pool_order(name, split, test_size, seed).tolist(),
            }
            arrays[f"X_{name}"], arrays[f"y_{name}"] = np.asarray(ds.X), np.asarray(ds.y)
        ss = seed_sequence("start", name, split, test_size, c["initial_pool"], c["start"])
        start = initial_pool(ds.X, ds.y, train, c["initial_pool"], np.random.default_rng(ss), _int_seed(ss))
        # fair randomness: the loop derives the strategy's streams from the setting, never the strategy's name
        setting = strategy_setting(c, test_size, preprocessing)
        rng_seeds = []
        if c["strategy"] == "random":
            for cyc in seed_sequences(["strategy", *setting], range(1, cycles + 1)):
                child = cyc.spawn(2)[1]  # the loop's (int seed, generator) pair: the generator's sequence
                rng_seeds.append({"entropy": int(child.entropy), "spawn_key": list(child.spawn_key)})
        experiments.append(
            {
                "exp_key": c["exp_key"],
                "data": dkey,
                "learner": str(c["learner"]),
                "strategy": str(c["strategy"]),
                "batch_size": int(c["batch_size"]),
                "cycles": cycles,
                "start": start.tolist(),
                "learner_seed": _int_seed(seed_sequence("learner", name, split, c["learner"], seed)),
                "random_seeds": rng_seeds,
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    doc = {"grid": str(grid_path), "datasets": datasets, "experiments": experiments}
    (out / "experiments.json").write_text(json.dumps(doc))
    np.savez(out / "data.npz", **arrays)
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("grid", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--starts", type=int, default=None, help="keep start sets 0..N-1 only")
    args = ap.parse_args(argv)
    doc = export(args.grid, args.out, args.starts)
    print(f"exported {len(doc['experiments'])} experiments to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
