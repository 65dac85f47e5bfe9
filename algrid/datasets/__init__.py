"""Datasets: a registry of shipped, synthetic, OpenML and user-file datasets with fixed, versioned preprocessing.

Public API (see docs/INTERFACES.md): `dataset_names()`, `dataset_info(name)` (metadata without loading data),
`load_dataset(name)` (preprocessed, cached per process), `PREPROCESSING_VERSION`, `DatasetInfo`, `Dataset`.
"""

from algrid.datasets.loader import Dataset, load_dataset
from algrid.datasets.preprocessing import PREPROCESSING_VERSION
from algrid.datasets.registry import DatasetInfo, dataset_info, dataset_names

__all__ = ["PREPROCESSING_VERSION", "Dataset", "DatasetInfo", "dataset_info", "dataset_names", "load_dataset"]
