"""Peer (d): modAL's query functions on the researcher's own fitted estimator, ``joblib.Parallel(n_jobs=2)``.

modAL's ``ActiveLearner.teach`` fails on scikit-learn >= 1.8, so the loop fits the estimator itself and calls
``modAL.uncertainty.margin_sampling`` / ``entropy_sampling`` (documented as plain functions of a fitted classifier
and a pool) for the query. modAL reads the global NumPy RNG: it is seeded before each call.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def run_one(exp: dict, d: dict, X: np.ndarray, y: np.ndarray) -> dict:
    from modAL.uncertainty import entropy_sampling, margin_sampling

    query = {"margin": margin_sampling, "entropy": entropy_sampling}.get(exp["strategy"])
    test = np.asarray(d["test"])
    labeled = np.sort(np.asarray(exp["start"]))
    taken = set(labeled.tolist())
    pool = np.asarray([i for i in d["pool_order"] if i not in taken])
    acc, f1 = [], []
    model = None  # fitted at the end of cycle 0, queried from cycle 1 on
    for cycle in range(exp["cycles"] + 1):
        if cycle:
            if len(pool) == 0:
                break
            k = min(exp["batch_size"], len(pool))
            if query is None:
                pos = common.random_generator(exp, cycle).choice(len(pool), size=k, replace=False)
            else:
                np.random.seed(exp["learner_seed"] + cycle)
                pos, _ = query(model, X[pool], n_instances=k)
            labeled = np.sort(np.concatenate([labeled, pool[pos]]))
            pool = np.delete(pool, pos)
        model = common.make_estimator(exp["learner"], exp["learner_seed"]).fit(X[labeled], y[labeled])
        a, f = common.scores(y[test], model.predict(X[test]))
        acc.append(a)
        f1.append(f)
    return {"accuracy": acc, "f1_weighted": f1}


if __name__ == "__main__":
    sys.exit(common.main(run_one, "modAL query functions"))
