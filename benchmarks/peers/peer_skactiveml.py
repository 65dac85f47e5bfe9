"""Peer (b): a plain scikit-activeml loop, ``joblib.Parallel(n_jobs=2)`` over experiments.

As scikit-activeml documents it: the training set with a missing label (-1) for unlabelled rows, a
``SklearnClassifier`` wrapping the estimator (it fits on the labelled rows only, in row order), and
``UncertaintySampling(method="margin_sampling" | "entropy").query(X, y, clf, fit_clf=False, candidates=...)``
for the batch. ``random`` draws from the exported generator, as algrid's does (scikit-activeml's
``RandomSampling`` would make different draws, and random sampling is not what is being compared).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

MISSING = -1


def run_one(exp: dict, d: dict, X: np.ndarray, y: np.ndarray) -> dict:
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling

    test = np.asarray(d["test"])
    order = np.asarray(d["pool_order"])  # the training rows in algrid's pool order
    train = np.sort(order)
    X_train, y_true = X[train], y[train]
    position = {int(r): i for i, r in enumerate(train)}
    y_train = np.full(len(train), MISSING)
    for r in exp["start"]:
        y_train[position[r]] = y[r]
    classes = np.arange(d["classes"])
    method = {"margin": "margin_sampling", "entropy": "entropy"}.get(exp["strategy"])
    qs = (
        UncertaintySampling(method=method, missing_label=MISSING, random_state=exp["learner_seed"])
        if method
        else None
    )
    acc, f1 = [], []
    clf = None  # fitted at the end of cycle 0, queried from cycle 1 on
    for cycle in range(exp["cycles"] + 1):
        if cycle:
            cand = np.asarray([position[int(r)] for r in order if y_train[position[int(r)]] == MISSING])
            if len(cand) == 0:
                break
            k = min(exp["batch_size"], len(cand))
            if qs is None:
                idx = cand[common.random_generator(exp, cycle).choice(len(cand), size=k, replace=False)]
            else:
                idx = qs.query(X_train, y_train, clf, fit_clf=False, candidates=cand, batch_size=k)
            y_train[idx] = y_true[idx]
        est = common.make_estimator(exp["learner"], exp["learner_seed"])
        clf = SklearnClassifier(est, classes=classes, missing_label=MISSING, random_state=exp["learner_seed"])
        clf.fit(X_train, y_train)
        a, f = common.scores(y[test], clf.predict(X[test]))
        acc.append(a)
        f1.append(f)
    return {"accuracy": acc, "f1_weighted": f1}


if __name__ == "__main__":
    sys.exit(common.main(run_one, "scikit-activeml UncertaintySampling"))
