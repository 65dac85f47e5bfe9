"""The train/test split, the order the pool is shown in, and the start set of an experiment: the parts every
strategy of a setting shares (memoised per process)."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from algrid.engine.seeds import _int_seed, seed_sequence

__all__ = ["initial_pool", "pool_order", "start_set", "train_test_ids"]


@lru_cache(maxsize=128)
def _split_cached(dataset: str, split: int, test_size: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    from algrid.datasets import load_dataset

    y = load_dataset(dataset).y
    seed = _int_seed(seed_sequence("split", dataset, split, test_size))
    rows = np.arange(len(y), dtype=np.int64)
    train, test = train_test_split(rows, test_size=test_size, stratify=y, random_state=seed)
    train, test = np.sort(train), np.sort(test)
    train.setflags(write=False)
    test.setflags(write=False)
    return train, test


def train_test_ids(dataset: str, split: int, test_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted dataset row ids of the stratified train (= unlabelled pool) and test parts of split ``split``."""
    return _split_cached(str(dataset), int(split), float(test_size))


@lru_cache(maxsize=128)
def _pool_order_cached(dataset: str, split: int, test_size: float, seed: int) -> np.ndarray:
    train, _ = _split_cached(dataset, split, test_size)
    rng = np.random.default_rng(seed_sequence("pool_order", dataset, split, test_size, seed))
    order = train[rng.permutation(len(train))]
    order.setflags(write=False)
    return order


def pool_order(dataset: str, split: int, test_size: float, seed: int) -> np.ndarray:
    """The train row ids in the fixed pseudo-random order in which the pool is shown to strategies.

    Why not row-id order: many shipped files are sorted by class, and strategies break score ties by position,
    so a row-id-ordered pool made tie-heavy scorers (margin on a 2-sample random forest) query one class first.
    The order depends only on (dataset, split, test_size, seed), never on the strategy, so every strategy and
    implementation sees the same pool in the same order (binary least confidence/margin/entropy stay identical).
    """
    return _pool_order_cached(str(dataset), int(split), float(test_size), int(seed))


def _parse_pool(spec: str) -> tuple[str, int]:
    method, sep, size = str(spec).partition(":")
    if not sep or method not in {"per_class", "random", "kmeans"} or not size.isdigit() or int(size) < 1:
        raise ValueError(
            f"initial_pool {spec!r} is not per_class:k, random:n or kmeans:n with a positive size"
        )
    return method, int(size)


def initial_pool(
    X: np.ndarray, y: np.ndarray, train_ids: np.ndarray, spec: str, rng: np.random.Generator, seed: int
) -> np.ndarray:
    """Sorted row ids of the start set drawn from ``train_ids``.

    per_class:k = k random rows of every class (all of a class's rows if it has fewer); random:n = n random
    rows; kmeans:n = for each of n k-means centroids (seeded) the nearest train row not taken yet.
    """
    method, size = _parse_pool(spec)
    if method == "per_class":
        y_train = y[train_ids]
        perm = rng.permutation(len(train_ids))
        order = perm[np.argsort(y_train[perm], kind="stable")]  # random order inside each class
        ys = y_train[order]
        first = np.searchsorted(ys, ys, side="left")
        rank = np.arange(len(ys)) - first  # position of each row within its class
        chosen = train_ids[order[rank < size]]
    elif size > len(train_ids):
        raise ValueError(
            f"initial_pool {spec!r} asks for {size} rows but the train split has {len(train_ids)}"
        )
    elif method == "random":
        chosen = train_ids[rng.choice(len(train_ids), size=size, replace=False)]
    else:
        from sklearn.cluster import KMeans
        from sklearn.metrics import pairwise_distances

        X_train = X[train_ids]
        km = KMeans(n_clusters=size, n_init=1, random_state=seed).fit(X_train)
        dist = pairwise_distances(km.cluster_centers_, X_train)
        taken = np.zeros(len(train_ids), dtype=bool)
        picks = []
        for row in dist:  # one pass per centroid (size is small), not per pool sample
            row = np.where(taken, np.inf, row)
            j = int(np.argmin(row))
            taken[j] = True
            picks.append(j)
        chosen = train_ids[np.array(picks, dtype=np.int64)]
    return np.sort(chosen.astype(np.int64))


@lru_cache(maxsize=256)
def start_set(payload: str) -> np.ndarray:
    """The start set seeded from ``payload`` = ``canonical_json(["start", dataset, split, test_size, initial_pool,
    start])``, read-only. Memoised: every strategy of a setting starts from it (a k-means start costs a fit)."""
    from algrid.datasets import load_dataset

    parts = json.loads(payload)
    _, dataset, split, test_size, spec, _ = parts
    ss = seed_sequence(*parts)
    ds = load_dataset(dataset)
    ids = initial_pool(
        ds.X,
        ds.y,
        train_test_ids(dataset, split, test_size)[0],
        spec,
        np.random.default_rng(ss),
        _int_seed(ss),
    )
    ids.setflags(write=False)
    return ids
