"""Datasets: a registry of shipped, synthetic, OpenML and user-file datasets with fixed, versioned preprocessing.

Public API (see docs/ARCHITECTURE.md and docs/datasets.md): `dataset_names()`, `dataset_info(name)` (metadata without loading data),
`load_dataset(name)` (preprocessed, cached per process), `PREPROCESSING_VERSION`, `DatasetInfo`, `Dataset`.
Importing this package is cheap (stdlib only); pandas/scikit-learn load with the first `load_dataset`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from algrid.datasets.registry import DatasetError, DatasetInfo, dataset_info, dataset_names
from algrid.datasets.version import PREPROCESSING_VERSION

if TYPE_CHECKING:
    from algrid.datasets.loader import Dataset, load_dataset

__all__ = [
    "PREPROCESSING_VERSION",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "dataset_info",
    "dataset_names",
    "load_dataset",
]


def __getattr__(name: str) -> Any:  # lazy: the loader pulls in pandas, pyarrow and scikit-learn
    if name in ("Dataset", "load_dataset"):
        from algrid.datasets import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'algrid.datasets' has no attribute {name!r}")
