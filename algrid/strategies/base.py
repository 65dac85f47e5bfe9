"""What a query strategy is: metadata plus a selection function over one fitted model and the pool.

The AL loop (algrid.engine.loop) is the same for every strategy; an implementation only supplies `select`.
Third-party libraries are imported lazily inside `select`, so reading the registry (the grid does, to exclude
impossible combinations) costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class QueryContext:
    """Everything a strategy may look at when picking the next batch.

    Positions returned by a strategy index ``X_pool`` (0..len(X_pool)-1); the loop maps them to dataset row ids.
    ``proba_pool`` is computed once per cycle by the loop and shared by every scorer (never recompute it).
    """

    model: Any  # fitted scikit-learn estimator
    X_pool: np.ndarray  # unlabelled candidates, float64, shape (n_pool, n_features), read-only
    X_labeled: np.ndarray  # labelled rows, shape (n_labeled, n_features)
    y_labeled: np.ndarray  # their labels (int codes 0..n_classes-1)
    classes: np.ndarray  # all class codes of the dataset (0..n_classes-1)
    batch_size: int
    rng: np.random.Generator  # derived from the experiment and cycle
    seed: int  # int seed for libraries that want `random_state` or the global NumPy RNG
    make_learner: Callable[[int], Any]  # fresh unfitted learner of the experiment's kind, seeded
    proba_pool: np.ndarray | None = None  # model.predict_proba(X_pool), columns = classes
    # Only oracle baselines may use the two below (they see true labels):
    oracle_labels: np.ndarray | None = None  # true labels of the pool rows
    evaluate: Callable[[np.ndarray], float] | None = None  # fit on labelled + pool positions, test accuracy
    extras: dict[str, Any] = field(default_factory=dict)


SelectFn = Callable[[QueryContext], np.ndarray]


@dataclass(frozen=True)
class StrategySpec:
    """One (strategy, implementation) pair of the registry."""

    name: str  # shared vocabulary: margin is margin in every implementation
    implementation: str  # native | modal | smalltext | skactiveml
    select: SelectFn | None
    binary_only: bool = False
    needs_proba: bool = True
    uses_oracle: bool = False  # sees true labels (upper-bound baselines)
    batch_mode: str = "native"  # "native" (library batch selection) or "top-k" (top-k of per-sample scores)
    description: str = ""
    available: bool = True  # False: listed (with reason) but excluded from grids
    unavailable_reason: str = ""
    library: str = ""  # distribution name whose version is reported, e.g. "modAL-python"
    # Selections read the loop's random streams (ctx.rng, ctx.seed, the global NumPy RNG, a learner seeded from
    # them). True unless shown otherwise: such pairs carry the seeding version in their exp_key
    # (algrid.strategies.seeding), so a pair wrongly left True only costs a re-run, never mixes results.
    uses_rng: bool = True

    @property
    def pair(self) -> tuple[str, str]:
        return (self.name, self.implementation)
