"""The datasets shipped with algrid: raw Parquet tables under data/, described by manifest.json.

The manifest records each table's preprocessed shape, source and licence, so `info` never reads data: the grid
validates millions of configurations against it. The manifest is read once per process.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from algrid.datasets.model import Dataset, DatasetInfo, Loader

if TYPE_CHECKING:
    import pandas as pd

OPEN_ENDED = False


@lru_cache(maxsize=1)
def manifest() -> dict[str, Any]:
    """The parsed manifest.json of the shipped datasets ({"preprocessing_version", "datasets": {name: entry}})."""
    text = resources.files("algrid.datasets").joinpath("manifest.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _infos() -> dict[str, DatasetInfo]:
    return {
        name: DatasetInfo(name, e["rows"], e["features"], e["classes"], e["source"], e["licence"], e["kind"])
        for name, e in manifest()["datasets"].items()
    }


def claims(name: str) -> bool:
    return name in _infos()


def names() -> list[str]:
    return sorted(_infos())


def info(name: str, loader: Loader | None = None) -> DatasetInfo:
    """Metadata from the manifest (no data read; `loader` is unused)."""
    return _infos()[name]


def read_shipped(name: str) -> tuple[pd.DataFrame, str]:
    """The raw table of a shipped dataset and its label column."""
    import pyarrow.parquet as pq

    entry = manifest()["datasets"][name]
    path = resources.files("algrid.datasets").joinpath("data", entry["file"])
    with resources.as_file(path) as p:
        return pq.read_table(p).to_pandas(), entry["target"]


def load(name: str) -> Dataset:
    """Read and preprocess shipped dataset `name`."""
    from algrid.datasets.build import build

    frame, target = read_shipped(name)
    entry = manifest()["datasets"][name]
    return build(name, frame, target, entry["source"], entry["licence"])
