"""Load a dataset by name into model-ready arrays, once per process.

Workers run many experiments per dataset, so `load_dataset` is memoised (functools.lru_cache); the returned
arrays are read-only because every experiment in the process shares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from algrid.datasets import synthetic
from algrid.datasets.preprocessing import preprocess
from algrid.datasets.registry import DatasetInfo, kind_of, manifest, unknown_dataset


@dataclass(frozen=True)
class Dataset:
    """Preprocessed features `X` (float64, n x d), labels `y` (int64 codes 0..k-1) and metadata."""

    X: np.ndarray
    y: np.ndarray
    info: DatasetInfo
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    dropped_columns: tuple[str, ...] = ()


def read_shipped(name: str) -> tuple[pd.DataFrame, str]:
    """The raw table of a shipped dataset and its label column."""
    entry = manifest()["datasets"][name]
    path = resources.files("algrid.datasets").joinpath("data", entry["file"])
    with resources.as_file(path) as p:
        return pq.read_table(p).to_pandas(), entry["target"]


def build(name: str, frame: pd.DataFrame, target: str, source: str, licence: str) -> Dataset:
    """Preprocess a raw table into a Dataset whose info reflects the preprocessed shape."""
    p = preprocess(frame, target, where=name)
    X, y = p.X, p.y
    X.setflags(write=False)
    y.setflags(write=False)
    k = len(p.classes)
    info = DatasetInfo(name, X.shape[0], X.shape[1], k, source, licence, kind_of(k))
    return Dataset(X, y, info, p.classes, p.feature_names, p.dropped_columns)


@lru_cache(maxsize=64)
def load_dataset(name: str) -> Dataset:
    """Load and preprocess `name` (shipped, synthetic, `openml:<id>` or `file:<path>#<label>`)."""
    entries = manifest()["datasets"]
    if name in entries:
        frame, target = read_shipped(name)
        e = entries[name]
        return build(name, frame, target, e["source"], e["licence"])
    if name in synthetic.GENERATORS:
        return build(name, synthetic.generate(name), "class", synthetic.SOURCE, synthetic.LICENCE)
    from algrid.datasets import plugin

    if plugin.get(name) is not None:
        return plugin.load(name)
    if name.startswith("openml:"):
        from algrid.datasets import openml

        return openml.load(name)
    if name.startswith("file:"):
        from algrid.datasets import userfile

        return userfile.load(name)
    raise unknown_dataset(name)
