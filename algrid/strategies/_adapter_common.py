"""Helpers shared by the library adapters (modal, smalltext, skactiveml).

Committees are built here, once, so that modAL's and scikit-activeml's disagreement measures score the *same*
members: an implementation difference in QBC then comes from the library's scoring, not from how we bagged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algrid.strategies.base import QueryContext, StrategySpec

#: Committee size for every QBC-type adapter strategy (modAL and scikit-activeml have no default of their own).
COMMITTEE_SIZE = 5


def committee_bootstrap(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap row indices of ``y`` that contain every labelled class at least once.

    A plain bootstrap of a tiny start set (one sample per class) often misses a class, and many learners (LR, SVM)
    refuse to fit a single class; drawing one row per class first keeps every member trainable.
    """
    n = len(y)
    classes = np.unique(y)
    first = np.array([rng.choice(np.flatnonzero(y == c)) for c in classes], dtype=np.int64)
    rest = rng.integers(0, n, size=max(n - len(first), 0))
    return np.concatenate([first, rest])


def fit_committee(ctx: QueryContext, size: int = COMMITTEE_SIZE) -> list[Any]:
    """``size`` fresh learners of the experiment's kind, each fit on a class-complete bootstrap of the labelled set.

    Seeds and bootstrap rows come from ``ctx.rng`` (drawn first, so every adapter that calls this gets the same
    committee for the same experiment and cycle).
    """
    seeds = ctx.rng.integers(0, 2**31 - 1, size=size)
    members = []
    for seed in seeds:
        rows = committee_bootstrap(ctx.y_labeled, ctx.rng)
        member = ctx.make_learner(int(seed))
        member.fit(ctx.X_labeled[rows], ctx.y_labeled[rows])
        members.append(member)
    return members


def as_positions(selected: Any, n_pool: int, batch_size: int, who: str) -> np.ndarray:
    """Validate a library's answer: distinct int64 positions into the pool, exactly min(batch_size, n_pool) of them.

    A library that returns duplicates, out-of-range or too few indices is a bug in the library call, so it raises
    (the loop records a failed experiment) instead of being patched up silently.
    """
    idx = np.asarray(selected).reshape(-1)
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        if not np.all(np.equal(np.mod(idx, 1), 0)):
            raise ValueError(f"{who} returned non-integer indices {idx[:5].tolist()}")
    idx = idx.astype(np.int64)
    want = min(int(batch_size), int(n_pool))
    if idx.size != want:
        raise ValueError(f"{who} returned {idx.size} indices, expected {want}")
    if idx.size and (idx.min() < 0 or idx.max() >= n_pool):
        raise ValueError(f"{who} returned an index outside the unlabelled pool (size {n_pool})")
    if np.unique(idx).size != idx.size:
        raise ValueError(f"{who} returned duplicate indices")
    return idx


class Adapter:
    """``select(ctx)`` around ``fn(ctx, k) -> indices`` that validates the library's answer.

    ``k = min(batch_size, n_pool)``; when the batch takes the whole pool the answer is forced (every position), so
    the library is not asked (several refuse ``n == n_pool``). A class, not a closure, so specs stay picklable.
    """

    def __init__(self, who: str, fn: Any) -> None:
        self.who = who
        self.fn = fn

    def __call__(self, ctx: QueryContext) -> np.ndarray:
        n_pool = len(ctx.X_pool)
        k = min(int(ctx.batch_size), n_pool)
        if k == n_pool:
            return np.arange(n_pool, dtype=np.int64)
        return as_positions(self.fn(ctx, k), n_pool, k, self.who)

    def __repr__(self) -> str:
        return f"Adapter({self.who})"


def _accepts_sample_weight(estimator: Any) -> bool:
    import inspect

    try:
        return "sample_weight" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


class _Shared:
    """A model that deep copies share instead of duplicating.

    Libraries deep-copy the estimator they are given (scikit-activeml on every query, to adopt a fitted model, and
    again per committee); for a 100-tree forest that costs milliseconds each time. The views never change a model
    in place (``fit`` fits a clone), so every copy may hold the same one.
    """

    __slots__ = ("model",)

    def __init__(self, model: Any) -> None:
        self.model = model

    def __deepcopy__(self, memo: dict) -> _Shared:
        return self

    def __repr__(self) -> str:
        return repr(self.model)


def _unshared(obj: Any) -> Any:
    return obj.model if isinstance(obj, _Shared) else obj


def _library_view_class() -> type:
    from sklearn.base import BaseEstimator, ClassifierMixin, clone

    class LibraryView(ClassifierMixin, BaseEstimator):
        """The loop's learner with the plain scikit-learn face libraries check for.

        Libraries call ``fit(X, y, sample_weight)`` positionally and read ``n_features_in_``; the loop's
        all-classes wrapper offers neither. Uniform (or no) weights are dropped; real weights go to learners
        that take them and raise for the others.
        """

        def __init__(self, estimator: Any = None) -> None:
            self.estimator = estimator

        def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> Any:
            est = clone(_unshared(self.estimator))
            w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
            if w is not None and len(w) and np.all(w == w[0]):
                w = None
            if w is None:
                est.fit(X, y)
            elif _accepts_sample_weight(est):
                est.fit(X, y, sample_weight=w)
            else:
                raise TypeError(f"{type(est).__name__} cannot fit with sample weights")
            return self._adopt(est, np.asarray(X).shape[1])

        def _adopt(self, fitted: Any, n_features: int) -> Any:
            self.estimator_ = _Shared(fitted)
            self.classes_ = np.asarray(fitted.classes_)
            self.n_features_in_ = int(n_features)
            return self

        def predict(self, X: np.ndarray) -> np.ndarray:
            return self.estimator_.model.predict(X)

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            pool = getattr(self, "_pool", None)
            known = known_pool_proba(X, *pool) if pool else None
            return known if known is not None else self.estimator_.model.predict_proba(X)

    return LibraryView


_LIBRARY_VIEW: type | None = None


def library_view(
    estimator: Any, fitted_on: np.ndarray | None = None, pool: QueryContext | None = None
) -> Any:
    """``estimator`` behind a plain scikit-learn face; pass ``fitted_on`` (any X it was fit on) to adopt a fitted
    model without refitting it, and ``pool`` (the query context of that model) to answer predictions of the pool
    with the loop's probabilities."""
    global _LIBRARY_VIEW
    if _LIBRARY_VIEW is None:
        _LIBRARY_VIEW = _library_view_class()
    view = _LIBRARY_VIEW(_Shared(estimator))
    if fitted_on is not None:
        view._adopt(estimator, np.asarray(fitted_on).shape[1])
        if pool is not None and pool.proba_pool is not None:
            view._pool = (pool.X_pool, pool.proba_pool)
    return view


def binary_learner(ctx: QueryContext, seed: int) -> Any:
    """A fresh learner of the experiment's kind for a 0/1 task (a DAL discriminator): if the loop's learner is
    told the dataset's classes, tell it {0, 1} instead so its probability columns are the two tasks' classes."""
    learner = ctx.make_learner(seed)
    if "classes" in learner.get_params(deep=False):
        learner.set_params(classes=np.array([0, 1]))
    return learner


def known_pool_proba(X: Any, X_pool: np.ndarray, proba_pool: np.ndarray | None) -> np.ndarray | None:
    """A copy of the loop's pool probabilities if ``X`` is the pool (the same array, or a copy of it with the same
    rows in the same order, as libraries make when they slice their candidates out); None otherwise.

    Row-wise the model's answer for an equal array is the same bytes, so this changes no result; comparing the
    arrays costs one pass over the pool, a prediction costs a forest's or a kernel's work.
    """
    if (
        proba_pool is None
        or not isinstance(X, np.ndarray)
        or X.shape != X_pool.shape
        or X.dtype != X_pool.dtype
    ):
        return None
    if X is X_pool or np.array_equal(X, X_pool):
        return proba_pool.copy()
    return None


class PoolProba:
    """The fitted model, answering ``predict_proba`` of the pool with the loop's ``ctx.proba_pool``.

    The loop computes the pool probabilities once per cycle; libraries that predict the pool again (the same
    array or a copy of it) get those (identical) values instead of a second pass. Any other input goes to the
    model.
    """

    def __init__(self, model: Any, X_pool: np.ndarray, proba_pool: np.ndarray | None) -> None:
        self.model = model
        self._X_pool = X_pool
        self._proba = proba_pool

    @property
    def classes_(self) -> np.ndarray:
        return self.model.classes_

    def predict_proba(self, X: Any) -> np.ndarray:
        known = known_pool_proba(X, self._X_pool, self._proba)
        return known if known is not None else self.model.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.model.predict(X)


def unavailable_spec(
    name: str, implementation: str, library: str, description: str, reason: str
) -> StrategySpec:
    """A pair listed by `algrid strategies` (with the reason) but excluded from every grid."""
    return StrategySpec(
        name=name,
        implementation=implementation,
        select=None,
        description=description,
        available=False,
        unavailable_reason=reason,
        library=library,
    )
