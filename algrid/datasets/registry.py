"""Dataset metadata, readable without loading data where the source allows it.

Shipped datasets are described by `manifest.json` (read once per process); synthetic ones by constants in
`synthetic.py`. The grid validates millions of configurations against this metadata, so those lookups are dict
hits. Plugin, `openml:<id>` (without a cached info.json) and `file:<path>#<label>` datasets know their shape only
after loading: they get the loader's per-process cache, so asking for their info and then running loads once.
"""

from __future__ import annotations

from algrid.datasets.model import DatasetError, DatasetInfo, kind_of
from algrid.datasets.shipped import manifest
from algrid.datasets.sources import listed_names, source_of, unknown_dataset
from algrid.datasets.version import PREPROCESSING_VERSION
from algrid.errors import AlgridError


def dataset_names() -> list[str]:
    """Every built-in dataset (shipped + synthetic) and plugin dataset, sorted. `openml:<id>` / `file:...` names
    are open-ended."""
    return listed_names()


def dataset_info(name: str) -> DatasetInfo:
    """Metadata of `name` without loading the data (OpenML: from the cache; user files, plugins: loaded once)."""
    source = source_of(name)
    if not source.OPEN_ENDED:
        return source.info(name, _cached_load)
    try:
        return source.info(name, _cached_load)
    except DatasetError:
        raise
    except AlgridError as exc:  # unreadable file, missing label column...: the name is not usable
        raise DatasetError(f"dataset {name!r} is not usable: {exc}") from exc


def _cached_load(name: str):
    from algrid.datasets.loader import load_dataset  # on top of this module: imported when first needed

    return load_dataset(name)


__all__ = [
    "DatasetError",
    "DatasetInfo",
    "PREPROCESSING_VERSION",
    "dataset_info",
    "dataset_names",
    "kind_of",
    "manifest",
    "unknown_dataset",
]
