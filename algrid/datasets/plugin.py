"""Datasets that plugins register: a name and a loader returning ``(X, y)`` or ``(X, y, info)``.

They go through the same versioned preprocessing as shipped data (impute, encode, scale), so a plugin dataset is
compared on the same terms as the built-in ones. ``info`` may give ``feature_names``, ``source`` and ``licence``.
Their shape is known only after loading, so `info` asks the loader it is given (the registry passes the
per-process cached one); this module never imports the loader or the registry, which import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from algrid.datasets.model import Dataset, DatasetError, DatasetInfo, Loader

# The Source protocol (OPEN_ENDED, claims, names, info, load) is public too: mypy checks a module against a
# protocol through the names it exports.
__all__ = ["OPEN_ENDED", "PluginDataset", "add", "claims", "get", "info", "load", "names", "remove"]

OPEN_ENDED = False


@dataclass(frozen=True)
class PluginDataset:
    name: str
    loader: Callable[[], Any]
    source: str
    licence: str
    description: str


_DATASETS: dict[str, PluginDataset] = {}


def add(entry: PluginDataset) -> None:
    if entry.name in _DATASETS:
        raise ValueError(f"dataset {entry.name!r} already exists")
    _DATASETS[entry.name] = entry


def remove(name: str) -> None:
    _DATASETS.pop(name, None)


def get(name: str) -> PluginDataset | None:
    return _DATASETS.get(name)


def names() -> list[str]:
    return sorted(_DATASETS)


def claims(name: str) -> bool:
    return name in _DATASETS


def info(name: str, loader: Loader | None = None) -> DatasetInfo:
    """Metadata of a plugin dataset: loads it through `loader` (default: `load` below, uncached)."""
    return (loader or load)(name).info


def load(name: str) -> Dataset:
    """Call the plugin's loader and preprocess what it returns (DatasetError, one line, if it is unusable)."""
    import numpy as np
    import pandas as pd

    from algrid.datasets.build import build

    entry = _DATASETS[name]
    try:
        out = entry.loader()
    except Exception as exc:  # noqa: BLE001 - a failing user loader is a bad dataset, not a crash
        raise DatasetError(
            f"dataset {name!r}: its loader failed: {type(exc).__name__}: {exc}"[:300]
        ) from None
    if not isinstance(out, tuple) or len(out) not in (2, 3):
        raise DatasetError(
            f"dataset {name!r}: the loader must return (X, y) or (X, y, info), got {type(out).__name__}"
        )
    X, y, *rest = out
    info = rest[0] if rest else {}
    if not isinstance(info, dict):
        raise DatasetError(f"dataset {name!r}: info must be a dict, got {type(info).__name__}")
    if isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True).copy()
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DatasetError(f"dataset {name!r}: X must be 2-D, got shape {arr.shape}")
        names_ = list(info.get("feature_names") or [f"x{i}" for i in range(arr.shape[1])])
        frame = pd.DataFrame(arr, columns=[str(c) for c in names_])
    labels = np.asarray(y).ravel()
    if len(labels) != len(frame):
        raise DatasetError(f"dataset {name!r}: X has {len(frame)} rows but y has {len(labels)}")
    target = "__algrid_label__"
    frame[target] = labels
    source = str(info.get("source") or entry.source)
    licence = str(info.get("licence") or entry.licence)
    return build(name, frame, target, source, licence)
