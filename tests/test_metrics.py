"""Per-cycle metrics agree with scikit-learn; curve summaries follow the documented definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
)

from algrid.engine.loop import run_experiment, train_test_ids
from algrid.engine.metrics import classification_metrics, summarize, summary_keys
from algrid.learners import make_al_learner
from algrid.results import CURVE_METRICS, SUMMARIES, SUMMARY_METRICS


def _sklearn(y_true, y_pred, k):
    labels = np.arange(k)
    kw = {"labels": labels, "zero_division": 0}
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "f1_macro": f1_score(y_true, y_pred, average="macro", **kw),
        "f1_weighted": f1_score(y_true, y_pred, average="weighted", **kw),
        "precision_macro": precision_score(y_true, y_pred, average="macro", **kw),
        "recall_macro": recall_score(y_true, y_pred, average="macro", **kw),
    }


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_sklearn_including_unpredicted_classes(seed):
    rng = np.random.default_rng(seed)
    k = 5
    y_true = rng.integers(0, k, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 3, 200))  # classes 3, 4 rarely predicted
    ours = classification_metrics(y_true, y_pred, k)
    assert set(ours) == set(CURVE_METRICS)
    for name, value in _sklearn(y_true, y_pred, k).items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name


@pytest.mark.parametrize("k", range(1, 8))
def test_python_and_numpy_metric_paths_agree_bit_for_bit(k):
    """Few-class metrics are computed in plain Python (cheaper right after a fit); stored curves must keep the
    exact bits of the NumPy path, including absent, never-predicted and perfectly predicted classes."""
    from algrid.engine.metrics import _metrics_numpy, _metrics_python, confusion

    rng = np.random.default_rng(k)
    for trial in range(300):
        n = int(rng.integers(1, 400))
        y_true = rng.integers(0, max(1, k - trial % 3), n)  # some classes absent from the test set
        noise = rng.integers(0, max(1, k - trial % 2), n)
        y_pred = np.where(rng.random(n) < rng.random(), y_true, noise)
        cm = confusion(y_true, y_pred, k)
        for extra in (False, True):
            assert _metrics_python(cm.tolist(), extra) == _metrics_numpy(cm, extra)


def test_metrics_never_predicted_class_counts_zero():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 1])  # class 2 never predicted
    m = classification_metrics(y_true, y_pred, 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision_macro"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["recall_macro"] == pytest.approx((1 + 1 + 0) / 3)


def test_weighted_recall_equals_accuracy_on_shipped_data():
    """On wine's test split with a real fitted model, weighted recall (ours and sklearn's) equals accuracy."""
    train, test = train_test_ids("wine", 0, 0.4)
    from algrid.datasets import load_dataset

    ds = load_dataset("wine")
    model = make_al_learner("lr", 0, np.arange(3)).fit(ds.X[train[::7]], ds.y[train[::7]])
    pred = model.predict(ds.X[test])
    ours = classification_metrics(ds.y[test], pred, 3, extra=True)
    assert ours["recall_weighted"] == pytest.approx(ours["accuracy"], abs=1e-12)
    assert recall_score(ds.y[test], pred, average="weighted") == pytest.approx(ours["accuracy"], abs=1e-12)
    assert 0.5 < ours["accuracy"] < 1.0 or ours["accuracy"] == 1.0


def test_curve_accuracy_matches_sklearn_on_recomputed_model():
    """The loop's cycle-0 metrics are those of a model fitted on the start set (checked with sklearn)."""
    cfg = dict(
        dataset="wine",
        strategy="random",
        implementation="native",
        batch_size=3,
        initial_pool="per_class:2",
        learner="lr",
        split=1,
        start=2,
        seed=0,
    )
    res = run_experiment(cfg, {"cycles": 1, "test_size": 0.4}, cache=False)
    assert res.status == "ok", res.error
    from algrid.datasets import load_dataset

    ds = load_dataset("wine")
    _, test = train_test_ids("wine", 1, 0.4)
    start = np.array(res.selected[0])
    from algrid.engine.loop import seed_sequence

    lseed = int(seed_sequence("learner", "wine", 1, "lr", 0).generate_state(1, dtype=np.uint32)[0])
    model = make_al_learner("lr", lseed, np.arange(3)).fit(ds.X[start], ds.y[start])
    expected = _sklearn(ds.y[test], model.predict(ds.X[test]), 3)
    for name, value in expected.items():
        assert res.curve[0][name] == pytest.approx(value, abs=1e-12)


def test_summaries_definitions():
    curve = [{"accuracy": v} for v in [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0]]
    s = summarize(curve, metrics=["accuracy"])
    rounds = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0])
    assert s["accuracy_mean"] == pytest.approx(rounds.mean())
    assert s["accuracy_first5"] == pytest.approx(rounds[:5].mean())
    assert s["accuracy_last5"] == pytest.approx(rounds[-5:].mean())
    assert s["accuracy_final"] == 1.0
    # trapezoid over cycles 0..7 divided by 7
    area = sum((a + b) / 2 for a, b in zip([0.0, *rounds[:-1]], rounds, strict=True))
    assert s["accuracy_aulc"] == pytest.approx(area / 7)


@pytest.mark.parametrize("length", [2, 3, 6, 9, 10, 17, 31, 101])
def test_summaries_equal_numpy_mean_and_trapezoid_bit_for_bit(length):
    """Stored summaries must not move by one bit when their arithmetic is rewritten for speed: equal to
    ``ndarray.mean`` and ``np.trapezoid``, exactly (pairwise sums from 9 values on)."""
    rng = np.random.default_rng(length)
    curve = [
        {m: float(v) for m, v in zip(SUMMARY_METRICS, rng.random(len(SUMMARY_METRICS)), strict=True)}
        for _ in range(length)
    ]
    s = summarize(curve)
    for metric in SUMMARY_METRICS:
        values = np.array([row[metric] for row in curve])
        rounds = values[1:]
        assert s[f"{metric}_mean"] == float(rounds.mean())
        assert s[f"{metric}_aulc"] == float(np.trapezoid(values) / len(rounds))
        assert s[f"{metric}_first5"] == float(rounds[:5].mean())
        assert s[f"{metric}_last5"] == float(rounds[-5:].mean())


def test_aulc_is_normalised_to_unit_interval():
    perfect = summarize([{"accuracy": 1.0}] * 11, metrics=["accuracy"])
    assert perfect["accuracy_aulc"] == pytest.approx(1.0)
    zero = summarize([{"accuracy": 0.0}] * 11, metrics=["accuracy"])
    assert zero["accuracy_aulc"] == 0.0


def test_summaries_of_short_and_empty_curves():
    only_start = summarize([{"accuracy": 0.4}], metrics=["accuracy"])
    assert all(only_start[f"accuracy_{s}"] == 0.4 for s in SUMMARIES)
    two = summarize([{"accuracy": 0.4}, {"accuracy": 0.8}], metrics=["accuracy"])
    assert two["accuracy_first5"] == two["accuracy_last5"] == two["accuracy_final"] == 0.8
    assert two["accuracy_aulc"] == pytest.approx(0.6)
    empty = summarize([], metrics=["accuracy"])
    assert all(math.isnan(v) for v in empty.values())


def test_summary_keys_cover_every_metric_and_summary():
    keys = summary_keys()
    assert len(keys) == len(SUMMARY_METRICS) * len(SUMMARIES)
    assert "f1_weighted_aulc" in keys and "accuracy_mean" in keys
