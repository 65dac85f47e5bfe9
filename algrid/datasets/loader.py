"""Load a dataset by name into model-ready arrays, once per process.

Workers run many experiments per dataset, so `load_dataset` is memoised (functools.lru_cache); the returned
arrays are read-only because every experiment in the process shares them. The source that owns the name does the
reading and preprocessing; this module is only the cache on top (and imports pandas/scikit-learn, which the
worker's zygote warms by importing it).
"""

from __future__ import annotations

from functools import lru_cache

from algrid.datasets.build import build
from algrid.datasets.model import Dataset
from algrid.datasets.shipped import read_shipped
from algrid.datasets.sources import source_of

__all__ = ["Dataset", "build", "load_dataset", "read_shipped"]


@lru_cache(maxsize=64)
def load_dataset(name: str) -> Dataset:
    """Load and preprocess `name` (shipped, synthetic, plugin, `openml:<id>` or `file:<path>#<label>`)."""
    return source_of(name).load(name)
