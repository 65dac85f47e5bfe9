"""Datasets: a registry of shipped, synthetic, OpenML and user-file datasets with fixed, versioned preprocessing.

Public API (see docs/ARCHITECTURE.md and docs/datasets.md): `dataset_names()`, `dataset_info(name)` (metadata without loading data),
`load_dataset(name)` (preprocessed, cached per process), `PREPROCESSING_VERSION`, `DatasetInfo`, `Dataset`.
Importing this package is cheap (stdlib only); pandas/scikit-learn load with the first `load_dataset`.
Layout, bottom up: model (the types) and build (preprocess a raw table); one module per source (shipped,
synthetic, plugin, openml, userfile) with the same small interface (`claims`, `names`, `info`, `load`); sources
(name -> source); registry (metadata) and loader (the per-process cache) on top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from algrid.datasets.model import Dataset, DatasetError, DatasetInfo
from algrid.datasets.registry import dataset_info, dataset_names
from algrid.datasets.version import PREPROCESSING_VERSION

if TYPE_CHECKING:
    from algrid.datasets.loader import load_dataset

__all__ = [
    "PREPROCESSING_VERSION",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "dataset_info",
    "dataset_names",
    "load_dataset",
]


def __getattr__(name: str) -> Any:  # lazy: the loader imports numpy and pandas
    if name == "load_dataset":
        from algrid.datasets import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'algrid.datasets' has no attribute {name!r}")
