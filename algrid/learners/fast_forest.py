"""A random forest that is scikit-learn's ``RandomForestClassifier``, bit for bit, without its per-tree Python cost.

Why: on the small labelled sets of active learning (tens to hundreds of rows) a 100-tree forest spends ~70% of its
``fit`` in per-tree Python bookkeeping (estimator cloning via ``inspect.signature``, input re-validation, joblib
dispatch), not in building trees, and random forests are the prior study's main learner. This class builds the
very same trees with scikit-learn's own Cython tree builder, drawing the same random numbers in the same order, so
``predict_proba`` returns byte-identical arrays ~3x faster to fit and ~2x faster to predict.

Safety: the fast path only runs for the default tree settings algrid uses (anything else goes to scikit-learn's
own ``fit``), and each process checks it once against ``RandomForestClassifier`` on a small problem before using
it; a scikit-learn version whose internals differ simply turns it off. ``ALGRID_FAST_FOREST=0`` turns it off by
hand (results do not change: that is what the check and the tests assert).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from algrid import config

#: Constructor values the fast path reproduces; any other value falls back to scikit-learn's own fit.
_FAST_PARAMS: dict[str, Any] = {
    "criterion": "gini",
    "max_depth": None,
    "min_samples_split": 2,
    "min_samples_leaf": 1,
    "min_weight_fraction_leaf": 0.0,
    "max_features": "sqrt",
    "max_leaf_nodes": None,
    "min_impurity_decrease": 0.0,
    "bootstrap": True,
    "oob_score": False,
    "warm_start": False,
    "class_weight": None,
    "ccp_alpha": 0.0,
    "max_samples": None,
    "monotonic_cst": None,
}
_INT32_MAX = np.iinfo(np.int32).max
_verified: bool | None = None  # None: not checked yet in this process


class FastRandomForestClassifier(RandomForestClassifier):
    """``RandomForestClassifier`` with a fast path for the default settings (same parameters, same results)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FastRandomForestClassifier:
        X_arr = _dense_float(X)
        if sample_weight is None and X_arr is not None and fast_path_enabled() and self._fast_params_ok():
            y_arr = np.asarray(y)
            if y_arr.ndim == 1 and len(y_arr) == len(X_arr) and np.isfinite(X_arr).all():
                return self._fast_fit(X_arr, y_arr)
        self._fast = False
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X: Any) -> np.ndarray:
        X_arr = _dense_float(X) if getattr(self, "_fast", False) else None
        if X_arr is None or X_arr.shape[1] != self.n_features_in_:
            return super().predict_proba(X)
        X32 = np.ascontiguousarray(X_arr, dtype=np.float32)
        k = int(self.n_classes_)
        structures = self._structures
        proba = np.zeros((X32.shape[0], k), dtype=np.float64)
        for structure in structures:  # same order and the same in-place sum as scikit-learn's n_jobs=1 path
            proba += structure.predict(X32)[:, :k]
        proba /= len(structures)
        return proba

    def predict_and_proba(self, X: Any, X_other: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """``(predict(X), predict_proba(X_other))`` from one traversal of every tree over both row sets (the same
        values: each row's path and sum do not depend on the other rows; ``predict`` is the argmax of
        ``predict_proba``, as in scikit-learn). None when not fast-fitted: call the two methods instead."""
        if not getattr(self, "_fast", False):
            return None
        A, B = _dense_float(X), _dense_float(X_other)
        if A is None or B is None or A.shape[1] != self.n_features_in_ or B.shape[1] != self.n_features_in_:
            return None
        proba = self.predict_proba(np.concatenate([A, B]))
        n = len(A)
        return self.classes_.take(np.argmax(proba[:n], axis=1), axis=0), proba[n:]

    @property
    def estimators_(self) -> list[Any]:
        """The fitted trees as ``DecisionTreeClassifier`` objects, made on first access: the fast path keeps only
        the tree structures (100 fewer Python objects per fit for the garbage collector to walk)."""
        d = self.__dict__
        if d.get("_estimators") is None and d.get("_structures") is not None:
            d["_estimators"] = _tree_estimators(self)
        if d.get("_estimators") is None:
            raise AttributeError("estimators_")
        return d["_estimators"]

    @estimators_.setter
    def estimators_(self, value: list[Any]) -> None:  # scikit-learn's own fit sets it
        self.__dict__["_estimators"] = value
        self.__dict__["_structures"] = None

    # ------------------------------------------------------------------------------------------------ internals
    def _fast_params_ok(self) -> bool:
        # the constructor's attributes read directly: get_params walks the signature (~0.3 ms, once per fit)
        params = self.__dict__
        if not isinstance(params.get("random_state"), (int, np.integer)) or params.get("verbose"):
            return False
        return all(_same(params.get(k), v) for k, v in _FAST_PARAMS.items())

    def _fast_fit(self, X: np.ndarray, y: np.ndarray) -> FastRandomForestClassifier:
        from sklearn.tree import DecisionTreeClassifier
        from sklearn.tree._criterion import Gini
        from sklearn.tree._splitter import BestSplitter
        from sklearn.tree._tree import DepthFirstTreeBuilder, Tree

        X32 = np.ascontiguousarray(X, dtype=np.float32)
        n, d = X32.shape
        classes, encoded = np.unique(y, return_inverse=True)
        y_col = np.ascontiguousarray(encoded.reshape(-1, 1), dtype=np.float64)
        n_classes = np.array([len(classes)], dtype=np.intp)
        max_features = max(1, int(np.sqrt(d)))
        # The draws scikit-learn's _set_random_states makes, one per tree (one vectorised call: same sequence).
        seeds = np.random.RandomState(int(self.random_state)).randint(_INT32_MAX, size=int(self.n_estimators))
        # scikit-learn gives each tree a fresh RandomState(seed) for its bootstrap and another for its splitter;
        # reseeding one generator gives the same streams at a fraction of the cost (the splitter only draws its
        # own seed from it when the build starts).
        rng = np.random.RandomState()
        # One criterion, splitter and builder for all trees: each build re-initialises them from the tree's
        # inputs (the splitter draws its seed from ``rng`` at init), so only the tree structure must be new.
        splitter = BestSplitter(Gini(1, n_classes), max_features, 1, 0.0, rng, None)
        builder = DepthFirstTreeBuilder(splitter, 2, 1, 0.0, _INT32_MAX, 0.0)
        structures, nbytes = [], 0
        for tree_seed in seeds.tolist():
            rng.seed(tree_seed)
            weight = np.bincount(rng.randint(0, n, n), minlength=n).astype(np.float64)  # the bootstrap
            rng.seed(tree_seed)
            structure = Tree(d, n_classes, 1)
            builder.build(structure, X32, y_col, weight, None)
            structures.append(structure)
            nbytes += structure.value.nbytes + structure.node_count * 64
        self._nbytes = int(
            nbytes
        )  # for algrid.engine.cache (sizing the trees again would cost more than the fit)
        self.estimator_ = DecisionTreeClassifier(max_features="sqrt")
        self.__dict__.update(_estimators=None, _structures=structures, _tree_seeds=seeds.tolist())
        self._max_features = max_features
        self.n_features_in_, self.n_outputs_ = d, 1
        self.classes_, self.n_classes_ = classes, len(classes)
        self._n_samples = self._n_samples_bootstrap = n
        self._fast = True
        return self


def stock(estimator: Any) -> Any:
    """scikit-learn's own ``RandomForestClassifier`` with ``estimator``'s parameters (others pass through): what
    the prior study ran, for baselines and A/B checks."""
    if isinstance(estimator, FastRandomForestClassifier):
        return RandomForestClassifier(**estimator.get_params(deep=False))
    return estimator


def _tree_estimators(forest: FastRandomForestClassifier) -> list[Any]:
    """``DecisionTreeClassifier`` objects around a fast-fitted forest's tree structures, as scikit-learn's are."""
    template = forest.estimator_
    k = int(forest.n_classes_)
    trees = []
    for structure, seed in zip(forest._structures, forest._tree_seeds, strict=True):
        tree = object.__new__(type(template))  # a copy of the template without a get_params walk
        tree.__dict__.update(template.__dict__)
        tree.random_state = int(seed)
        tree.tree_, tree.n_features_in_, tree.n_outputs_ = structure, forest.n_features_in_, 1
        tree.classes_ = np.arange(k, dtype=np.float64)  # a forest's trees see encoded labels
        tree.n_classes_, tree.max_features_ = k, forest._max_features
        trees.append(tree)
    return trees


def _same(a: Any, b: Any) -> bool:
    """``a`` means what the default ``b`` means (2 and 2.0 differ: a float split size is a fraction)."""
    if b is None or isinstance(b, (str, bool)):
        return a is b if b is None or isinstance(b, bool) else a == b
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, float, np.integer, np.floating)):
        return False
    if isinstance(b, int) and not isinstance(a, (int, np.integer)):
        return False
    return a == b


def _dense_float(X: Any) -> np.ndarray | None:
    """``X`` as a 2-D real ndarray, or None when the fast path must not handle it (sparse, frames, objects)."""
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind not in "fiu":
        return None
    return X


def fast_path_enabled() -> bool:
    """True when the fast path is on: not disabled by ALGRID_FAST_FOREST=0 and verified in this process.

    A failed self-check is said once per process on stderr (results are the same, forests ~3x slower) and every
    run's version manifest records ``forest: stock`` (:func:`fit_path`)."""
    global _verified, fallback_reason
    if not config.current().fast_forest:
        return False
    if _verified is None:
        _verified = False  # a failing check must not recurse into itself
        fallback_reason = _check_against_sklearn()
        _verified = fallback_reason is None
        if fallback_reason is not None:
            import sys

            import sklearn

            print(
                f"algrid: warning: the fast random forest failed its self-check against scikit-learn "
                f"{sklearn.__version__} ({fallback_reason}); using scikit-learn's own forest: same results, "
                "slower. Runs record forest=stock.",
                file=sys.stderr,
                flush=True,
            )
    return _verified


#: Why this process's fast path is off after its self-check (None: it passed, or has not run yet).
fallback_reason: str | None = None


def fit_path(model: Any) -> bool | None:
    """Which code fit ``model`` (or the forest inside an AL wrapper): True = the fast path, False = scikit-learn's
    own forest code, None = not a fitted random forest."""
    est = model if isinstance(model, RandomForestClassifier) else getattr(model, "estimator_", None)
    if isinstance(est, FastRandomForestClassifier):
        return getattr(est, "_fast", None)
    if isinstance(est, RandomForestClassifier) and hasattr(est, "n_features_in_"):
        return False
    return None


def _check_against_sklearn() -> str | None:
    """Does the fast path reproduce ``RandomForestClassifier`` here? (fit + predict_proba bytes, 3 classes).
    None if it does, else why not."""
    try:
        rng = np.random.default_rng(7)
        X = rng.normal(size=(60, 6))
        y = rng.integers(0, 3, size=60)
        X_new = rng.normal(size=(40, 6))
        ours = FastRandomForestClassifier(n_estimators=8, n_jobs=1, random_state=3)
        ours._fast_fit(X[:30], y[:30])
        ref = RandomForestClassifier(n_estimators=8, n_jobs=1, random_state=3).fit(X[:30], y[:30])
        if ours.predict_proba(X_new).tobytes() != ref.predict_proba(X_new).tobytes():
            return "its probabilities differ from RandomForestClassifier's"
        return None
    except Exception as exc:  # noqa: BLE001 - a changed private API means: use scikit-learn's own path
        return f"{type(exc).__name__}: {str(exc)[:200]}"
