"""The wrapper every AL loop fits: any labelled set works, every class always has a probability column."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone


class AllClassesClassifier(ClassifierMixin, BaseEstimator):
    """Fits on any labelled set an AL loop can reach and always reports every class of the dataset.

    Why: a random start set may hold a single class, a bootstrap sample may miss one, and k-NN cannot use more
    neighbours than labelled samples. Strategies and metrics need ``predict_proba`` columns for *all* classes in
    a fixed order, so this wrapper maps the inner estimator's columns onto ``classes`` (missing classes get 0),
    predicts the only class seen when fewer than two were seen, and caps ``n_neighbors`` at the labelled count.
    """

    def __init__(self, estimator: Any = None, classes: Any = None):
        self.estimator = estimator
        self.classes = classes

    def fit(self, X: np.ndarray, y: np.ndarray) -> AllClassesClassifier:
        if getattr(self, "_frozen", False):
            raise RuntimeError(
                "this fitted model is shared between experiments; fit a ctx.make_learner() instead"
            )
        self.classes_ = np.asarray(self.classes)
        y = np.asarray(y)
        seen = np.unique(y)
        if len(seen) < 2:
            self.estimator_ = None
            self.constant_ = seen[0] if len(seen) else self.classes_[0]
            return self
        # A wrapper made by make_al_learner owns its fresh estimator and fits it without a clone (scikit-learn's
        # clone walks constructor signatures: ~0.3 ms per fit, more than a small random forest's fit). Anything
        # else, and a k-NN whose k must shrink (the template keeps its k), is cloned first.
        est = self.estimator
        fresh = self.__dict__.pop("_owns_estimator", False)
        k = getattr(est, "n_neighbors", None)
        cap = isinstance(k, int) and k > len(y)
        if not fresh or cap:
            est = clone(est)
        if cap:
            est.set_params(n_neighbors=len(y))
        est.fit(X, y)
        self.estimator_ = est
        self.columns_ = np.searchsorted(self.classes_, est.classes_)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros((len(X), len(self.classes_)), dtype=np.float64)
        if self.estimator_ is None:
            out[:, np.searchsorted(self.classes_, self.constant_)] = 1.0
        else:
            out[:, self.columns_] = self.estimator_.predict_proba(X)
        return out

    def predict_and_proba(self, X: np.ndarray, X_other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(predict(X), predict_proba(X_other))``: one pass over both row sets when the estimator offers it
        (``predict_and_proba``, e.g. the fast forest: one traversal per tree instead of two), else the two calls.
        The values are those of the two calls either way."""
        joint = getattr(self.estimator_, "predict_and_proba", None) if self.estimator_ is not None else None
        both = joint(X, X_other) if joint is not None else None
        if both is None:
            return self.predict(X), self.predict_proba(X_other)
        pred, inner = both
        out = np.zeros((len(X_other), len(self.classes_)), dtype=np.float64)
        out[:, self.columns_] = inner
        return pred, out

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.estimator_ is None:
            return np.full(len(X), self.constant_, dtype=self.classes_.dtype)
        return self.estimator_.predict(X)
