"""Turn a source's raw table into a read-only Dataset: the one step every source shares.

Why separate from the sources and the loader: every source ends in the same preprocessing, and the info it
reports must describe the preprocessed shape. Keeping that here means no source imports the loader (which
imports the sources), so the package has no import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from algrid.datasets.model import Dataset, DatasetInfo, kind_of
from algrid.datasets.preprocessing import preprocess

if TYPE_CHECKING:
    import pandas as pd


def build(name: str, frame: pd.DataFrame, target: str, source: str, licence: str) -> Dataset:
    """Preprocess a raw table into a Dataset whose info reflects the preprocessed shape."""
    p = preprocess(frame, target, where=name)
    X, y = p.X, p.y
    X.setflags(write=False)
    y.setflags(write=False)
    k = len(p.classes)
    info = DatasetInfo(name, X.shape[0], X.shape[1], k, source, licence, kind_of(k))
    return Dataset(X, y, info, p.classes, p.feature_names, p.dropped_columns)
