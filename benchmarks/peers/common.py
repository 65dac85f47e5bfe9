"""Shared plumbing of the peer baselines: read algrid's export, run experiments with joblib, write the curves.

Only the library under test differs between the peer scripts; everything here is what a researcher's own script
would contain anyway (load the data, build the learner, score the test split, run experiments in parallel).
Nothing here imports algrid: the split, pool order, start sets and seeds come from ``export.py``'s files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

#: Per experiment: (X, y, test ids, pool ids in algrid's pool order, classes, experiment) -> accuracy/f1 curves.
RunOne = Callable[[dict, dict, np.ndarray, np.ndarray], dict]


@lru_cache(maxsize=4)
def load_export(directory: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The experiments JSON and the arrays (loaded once per worker process)."""
    doc = json.loads((Path(directory) / "experiments.json").read_text())
    with np.load(Path(directory) / "data.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return doc, arrays


def make_estimator(name: str, seed: int) -> Any:
    """Stock scikit-learn with the settings algrid's learners use (single-threaded, seeded)."""
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed)
    if name == "lr":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000, random_state=seed)
    raise ValueError(f"peer baselines know learners rf and lr, not {name!r}")


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    """Test accuracy and weighted F1 (scikit-learn's metric functions)."""
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(y_true, y_pred)), float(
        f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )


def random_generator(exp: dict, cycle: int) -> np.random.Generator:
    """The generator algrid's loop gives ``random`` in ``cycle`` (1-based), rebuilt from the exported sequence."""
    s = exp["random_seeds"][cycle - 1]
    return np.random.default_rng(np.random.SeedSequence(s["entropy"], spawn_key=tuple(s["spawn_key"])))


def margin_scores(proba: np.ndarray) -> np.ndarray:
    """Gap between the two most probable classes (smaller = more uncertain)."""
    part = np.sort(proba, axis=1)
    return part[:, -1] - part[:, -2]


def entropy_scores(proba: np.ndarray) -> np.ndarray:
    from scipy.special import entr

    return entr(proba).sum(axis=1)


def experiment_inputs(directory: str, exp: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    doc, arrays = load_export(directory)
    d = doc["datasets"][exp["data"]]
    return arrays[f"X_{d['name']}"], arrays[f"y_{d['name']}"], d


def _timed(run_one: RunOne, directory: str, exp: dict) -> dict:
    import warnings

    warnings.simplefilter("ignore")  # convergence chatter, as algrid silences it
    X, y, d = experiment_inputs(directory, exp)
    c0 = time.process_time()
    out = run_one(exp, d, X, y)
    out["cpu_s"] = time.process_time() - c0
    return out


def main(run_one: RunOne, name: str, argv: list[str] | None = None) -> int:
    """``peer_x.py EXPORT_DIR --out curves.json [--jobs 2]``: every exported experiment, joblib over experiments."""
    ap = argparse.ArgumentParser(description=f"peer baseline: {name}")
    ap.add_argument("export", help="directory written by export.py")
    ap.add_argument("--out", required=True, help="JSON file: exp_key -> accuracy and f1_weighted curves")
    ap.add_argument("--jobs", type=int, default=2, help="joblib.Parallel n_jobs (processes)")
    args = ap.parse_args(argv)
    from joblib import Parallel, delayed

    doc, _ = load_export(args.export)
    exps = doc["experiments"]
    t0 = time.perf_counter()
    results = Parallel(n_jobs=args.jobs)(delayed(_timed)(run_one, args.export, e) for e in exps)
    wall = time.perf_counter() - t0
    curves = {e["exp_key"]: r for e, r in zip(exps, results, strict=True)}
    Path(args.out).write_text(json.dumps({"peer": name, "wall_s": wall, "curves": curves}))
    print(f"{name}: {len(exps)} experiments in {wall:.1f} s", file=sys.stderr)
    return 0
