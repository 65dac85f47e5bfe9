"""algrid.testing.check_strategy / check_learner catch each kind of broken plugin with one sentence (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from algrid.testing import ConformanceError, check_learner, check_strategy


def good(ctx):
    return np.argsort(-ctx.X_pool[:, 0], kind="stable")[: ctx.batch_size]


BROKEN = {
    "duplicate positions": lambda ctx: np.zeros(min(ctx.batch_size, len(ctx.X_pool)), dtype=int),
    "outside": lambda ctx: np.arange(len(ctx.X_pool), len(ctx.X_pool) + min(ctx.batch_size, len(ctx.X_pool))),
    "expected exactly": lambda ctx: np.arange(max(ctx.batch_size - 1, 0)),  # one short
    "integer positions": lambda ctx: np.arange(min(ctx.batch_size, len(ctx.X_pool))).astype(float),
    "same seed": lambda ctx: np.random.default_rng().permutation(len(ctx.X_pool))[: ctx.batch_size],
    "read-only": lambda ctx: (ctx.X_pool.__setitem__((0, 0), 1.0), np.arange(ctx.batch_size))[1],
    "raised": lambda ctx: 1 / 0,
    "one class": lambda ctx: (
        np.arange(min(ctx.batch_size, len(ctx.X_pool)))
        if len(np.unique(ctx.y_labeled)) > 1
        else (_ for _ in ()).throw(ValueError("needs two classes"))
    ),
}


def test_a_good_strategy_passes():
    check_strategy(good)


@pytest.mark.parametrize("expected", sorted(BROKEN))
def test_each_broken_strategy_is_caught_in_one_sentence(expected):
    with pytest.raises(ConformanceError) as info:
        check_strategy(BROKEN[expected])
    message = str(info.value)
    assert "\n" not in message
    assert expected in message or expected == "one class" and "labelled set of one class" in message


def test_builtin_strategies_conform():
    for name in ("margin", "entropy@native", "coreset", "random"):
        check_strategy(name)


def test_learner_checks():
    check_learner("lr")
    from sklearn.ensemble import ExtraTreesClassifier

    check_learner(lambda seed: ExtraTreesClassifier(n_estimators=5, random_state=seed))
    with pytest.raises(ConformanceError, match="same seed"):
        check_learner(lambda seed: ExtraTreesClassifier(n_estimators=5))  # ignores its seed
    with pytest.raises(ConformanceError, match="fails to fit"):
        check_learner(lambda seed: object())
