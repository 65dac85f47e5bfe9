"""The fast forest's one-pass prediction (issue 19) returns exactly what predict and predict_proba return."""

from __future__ import annotations

import numpy as np
import pytest

from algrid.learners import make_al_learner
from algrid.learners.fast_forest import FastRandomForestClassifier


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_and_proba_equals_the_two_calls(n_classes: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = rng.integers(0, n_classes, size=40)
    X_test, X_pool = rng.normal(size=(17, 5)), rng.normal(size=(63, 5))
    forest = FastRandomForestClassifier(n_estimators=30, n_jobs=1, random_state=4).fit(X, y)
    pred, proba = forest.predict_and_proba(X_test, X_pool)
    assert pred.tobytes() == forest.predict(X_test).tobytes()
    assert proba.tobytes() == forest.predict_proba(X_pool).tobytes()
    # the loop's wrapper, with a class the labelled set lacks (its column stays 0)
    model = make_al_learner("rf", 4, np.arange(n_classes + 1)).fit(X, y)
    pred, proba = model.predict_and_proba(X_test, X_pool)
    assert pred.tobytes() == model.predict(X_test).tobytes()
    assert proba.tobytes() == model.predict_proba(X_pool).tobytes()
    assert proba.shape == (63, n_classes + 1) and not proba[:, n_classes].any()


def test_without_the_fast_path_it_defers_to_the_two_calls() -> None:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 2, size=30)
    slow = FastRandomForestClassifier(n_estimators=5, n_jobs=1, random_state=1, max_depth=3).fit(X, y)
    assert slow.predict_and_proba(X[:5], X[5:]) is None
    model = make_al_learner("lr", 0, np.arange(2)).fit(X, y)  # no one-pass method: the two calls
    pred, proba = model.predict_and_proba(X[:5], X[5:])
    assert pred.tobytes() == model.predict(X[:5]).tobytes()
    assert proba.tobytes() == model.predict_proba(X[5:]).tobytes()
