"""The dataset vocabulary every source and the registry share: DatasetInfo, Dataset, DatasetError, Source.

Why a module of its own: the sources, the registry and the loader all speak these types. Defining them at the
bottom (stdlib only, numpy only for type checking) lets each of them import it without importing one another, so
the datasets package has no import cycle and `import algrid.datasets` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from algrid.errors import AlgridError

if TYPE_CHECKING:
    import numpy as np

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


@dataclass(frozen=True)
class Dataset:
    """Preprocessed features `X` (float64, n x d), labels `y` (int64 codes 0..k-1) and metadata."""

    X: np.ndarray
    y: np.ndarray
    info: DatasetInfo
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    dropped_columns: tuple[str, ...] = ()


def kind_of(classes: int) -> Kind:
    return "binary" if classes == 2 else "multiclass"


#: How a source loads a dataset when its metadata needs the data: the registry passes the per-process cached
#: `load_dataset`, so asking for the info and then running an experiment preprocesses the data once.
Loader = Callable[[str], Dataset]


class Source(Protocol):
    """What every dataset source module (shipped, synthetic, plugin, openml, userfile) provides.

    `OPEN_ENDED` sources accept names the user makes up (`openml:<id>`, `file:<path>#<label>`): `names()` lists
    none of them, and a name that does not load is a bad name (DatasetError), not a broken catalogue entry.
    """

    OPEN_ENDED: bool

    def claims(self, name: str) -> bool: ...

    def names(self) -> list[str]: ...

    def info(self, name: str, loader: Loader | None = None) -> DatasetInfo: ...

    def load(self, name: str) -> Dataset: ...
