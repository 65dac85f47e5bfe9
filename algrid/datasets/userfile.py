"""User datasets from a CSV or Parquet file: `file:<path>#<label column>` (path relative to the working directory
or absolute). They get the same preprocessing as the shipped datasets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from algrid.datasets.registry import DatasetError, DatasetInfo
from algrid.errors import AlgridError

PREFIX = "file:"
SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def parse(name: str) -> tuple[Path, str]:
    """(path, label column) of `file:<path>#<label>`."""
    ref = name[len(PREFIX) :]
    path, sep, label = ref.rpartition("#")
    if not sep or not path or not label:
        raise DatasetError(
            f"invalid file dataset {name!r}: expected file:<path.csv|path.parquet>#<label column>"
        )
    return Path(path).expanduser(), label


def read(path: Path) -> pd.DataFrame:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise AlgridError(f"{path}: unsupported file type {path.suffix!r} (use .csv, .tsv or .parquet)")
    if not path.is_file():
        raise AlgridError(f"{path}: no such file")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",")
    except (OSError, ValueError) as exc:
        raise AlgridError(f"{path}: cannot read ({exc})") from exc


def load(name: str):
    """Preprocessed Dataset for `file:<path>#<label>`."""
    from algrid.datasets.loader import build

    path, label = parse(name)
    return build(name, read(path), label, f"user file {path}", "user-provided")


def info(name: str) -> DatasetInfo:
    """Metadata of a user file (loads it once per process: the preprocessed shape depends on the content)."""
    from algrid.datasets.loader import load_dataset

    return load_dataset(name).info
