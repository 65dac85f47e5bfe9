"""Registry of seeded scikit-learn learners.

Every learner runs single-threaded (``n_jobs=1``): algrid parallelises across experiments, and a learner that
grabs every core (as random forests did in the prior study) only oversubscribes the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from algrid.learners.defined import defined_cost, defined_factory

# scikit-learn is imported inside each factory: validating a grid only needs the names, and importing
# sklearn.ensemble & co. costs a second per process.


def _rf(seed: int) -> Any:
    # scikit-learn's RandomForestClassifier with the same results, faster on small labelled sets (fast_forest.py).
    from algrid.learners.fast_forest import FastRandomForestClassifier

    return FastRandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed)


def _svm_rbf(seed: int) -> Any:
    from sklearn.svm import SVC

    return SVC(kernel="rbf", probability=True, random_state=seed)


def _mlp(seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(100,), max_iter=200, random_state=seed)


def _mlp_paper(seed: int) -> Any:
    # The published study's MLP (Gonsior et al. 2025). learning_rate only acts with solver="sgd", so with adam
    # this is scikit-learn's default MLP except max_iter=1000 (algrid's `mlp` stops at 200).
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(100,),
        activation="relu",
        solver="adam",
        learning_rate="adaptive",
        max_iter=1000,
        warm_start=False,
        early_stopping=False,
        random_state=seed,
    )


def _svm_rbf_v2(seed: int) -> Any:
    # svm_rbf without SVC(probability=True), which scikit-learn 1.11 removes: see algrid.learners.sigmoid_svc.
    from algrid.learners.sigmoid_svc import SigmoidCalibratedSVC

    return SigmoidCalibratedSVC(random_state=seed)


def _xgb(seed: int) -> Any:
    from algrid.learners.boosting import make_xgb

    return make_xgb(seed)


def _lgbm(seed: int) -> Any:
    from algrid.learners.boosting import make_lgbm

    return make_lgbm(seed)


def _lr(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000, random_state=seed)


def _dt(seed: int) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=seed)


def _knn(seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    # n_neighbors is capped at fit time by the loop's wrapper when fewer samples are labelled.
    return KNeighborsClassifier(n_neighbors=5, n_jobs=1)


def _gnb(seed: int) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB()


def _hgb(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

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
    # New definitions get new names, so the exp_keys of stored results never change (docs/learners.md). Costs sit
    # on this table's scale by their measured fit cost at 100 rows x 16 features x 3 classes (x lr): svm_rbf 1.1,
    # rf 2.9, xgb 8.4, svm_rbf_v2 8.6, hgb 17.6, lgbm 22, mlp 25, mlp_paper ~2x mlp.
    "mlp_paper": (_mlp_paper, 7.0),
    "svm_rbf_v2": (_svm_rbf_v2, 4.5),
    "xgb": (_xgb, 4.5),
    "lgbm": (_lgbm, 5.5),
}


#: One-line descriptions of plugin learners (for `algrid learners`).
LEARNER_NOTES: dict[str, str] = {}

#: The learners algrid ships (a plugin or a grid's ``learners:`` section cannot take these names).
BUILTIN_LEARNERS: frozenset[str] = frozenset(LEARNERS)


def learner_names() -> list[str]:
    """Names accepted by the grid's ``learner`` dimension (built-in and plugin learners)."""
    return list(LEARNERS)


def add_learner(name: str, factory: Callable[[int], Any], relative_cost: float = 1.0) -> None:
    """Add a learner (plugins call this through :func:`algrid.register_learner`); ValueError if taken."""
    if name in LEARNERS:
        raise ValueError(f"learner {name!r} already exists")
    LEARNERS[name] = (factory, float(relative_cost))


def remove_learner(name: str) -> None:
    if name not in BUILTIN_LEARNERS:
        LEARNERS.pop(name, None)


def relative_cost(name: str) -> float | None:
    """A learner's cost relative to ``lr`` (built-in, plugin or grid-defined), None if unknown."""
    if name in LEARNERS:
        return LEARNERS[name][1]
    return defined_cost(name)


def make_learner(name: str, seed: int) -> Any:
    """A fresh, unfitted, single-threaded estimator seeded with ``seed``."""
    entry = LEARNERS.get(name)
    factory = entry[0] if entry else defined_factory(name)
    if factory is None:
        raise KeyError(f"unknown learner {name!r}; known: {', '.join(LEARNERS)}")
    from algrid.learners.catalog import unavailable_reason

    reason = unavailable_reason(name)
    if reason:
        raise RuntimeError(f"learner {name!r} is unavailable: {reason}")
    return factory(int(seed) % (2**32))


def make_al_learner(name: str, seed: int, classes: np.ndarray) -> Any:
    """The learner the AL loop fits: ``make_learner(name, seed)`` wrapped by AllClassesClassifier."""
    from algrid.learners.al_classifier import AllClassesClassifier

    model = AllClassesClassifier(make_learner(name, seed), np.asarray(classes))
    model._owns_estimator = True  # nobody else holds the estimator: its first fit needs no clone
    return model


def __getattr__(name: str) -> Any:
    # AllClassesClassifier lives in algrid.learners.al_classifier (it needs sklearn.base at import time).
    if name == "AllClassesClassifier":
        from algrid.learners.al_classifier import AllClassesClassifier

        return AllClassesClassifier
    raise AttributeError(name)
