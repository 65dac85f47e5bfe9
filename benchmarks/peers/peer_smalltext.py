"""Peer (c): small-text's ``PoolBasedActiveLearner``, ``joblib.Parallel(n_jobs=2)`` over experiments.

As small-text documents it: an ``SklearnDataset`` of the training rows, a ``SklearnClassifierFactory`` for the
estimator, ``BreakingTies`` (margin) or ``PredictionEntropy``, ``initialize_data`` with the start set, then
``query`` / ``update`` (which refits on the labelled rows, in the order they were labelled). ``random`` is a
``QueryStrategy`` subclass drawing from the exported generator over the pool in algrid's order (small-text's
``RandomSampling`` reads the global RNG and would draw differently). small-text reads the global NumPy RNG: it is
seeded before each call.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def _seeded_random(exp: dict, order_pos: np.ndarray):
    from small_text.query_strategies import QueryStrategy

    class SeededRandom(QueryStrategy):
        """The exported per-cycle generator over the unlabelled rows in algrid's pool order."""

        cycle = 0

        def query(self, clf, dataset, indices_unlabeled, indices_labeled, y, n=10):
            self.cycle += 1
            free = set(indices_unlabeled.tolist())
            pool = np.asarray([p for p in order_pos if p in free])
            rng = common.random_generator(exp, self.cycle)
            return pool[rng.choice(len(pool), size=n, replace=False)]

    return SeededRandom()


def run_one(exp: dict, d: dict, X: np.ndarray, y: np.ndarray) -> dict:
    from small_text import (
        BreakingTies,
        PoolBasedActiveLearner,
        PredictionEntropy,
        SklearnClassifierFactory,
        SklearnDataset,
    )

    test = np.asarray(d["test"])
    order = np.asarray(d["pool_order"])
    train = np.sort(order)
    position = {int(r): i for i, r in enumerate(train)}
    order_pos = np.asarray([position[int(r)] for r in order])
    classes = np.arange(d["classes"])
    data = SklearnDataset(X[train], y[train], target_labels=classes)
    test_set = SklearnDataset(X[test], y[test], target_labels=classes)
    if exp["strategy"] == "margin":
        qs = BreakingTies()
    elif exp["strategy"] == "entropy":
        qs = PredictionEntropy()
    else:
        qs = _seeded_random(exp, order_pos)
    est = common.make_estimator(exp["learner"], exp["learner_seed"])
    learner = PoolBasedActiveLearner(SklearnClassifierFactory(est, len(classes)), qs, data)
    start = np.sort(np.asarray([position[r] for r in exp["start"]]))
    np.random.seed(exp["learner_seed"])
    learner.initialize_data(start, y[train][start])
    acc, f1 = [], []
    a, f = common.scores(y[test], learner.classifier.predict(test_set))
    acc.append(a)
    f1.append(f)
    n_free = len(train) - len(start)
    for cycle in range(1, exp["cycles"] + 1):
        if n_free == 0:
            break
        k = min(exp["batch_size"], n_free)
        np.random.seed(exp["learner_seed"] + cycle)
        idx = learner.query(num_samples=k)
        learner.update(y[train][idx])
        n_free -= k
        a, f = common.scores(y[test], learner.classifier.predict(test_set))
        acc.append(a)
        f1.append(f)
    return {"accuracy": acc, "f1_weighted": f1}


if __name__ == "__main__":
    sys.exit(common.main(run_one, "small-text PoolBasedActiveLearner"))
