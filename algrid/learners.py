"""Registry of seeded scikit-learn learners.

Every learner runs single-threaded (``n_jobs=1``): algrid parallelises across experiments, and a learner that
grabs every core (as random forests did in the prior study) only oversubscribes the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier


def _rf(seed: int) -> Any:
    return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed)


def _svm_rbf(seed: int) -> Any:
    return SVC(kernel="rbf", probability=True, random_state=seed)


def _mlp(seed: int) -> Any:
    return MLPClassifier(hidden_layer_sizes=(100,), max_iter=200, random_state=seed)


def _lr(seed: int) -> Any:
    return LogisticRegression(max_iter=1000, random_state=seed)


def _dt(seed: int) -> Any:
    return DecisionTreeClassifier(random_state=seed)


def _knn(seed: int) -> Any:
    # n_neighbors is capped at fit time by the loop's wrapper when fewer samples are labelled.
    return KNeighborsClassifier(n_neighbors=5, n_jobs=1)


def _gnb(seed: int) -> Any:
    return GaussianNB()


def _hgb(seed: int) -> Any:
    return HistGradientBoostingClassifier(random_state=seed)


#: name -> (factory(seed) -> unfitted estimator, relative cost used to spread expensive work across shards)
LEARNERS: dict[str, tuple[Callable[[int], Any], float]] = {
    "rf": (_rf, 4.0),
    "svm_rbf": (_svm_rbf, 3.0),
    "mlp": (_mlp, 6.0),
    "lr": (_lr, 1.0),
    "dt": (_dt, 0.3),
    "knn": (_knn, 0.5),
    "gnb": (_gnb, 0.2),
    "hgb": (_hgb, 5.0),
}


def learner_names() -> list[str]:
    """Names accepted by the grid's ``learner`` dimension."""
    return list(LEARNERS)


def make_learner(name: str, seed: int) -> Any:
    """A fresh, unfitted, single-threaded estimator seeded with ``seed``."""
    try:
        factory, _ = LEARNERS[name]
    except KeyError:
        raise KeyError(f"unknown learner {name!r}; known: {', '.join(LEARNERS)}") from None
    return factory(int(seed) % (2**32))


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
        est = clone(self.estimator)
        params = est.get_params(deep=False)
        if "n_neighbors" in params and params["n_neighbors"] > len(y):
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

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.estimator_ is None:
            return np.full(len(X), self.constant_, dtype=self.classes_.dtype)
        return self.estimator_.predict(X)


def make_al_learner(name: str, seed: int, classes: np.ndarray) -> AllClassesClassifier:
    """The learner the AL loop fits: ``make_learner(name, seed)`` wrapped by :class:`AllClassesClassifier`."""
    return AllClassesClassifier(make_learner(name, seed), np.asarray(classes))
