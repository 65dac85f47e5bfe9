"""Native QUIRE selects what QUIRE's definition selects, and what scikit-activeml's Quire selects (issue 19)."""

from __future__ import annotations

import numpy as np
import pytest

from algrid.strategies import get_strategy
from algrid.strategies.base import QueryContext
from algrid.strategies.native_quire import quire_scores


def _problem(seed: int, n_pool: int, n_lab: int, k: int, d: int = 4):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.5, size=(k, d))
    y = rng.integers(0, k, n_pool + n_lab)
    y[:k] = np.arange(k)  # every class labelled at least once ...
    X = centers[y] + rng.normal(size=(len(y), d))
    return X[n_lab:], X[:n_lab], y[:n_lab], np.arange(k)


def _reference(X_pool, X_lab, y_lab, classes, lmbda=1.0):
    """QUIRE's objective computed literally: L = (K + lambda I)^-1, a fresh inverse of L_uu per candidate."""
    X = np.vstack([X_lab, X_pool])
    n_l = len(X_lab)
    d = X.shape[1]
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    L = np.linalg.inv(np.exp(-sq / d) + lmbda * np.eye(len(X)))
    lab = np.arange(n_l)
    pool = np.arange(n_l, len(X))
    scores = []
    for s in pool:
        u = pool[pool != s]
        L_uu_inv = np.linalg.inv(L[np.ix_(u, u)])
        best = -np.inf
        for c in classes:
            yc = np.where(y_lab == c, 1.0, -1.0)
            v = L[np.ix_(u, lab)] @ yc + L[u, s]
            best = max(best, yc @ L[np.ix_(lab, lab)] @ yc + 2 * L[s, lab] @ yc - v @ L_uu_inv @ v)
        scores.append(L[s, s] + best)
    return np.asarray(scores)


def _ctx(X_pool, X_lab, y_lab, classes, batch):
    return QueryContext(
        model=None,
        X_pool=X_pool,
        X_labeled=X_lab,
        y_labeled=y_lab,
        classes=classes,
        batch_size=batch,
        rng=np.random.default_rng(0),
        seed=0,
        make_learner=lambda s: None,
    )


CASES = [(0, 40, 4, 2), (1, 60, 9, 2), (2, 50, 6, 3), (3, 70, 12, 4), (4, 30, 5, 5)]


@pytest.mark.parametrize(("seed", "n_pool", "n_lab", "k"), CASES)
def test_scores_equal_the_definition(seed, n_pool, n_lab, k):
    X_pool, X_lab, y_lab, classes = _problem(seed, n_pool, n_lab, k)
    ref = _reference(X_pool, X_lab, y_lab, classes)
    np.testing.assert_allclose(quire_scores(X_pool, X_lab, y_lab, classes), ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("seed", "n_pool", "n_lab", "k"), CASES)
@pytest.mark.parametrize("batch", [1, 5])
def test_selection_equals_the_definition(seed, n_pool, n_lab, k, batch):
    X_pool, X_lab, y_lab, classes = _problem(seed, n_pool, n_lab, k)
    ref = _reference(X_pool, X_lab, y_lab, classes)
    picked = get_strategy("quire", "native").select(_ctx(X_pool, X_lab, y_lab, classes, batch))
    assert picked.tolist() == np.argsort(ref, kind="stable")[:batch].tolist()


@pytest.mark.parametrize(("seed", "n_pool", "n_lab", "k"), CASES)
def test_selection_equals_scikit_activeml(seed, n_pool, n_lab, k):
    pytest.importorskip("skactiveml")
    from skactiveml.pool import Quire

    X_pool, X_lab, y_lab, classes = _problem(seed, n_pool, n_lab, k)
    X = np.vstack([X_lab, X_pool])
    y = np.r_[y_lab.astype(float), np.full(len(X_pool), np.nan)]
    batch = 5
    theirs = Quire(classes=classes, random_state=0).query(X, y, batch_size=batch) - len(X_lab)
    ours = get_strategy("quire", "native").select(_ctx(X_pool, X_lab, y_lab, classes, batch))
    assert ours.tolist() == theirs.tolist()


def test_quire_runs_in_the_loop():
    from algrid.engine.loop import run_experiment

    cfg = dict(dataset="wine", strategy="quire", implementation="native", batch_size=5,
               initial_pool="per_class:1", learner="lr", split=0, start=0, seed=0)  # fmt: skip
    res = run_experiment(cfg, {"cycles": 3, "test_size": 0.4})
    assert res.status == "ok", res.error
    assert res.cycles_done == 3 and [len(s) for s in res.selected[1:]] == [5, 5, 5]
