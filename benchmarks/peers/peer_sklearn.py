"""Peer (a): a hand-written AL loop on stock scikit-learn, experiments spread with ``joblib.Parallel(n_jobs=2)``.

What a researcher writes without any AL library: fit, predict the test split, score the pool, take the top k
(a stable sort, so ties go to the earlier pool position), refit on the labelled rows in row-id order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def run_one(exp: dict, d: dict, X: np.ndarray, y: np.ndarray) -> dict:
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
            if exp["strategy"] == "random":
                pos = common.random_generator(exp, cycle).choice(len(pool), size=k, replace=False)
            else:
                proba = model.predict_proba(X[pool])
                if exp["strategy"] == "margin":
                    pos = np.argsort(common.margin_scores(proba), kind="stable")[:k]
                else:
                    pos = np.argsort(-common.entropy_scores(proba), kind="stable")[:k]
            labeled = np.sort(np.concatenate([labeled, pool[pos]]))
            pool = np.delete(pool, pos)
        model = common.make_estimator(exp["learner"], exp["learner_seed"]).fit(X[labeled], y[labeled])
        a, f = common.scores(y[test], model.predict(X[test]))
        acc.append(a)
        f1.append(f)
    return {"accuracy": acc, "f1_weighted": f1}


if __name__ == "__main__":
    sys.exit(common.main(run_one, "scikit-learn + hand-written loop"))
