"""Dataset metadata, readable without loading any data.

Shipped datasets are described by `manifest.json` (read once per process); synthetic ones by constants in
`synthetic.py`. The grid validates millions of configurations against this metadata, so lookups are dict hits.
`openml:<id>` and `file:<path>#<label>` names are resolved by their own modules.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from algrid.datasets import synthetic
from algrid.datasets.version import PREPROCESSING_VERSION
from algrid.errors import AlgridError

Kind = Literal["binary", "multiclass"]


class DatasetError(AlgridError, KeyError):
    """An unknown or unavailable dataset name: a KeyError for the API, one clean line for the CLI."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class DatasetInfo:
    """What the grid and `algrid datasets` need to know about a dataset (after preprocessing)."""

    name: str
    rows: int
    features: int
    classes: int
    source: str
    licence: str
    kind: Kind

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def kind_of(classes: int) -> Kind:
    return "binary" if classes == 2 else "multiclass"


@lru_cache(maxsize=1)
def manifest() -> dict[str, Any]:
    """The parsed manifest.json of the shipped datasets ({"preprocessing_version", "datasets": {name: entry}})."""
    text = resources.files("algrid.datasets").joinpath("manifest.json").read_text(encoding="utf-8")
    return json.loads(text)


def _synthetic_info(name: str) -> DatasetInfo:
    _, rows, features, classes = synthetic.GENERATORS[name]
    return DatasetInfo(name, rows, features, classes, synthetic.SOURCE, synthetic.LICENCE, kind_of(classes))


@lru_cache(maxsize=1)
def _builtin_infos() -> dict[str, DatasetInfo]:
    infos: dict[str, DatasetInfo] = {}
    for name, e in manifest()["datasets"].items():
        infos[name] = DatasetInfo(
            name, e["rows"], e["features"], e["classes"], e["source"], e["licence"], e["kind"]
        )
    for name in synthetic.GENERATORS:
        infos[name] = _synthetic_info(name)
    return dict(sorted(infos.items()))


def dataset_names() -> list[str]:
    """Every built-in dataset (shipped + synthetic) and plugin dataset, sorted. `openml:<id>` / `file:...` names
    are open-ended."""
    from algrid.datasets import plugin

    return sorted([*_builtin_infos(), *plugin.names()])


def unknown_dataset(name: str) -> DatasetError:
    close = difflib.get_close_matches(name, dataset_names(), n=5, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    return DatasetError(
        f"unknown dataset {name!r}{hint} (see `algrid datasets`; also openml:<id> and file:<path>#<label>)"
    )


def dataset_info(name: str) -> DatasetInfo:
    """Metadata of `name` without loading the data (OpenML: from the cache; user files: read once)."""
    info = _builtin_infos().get(name)
    if info is not None:
        return info
    from algrid.datasets import plugin

    if plugin.get(name) is not None:  # the shape is known only after loading (once per process)
        from algrid.datasets.loader import load_dataset

        return load_dataset(name).info
    try:
        if name.startswith("openml:"):
            from algrid.datasets import openml

            return openml.info(name)
        if name.startswith("file:"):
            from algrid.datasets import userfile

            return userfile.info(name)
    except DatasetError:
        raise
    except AlgridError as exc:  # unreadable file, missing label column...: the name is not usable
        raise DatasetError(f"dataset {name!r} is not usable: {exc}") from exc
    raise unknown_dataset(name)


__all__ = [
    "DatasetError",
    "DatasetInfo",
    "PREPROCESSING_VERSION",
    "dataset_info",
    "dataset_names",
    "manifest",
]
