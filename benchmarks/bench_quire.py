"""QUIRE's cost growth: algrid's native closed form vs scikit-activeml's Quire (issue 19).

    python benchmarks/bench_quire.py [--pools 200,1000,5000] [--budget 120] [--out results/quire.json]

Per pool size p (synthetic: 10 features, 3 classes, 12 labelled rows, batch 10, one thread), the CPU seconds of one
query of
* ``quire@native`` (exact QUIRE on the whole pool, closed form),
* scikit-activeml's ``Quire`` on the whole pool (exact; the same selection is checked),
* ``quire@skactiveml`` as algrid runs it (scikit-activeml's Quire on a 500-candidate subsample of the pool),
medians of ``--reps`` queries; a library measurement that took longer than ``--budget`` seconds is not repeated
at larger pools, nor above ``--full-max`` rows (its cost is cubic: reported as null).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine_info  # noqa: E402


def _problem(p: int, d: int = 10, k: int = 3, n_lab: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(k, d))
    y = rng.integers(0, k, p + n_lab)
    y[:k] = np.arange(k)
    X = centers[y] + rng.normal(size=(len(y), d))
    return X[n_lab:], X[:n_lab], y[:n_lab], np.arange(k)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pools", default="200,1000,5000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--budget", type=float, default=120.0)
    ap.add_argument(
        "--full-max", type=int, default=1000, help="largest pool for scikit-activeml on the whole pool"
    )
    ap.add_argument("--out", default=str(HERE / "results" / "quire.json"))
    args = ap.parse_args(argv)
    import warnings

    from threadpoolctl import threadpool_limits

    from algrid.strategies import get_strategy
    from algrid.strategies.base import QueryContext

    warnings.simplefilter("ignore")
    native, adapter = get_strategy("quire", "native"), get_strategy("quire", "skactiveml")
    from skactiveml.pool import Quire

    rows: list[dict] = []
    skip_full = False
    with threadpool_limits(1):
        for p in (int(x) for x in args.pools.split(",")):
            X_pool, X_lab, y_lab, classes = _problem(p)

            def ctx(X_pool=X_pool, X_lab=X_lab, y_lab=y_lab, classes=classes):
                return QueryContext(model=None, X_pool=X_pool, X_labeled=X_lab, y_labeled=y_lab, classes=classes,
                                    batch_size=args.batch, rng=np.random.default_rng(0), seed=0,
                                    make_learner=lambda s: None)  # fmt: skip

            def full(X_pool=X_pool, X_lab=X_lab, y_lab=y_lab, classes=classes):
                X = np.vstack([X_lab, X_pool])
                y = np.r_[y_lab.astype(float), np.full(len(X_pool), np.nan)]
                return Quire(classes=classes, random_state=0).query(X, y, batch_size=args.batch) - len(X_lab)

            row: dict = {"pool": p}
            for name, fn in (("native", lambda: native.select(ctx())), ("adapter", lambda: adapter.select(ctx())),
                             ("skactiveml_full", full)):  # fmt: skip
                if name == "skactiveml_full" and (skip_full or p > args.full_max):
                    row[name] = None
                    continue
                times, picks = [], None
                for _ in range(args.reps):
                    t0 = time.process_time()
                    picks = np.asarray(fn())
                    times.append(time.process_time() - t0)
                    if times[-1] > args.budget / 3:
                        break
                row[name] = statistics.median(times)
                row[f"{name}_picks"] = picks.tolist()
                if name == "skactiveml_full" and row[name] > args.budget:
                    skip_full = True
            if row.get("skactiveml_full_picks") is not None:
                row["native_equals_skactiveml_full"] = row["native_picks"] == row["skactiveml_full_picks"]
            print(json.dumps({k: v for k, v in row.items() if not k.endswith("_picks")}), flush=True)
            rows.append(row)
    out = {"command": "python benchmarks/bench_quire.py " + " ".join(argv or sys.argv[1:]),
           "machine": machine_info(), "batch": args.batch, "rows": rows}  # fmt: skip
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
