"""The fast random forest must be scikit-learn's RandomForestClassifier, byte for byte, or not run at all."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import deterministic_part
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier

from algrid import config
from algrid.engine.loop import run_experiment
from algrid.learners import fast_forest, make_learner
from algrid.learners.fast_forest import FastRandomForestClassifier, fast_path_enabled, stock


def _problems(count: int, seed: int = 0):
    """Random problems of the shapes active learning sees: few rows, ties, 2-5 classes, odd labels."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        n, d, k = int(rng.integers(2, 120)), int(rng.integers(1, 25)), int(rng.integers(2, 6))
        X = rng.normal(size=(n + 40, d))
        if made % 3 == 0:
            X = np.round(X, 1)  # many tied thresholds
        labels = np.array([10, -3, 7, 0, 99])[:k] if made % 2 else np.array(list("abcde"))[:k]
        y = labels[rng.integers(0, k, n)]
        if len(np.unique(y)) < 2:
            continue
        made += 1
        yield X[:n], y, X, int(rng.integers(1, 40)), made


def test_fast_path_is_verified_on_this_scikit_learn():
    assert fast_path_enabled()


def test_predictions_are_byte_identical_to_scikit_learn():
    for X, y, X_new, trees, seed in _problems(60):
        ours = FastRandomForestClassifier(n_estimators=trees, n_jobs=1, random_state=seed).fit(X, y)
        ref = RandomForestClassifier(n_estimators=trees, n_jobs=1, random_state=seed).fit(X, y)
        assert ours._fast
        assert ours.predict_proba(X_new).tobytes() == ref.predict_proba(X_new).tobytes()
        assert (ours.predict(X_new) == ref.predict(X_new)).all()
        assert list(ours.classes_) == list(ref.classes_)
        # the trees themselves are usable scikit-learn trees
        assert (ours.apply(X_new) == ref.apply(X_new)).all()


@pytest.mark.parametrize(
    "params",
    [
        {"max_depth": 3},
        {"max_features": None},
        {"min_samples_leaf": 0.2},
        {"bootstrap": False},
        {"class_weight": "balanced"},
    ],
)
def test_other_settings_fall_back_to_scikit_learn(params):
    X, y, X_new, _, _ = next(_problems(1, seed=5))
    kw = {"n_estimators": 7, "n_jobs": 1, "random_state": 1, **params}
    ours = FastRandomForestClassifier(**kw).fit(X, y)
    assert not ours._fast
    ref = RandomForestClassifier(**kw).fit(X, y)
    assert ours.predict_proba(X_new).tobytes() == ref.predict_proba(X_new).tobytes()


def test_unseeded_forest_is_left_to_scikit_learn():
    X, y, _, _, _ = next(_problems(1, seed=5))
    assert not FastRandomForestClassifier(n_estimators=3).fit(X, y)._fast


def test_sample_weights_and_missing_values_fall_back():
    X, y, X_new, _, _ = next(_problems(1, seed=9))
    w = np.linspace(1, 2, len(y))
    ours = FastRandomForestClassifier(n_estimators=5, random_state=0).fit(X, y, sample_weight=w)
    assert not ours._fast
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    assert not FastRandomForestClassifier(n_estimators=5, random_state=0).fit(X_nan, y)._fast


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setenv("ALGRID_FAST_FOREST", "0")
    config.reload()
    X, y, _, _, _ = next(_problems(1))
    assert not FastRandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)._fast


def test_a_failed_self_check_turns_the_fast_path_off_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(fast_forest, "_verified", None)
    monkeypatch.setattr(fast_forest, "fallback_reason", None)
    monkeypatch.setattr(fast_forest, "_check_against_sklearn", lambda: "AttributeError: no _build_tree")
    X, y, _, _, _ = next(_problems(1))
    forest = FastRandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    assert not forest._fast and fast_forest.fit_path(forest) is False
    err = capsys.readouterr().err
    assert "fast random forest failed its self-check" in err and "no _build_tree" in err
    FastRandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""  # said once per process


def test_fit_path_names_the_forest_code():
    X, y, _, _, _ = next(_problems(1))
    assert fast_forest.fit_path(FastRandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)) is True
    assert fast_forest.fit_path(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)) is False
    assert fast_forest.fit_path(RandomForestClassifier(n_estimators=3)) is None  # not fitted
    assert fast_forest.fit_path(object()) is None


def test_clone_and_stock_keep_parameters():
    rf = make_learner("rf", 4)
    assert isinstance(rf, FastRandomForestClassifier)
    assert clone(rf).get_params() == rf.get_params()
    ref = stock(rf)
    assert type(ref) is RandomForestClassifier and ref.get_params() == rf.get_params()


@pytest.mark.parametrize("dataset, strategy", [("wine", "margin"), ("breast_cancer", "coreset")])
def test_experiment_curves_identical_with_fast_path_on_and_off(monkeypatch, dataset, strategy):
    exp_config = {
        "dataset": dataset,
        "strategy": strategy,
        "implementation": "native",
        "batch_size": 4,
        "initial_pool": "per_class:1",
        "learner": "rf",
        "split": 0,
        "start": 1,
        "seed": 0,
    }
    settings = {"cycles": 5, "test_size": 0.4}
    on = deterministic_part(run_experiment(exp_config, settings, cache=False))
    monkeypatch.setenv("ALGRID_FAST_FOREST", "0")
    config.reload()
    off = deterministic_part(run_experiment(exp_config, settings, cache=False))
    assert on == off
