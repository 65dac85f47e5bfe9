"""algrid's fast random forest vs scikit-learn's RandomForestClassifier on active-learning-sized data.

    python benchmarks/bench_forest.py [--reps 5] [--out benchmarks/results/forest.json]

For labelled sets of 20-500 rows (what an AL loop fits) and 100 trees, the CPU time of ``fit`` and of
``predict_proba`` over 1,000 rows, median of ``--reps`` repetitions, scikit-learn first and algrid second in the same
invocation; every pair of models must give byte-identical probabilities (the script fails otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine_info  # noqa: E402

from algrid.learners.fast_forest import FastRandomForestClassifier, fast_path_enabled  # noqa: E402

SIZES = (20, 100, 500)
FEATURES, CLASSES, PREDICT_ROWS = 18, 4, 1000


def _cpu(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results" / "forest.json"))
    args = ap.parse_args(argv)
    if not fast_path_enabled():
        print(
            "the fast path is off in this process (ALGRID_FAST_FOREST=0 or a failed self-check)",
            file=sys.stderr,
        )
        return 1
    rng = np.random.default_rng(0)
    X = rng.normal(size=(max(SIZES) + PREDICT_ROWS, FEATURES))
    y = rng.integers(0, CLASSES, size=len(X))
    X_new = X[max(SIZES) :]
    rows = []
    for n in SIZES:
        row: dict = {"labelled_rows": n}
        models = {}
        for name, cls in (("sklearn", RandomForestClassifier), ("algrid", FastRandomForestClassifier)):

            def fit(cls=cls, name=name, n=n, models=models) -> None:
                models[name] = cls(n_estimators=100, n_jobs=1, random_state=n).fit(X[:n], y[:n])

            row[f"{name}_fit_ms"] = 1000 * _cpu(fit, args.reps)
            model = models[name]
            row[f"{name}_predict_ms"] = 1000 * _cpu(lambda model=model: model.predict_proba(X_new), args.reps)
        same = (
            models["sklearn"].predict_proba(X_new).tobytes()
            == models["algrid"].predict_proba(X_new).tobytes()
        )
        if not same:
            print(f"DIFFERENT probabilities at {n} rows", file=sys.stderr)
            return 1
        row["fit_speedup"] = row["sklearn_fit_ms"] / row["algrid_fit_ms"]
        row["predict_speedup"] = row["sklearn_predict_ms"] / row["algrid_predict_ms"]
        rows.append(row)
        print(
            f"{n:4d} rows: fit {row['sklearn_fit_ms']:.1f} -> {row['algrid_fit_ms']:.1f} ms "
            f"({row['fit_speedup']:.1f}x), predict_proba({PREDICT_ROWS}) {row['sklearn_predict_ms']:.1f} -> "
            f"{row['algrid_predict_ms']:.1f} ms ({row['predict_speedup']:.1f}x), identical probabilities"
        )
    doc = {
        "command": "python benchmarks/bench_forest.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "reps": args.reps,
        "features": FEATURES,
        "classes": CLASSES,
        "rows": rows,
        "machine": machine_info(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
