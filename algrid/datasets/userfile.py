"""User datasets from a CSV or Parquet file: `file:<path>#<label column>` (path relative to the working directory
or absolute). They get the same preprocessing as the shipped datasets.

Their shape depends on the content, so `info` loads through the loader it is given (the registry passes the
per-process cached one); this module never imports the loader or the registry, which import it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from algrid.datasets.model import Dataset, DatasetError, DatasetInfo, Loader
from algrid.errors import AlgridError

if TYPE_CHECKING:
    import pandas as pd

OPEN_ENDED = True
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
    """The raw table of a .csv/.tsv/.parquet file (AlgridError, one line, when it cannot be read)."""
    import pandas as pd

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


def claims(name: str) -> bool:
    return name.startswith(PREFIX)


def names() -> list[str]:
    """None listed: any `file:<path>#<label>` is a name."""
    return []


def load(name: str) -> Dataset:
    """Preprocessed Dataset for `file:<path>#<label>`."""
    from algrid.datasets.build import build

    path, label = parse(name)
    return build(name, read(path), label, f"user file {path}", "user-provided")


def info(name: str, loader: Loader | None = None) -> DatasetInfo:
    """Metadata of a user file, read by loading it through `loader` (default: `load`, uncached)."""
    return (loader or load)(name).info
