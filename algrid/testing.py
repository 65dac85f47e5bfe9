"""Conformance checks for plugins, like scikit-learn's ``check_estimator``: ``check_strategy`` and ``check_learner``.

Why: a strategy that returns a duplicate index at cycle 14, or a learner whose probabilities ignore its seed, turns
into failed or silently irreproducible experiments across a whole study. These checks run the same calls the AL loop
makes, on real binary and multiclass data, in a second, and each failure is one sentence saying what is wrong.
``algrid plugins check MODULE`` runs them on everything a plugin registers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from algrid.errors import AlgridError
from algrid.strategies.base import QueryContext, StrategySpec

__all__ = ["ConformanceError", "check_learner", "check_strategy"]


class ConformanceError(AlgridError, AssertionError):
    """A plugin breaks the contract the AL loop relies on (the message is one sentence)."""

    exit_code = 2


def _resolve_strategy(strategy: Any, implementation: str | None) -> StrategySpec:
    from algrid.strategies import get_strategy

    if isinstance(strategy, StrategySpec):
        return strategy
    if callable(strategy):
        return StrategySpec(
            name=getattr(strategy, "__name__", "select"), implementation="native", select=strategy
        )
    name, _, impl = str(strategy).partition("@")
    try:
        return get_strategy(name, impl or implementation or "native")
    except KeyError:
        raise ConformanceError(f"strategy {strategy!r} is not registered (load its plugin first)") from None


def _data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    from algrid.datasets import load_dataset

    d = load_dataset("breast_cancer" if kind == "binary" else "wine")
    return d.X, d.y


def _context(
    spec: StrategySpec,
    X: np.ndarray,
    y: np.ndarray,
    labeled: np.ndarray,
    pool: np.ndarray,
    batch: int,
    seed: int,
) -> QueryContext:
    from algrid.learners import make_al_learner

    classes = np.unique(y)
    model = make_al_learner("lr", 0, classes)
    model.fit(X[labeled], y[labeled])
    X_pool = X[pool].copy()
    X_labeled = X[labeled].copy()
    y_labeled = y[labeled].copy()
    for a in (X_pool, X_labeled, y_labeled):
        a.setflags(write=False)  # as in the loop: a strategy must not write into shared arrays
    proba = model.predict_proba(X_pool) if spec.needs_proba else None
    if proba is not None:
        proba.setflags(write=False)
    return QueryContext(
        model=model,
        X_pool=X_pool,
        X_labeled=X_labeled,
        y_labeled=y_labeled,
        classes=classes,
        batch_size=min(batch, len(pool)),  # as in the loop: a pool smaller than the batch is taken whole
        rng=np.random.default_rng(seed),
        seed=seed,
        make_learner=lambda s: make_al_learner("lr", s, classes),
        proba_pool=proba,
    )


def _select(spec: StrategySpec, ctx: QueryContext, what: str) -> list[int]:
    """Call select as the loop does and check the result's shape; returns the positions as ints."""
    np.random.seed(ctx.seed)  # libraries that read the global RNG see the same state as in the loop
    label = f"{spec.name}@{spec.implementation}"
    if spec.select is None:
        raise ConformanceError(f"{label} has no select function ({spec.unavailable_reason or 'unavailable'})")
    try:
        out = spec.select(ctx)
    except ValueError as exc:
        if "read-only" in str(exc):
            raise ConformanceError(f"{label} writes into its read-only input arrays ({what})") from None
        raise ConformanceError(f"{label} raised {type(exc).__name__}: {exc} ({what})"[:300]) from None
    except Exception as exc:  # noqa: BLE001 - any exception is a failed check, reported in one line
        raise ConformanceError(f"{label} raised {type(exc).__name__}: {exc} ({what})"[:300]) from None
    arr = np.asarray(out)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ConformanceError(
            f"{label} must return a 1-D array of integer positions, got {arr.dtype} shape {arr.shape} ({what})"
        )
    want = min(ctx.batch_size, len(ctx.X_pool))
    if arr.size != want:
        raise ConformanceError(f"{label} returned {arr.size} positions, expected exactly {want} ({what})")
    if arr.size and (arr.min() < 0 or arr.max() >= len(ctx.X_pool)):
        raise ConformanceError(f"{label} returned a position outside 0..{len(ctx.X_pool) - 1} ({what})")
    if len(set(arr.tolist())) != arr.size:
        raise ConformanceError(f"{label} returned duplicate positions ({what})")
    return arr.tolist()


def check_strategy(strategy: Any, *, implementation: str | None = None) -> None:
    """Raise :class:`ConformanceError` (one sentence) unless ``strategy`` honours the loop's contract.

    ``strategy``: a registered name (``"name"`` or ``"name@implementation"``), a :class:`StrategySpec` or a bare
    ``select`` function. Checked: exactly ``min(batch, pool)`` distinct in-range integer positions, on binary and
    multiclass data; a pool smaller than the batch; a one-class labelled set; the same picks under the same seed;
    inputs left unchanged.
    """
    spec = _resolve_strategy(strategy, implementation)
    kinds = ["binary"] if spec.binary_only else ["binary", "multiclass"]
    for kind in kinds:
        X, y = _data(kind)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(y))
        labeled = np.concatenate([order[y[order] == c][:2] for c in np.unique(y)])
        pool = np.setdiff1d(order, labeled)[:120]
        ctx = _context(spec, X, y, labeled, pool, batch=5, seed=11)
        before = (ctx.X_pool.copy(), ctx.X_labeled.copy(), ctx.y_labeled.copy())
        first = _select(spec, ctx, f"{kind} data, batch 5")
        after = (ctx.X_pool, ctx.X_labeled, ctx.y_labeled)
        if any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True)):
            raise ConformanceError(
                f"{spec.name}@{spec.implementation} changed its input arrays ({kind} data)"
            )
        again = _select(
            spec, _context(spec, X, y, labeled, pool, batch=5, seed=11), f"{kind} data, same seed"
        )
        if again != first:
            raise ConformanceError(
                f"{spec.name}@{spec.implementation} picks differently under the same seed ({first} vs {again}); "
                "draw randomness only from ctx.rng or ctx.seed"
            )
        _select(
            spec,
            _context(spec, X, y, labeled, pool[:3], batch=5, seed=12),
            f"{kind} data, pool of 3 < batch 5",
        )
        _select(spec, _context(spec, X, y, labeled, pool, batch=1, seed=13), f"{kind} data, batch 1")
    X, y = _data("multiclass" if not spec.binary_only else "binary")
    one_class = np.flatnonzero(y == y[0])[:3]
    pool = np.setdiff1d(np.arange(len(y)), one_class)[:60]
    _select(spec, _context(spec, X, y, one_class, pool, batch=4, seed=14), "a labelled set of one class")


def check_learner(learner: str | Callable[[int], Any]) -> None:
    """Raise :class:`ConformanceError` unless a learner factory gives seeded, clonable probabilistic classifiers.

    ``learner``: a registered name or a ``factory(seed)``. Checked on binary and multiclass data: ``fit`` /
    ``predict_proba`` work and give one row per sample summing to 1; two models made with the same seed predict
    identically; ``sklearn.base.clone`` keeps the parameters; a one-class labelled set works inside the loop's wrapper.
    """
    from sklearn.base import clone

    from algrid.learners import make_learner
    from algrid.learners.al_classifier import AllClassesClassifier

    if isinstance(learner, str):
        name = learner

        def named(seed: int) -> Any:
            return make_learner(name, seed)

        factory: Callable[[int], Any] = named
    elif callable(learner):
        name, factory = getattr(learner, "__name__", "learner"), learner
    else:
        raise ConformanceError(f"learner {learner!r} is neither a registered name nor a factory(seed)")
    for kind in ("binary", "multiclass"):
        X_all, y_all = _data(kind)
        order = np.random.default_rng(0).permutation(len(y_all))
        X, y = X_all[order[:100]], y_all[order[:100]]
        X_new = X_all[order[100:160]]
        try:
            a, b = factory(3), factory(3)
            pa_ = a.fit(X, y).predict_proba(X_new)
            pb_ = b.fit(X, y).predict_proba(X_new)
        except Exception as exc:  # noqa: BLE001 - reported as one sentence
            raise ConformanceError(
                f"learner {name} fails to fit/predict_proba on {kind} data: {type(exc).__name__}: {exc}"[:300]
            ) from None
        k = len(np.unique(y))
        if np.shape(pa_) != (len(X_new), k):
            raise ConformanceError(
                f"learner {name}: predict_proba has shape {np.shape(pa_)}, expected {(len(X_new), k)} ({kind} data)"
            )
        if not np.allclose(np.sum(pa_, axis=1), 1.0, atol=1e-6):
            raise ConformanceError(f"learner {name}: predict_proba rows do not sum to 1 ({kind} data)")
        if not np.array_equal(pa_, pb_):
            raise ConformanceError(
                f"learner {name}: two models made with the same seed predict differently; seed it from the factory's argument"
            )
        try:
            cloned = clone(a)
        except Exception as exc:  # noqa: BLE001
            raise ConformanceError(
                f"learner {name}: sklearn.base.clone fails: {type(exc).__name__}: {exc}"[:300]
            ) from None
        if set(cloned.get_params()) != set(a.get_params()):
            raise ConformanceError(f"learner {name}: clone changes the parameters")
    X, y = _data("multiclass")
    one = np.flatnonzero(y == y[0])[:3]
    try:
        wrapped = AllClassesClassifier(factory(1), np.unique(y)).fit(X[one], y[one])
        proba = wrapped.predict_proba(X[:10])
    except Exception as exc:  # noqa: BLE001
        raise ConformanceError(
            f"learner {name}: fails on a labelled set of one class: {type(exc).__name__}: {exc}"[:300]
        ) from None
    if proba.shape != (10, len(np.unique(y))):
        raise ConformanceError(f"learner {name}: wrong probability shape on a one-class labelled set")
