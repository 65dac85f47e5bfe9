"""Example algrid plugin: importing this module registers a strategy, a learner and a dataset."""

from __future__ import annotations

import numpy as np

import algrid


@algrid.register_strategy("example_density_margin", needs_proba=True)
def density_margin(ctx: algrid.QueryContext) -> np.ndarray:
    """Smallest margin, weighted by how typical a pool row is (mean similarity to the pool)."""
    proba = np.sort(ctx.proba_pool, axis=1)
    margin = proba[:, -1] - proba[:, -2] if proba.shape[1] > 1 else np.zeros(len(proba))
    centre = ctx.X_pool.mean(axis=0)
    density = 1.0 / (1.0 + np.linalg.norm(ctx.X_pool - centre, axis=1))
    score = (1.0 - margin) * density
    return np.argsort(-score, kind="stable")[: ctx.batch_size]


def _extra_trees(seed: int):
    from sklearn.ensemble import ExtraTreesClassifier

    return ExtraTreesClassifier(n_estimators=50, n_jobs=1, random_state=seed)


algrid.register_learner("example_et", _extra_trees, relative_cost=2.0, description="extra trees, 50 trees")


def _moons():
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=300, noise=0.25, random_state=0)
    return X, y, {"source": "sklearn.datasets.make_moons(300, noise=0.25)", "licence": "BSD-3-Clause"}


algrid.register_dataset("example_moons", _moons, source="scikit-learn generator", licence="BSD-3-Clause")
