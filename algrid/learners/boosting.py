"""Gradient-boosting learners from the optional extra ``algrid[boosting]``: ``xgb`` (XGBoost) and ``lgbm`` (LightGBM).

Both are seeded, single-threaded (algrid parallelises across experiments) and deterministic: the same labelled
set gives the same model bytes in any process. The libraries are imported only when a learner is built.

Choices that differ from the libraries' defaults, and why:

- ``xgb``: XGBoost requires labels ``0..k-1``; an AL labelled set often lacks a class (the all-classes wrapper maps
  the columns back), so :class:`EncodedXGBClassifier` encodes the labels it sees. ``tree_method="hist"`` (the
  default since 2.0, pinned so a future default cannot change results).
- ``lgbm``: LightGBM's ``min_child_samples=20`` grows no split below 40 rows, and AL starts from a handful, so
  ``min_child_samples=2`` (close to XGBoost's ``min_child_weight=1``); ``deterministic=True`` with
  ``force_row_wise=True`` is LightGBM's documented recipe for reproducible models; ``verbose=-1`` silences it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

#: Boosting rounds of both learners (the libraries' default).
N_ESTIMATORS = 100


class EncodedXGBClassifier(ClassifierMixin, BaseEstimator):
    """``xgboost.XGBClassifier`` on any integer labels (encoded to ``0..k-1`` at fit time, decoded on predict)."""

    def __init__(self, n_estimators: int = N_ESTIMATORS, random_state: int | None = None):
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> EncodedXGBClassifier:
        from xgboost import XGBClassifier

        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        self.model_ = XGBClassifier(
            n_estimators=self.n_estimators,
            tree_method="hist",
            n_jobs=1,
            random_state=self.random_state,
            verbosity=0,
        )
        self.model_.fit(np.asarray(X), codes)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(np.asarray(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def make_xgb(seed: int) -> Any:
    """The ``xgb`` learner."""
    return EncodedXGBClassifier(n_estimators=N_ESTIMATORS, random_state=seed)


def make_lgbm(seed: int) -> Any:
    """The ``lgbm`` learner."""
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=N_ESTIMATORS,
        min_child_samples=2,
        n_jobs=1,
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
