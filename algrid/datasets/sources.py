"""Which source owns a dataset name: the one dispatch the registry (metadata) and the loader (data) share.

Why its own module: the registry and the loader both turn a name into a source, and the loader must not import
the registry (the registry hands the loader's cache to sources that need data for their metadata). Importing the
sources is cheap: each one imports pandas, pyarrow and scikit-learn only when it loads data.
"""

from __future__ import annotations

import difflib

from algrid.datasets import openml, plugin, shipped, synthetic, userfile
from algrid.datasets.model import DatasetError, Source

#: In the order names are tried. Plugin names can clash with neither the built-in names nor the open-ended
#: prefixes (algrid.registry.register_dataset refuses them), so the order only matters for speed.
SOURCES: tuple[Source, ...] = (shipped, synthetic, plugin, openml, userfile)


def source_of(name: str) -> Source:
    """The source that owns `name` (DatasetError naming close matches when none does)."""
    for source in SOURCES:
        if source.claims(name):
            return source
    raise unknown_dataset(name)


def listed_names() -> list[str]:
    """Every listed dataset (shipped, synthetic, plugin), sorted; open-ended names are not listed."""
    return sorted(name for source in SOURCES for name in source.names())


def unknown_dataset(name: str) -> DatasetError:
    close = difflib.get_close_matches(name, listed_names(), n=5, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    return DatasetError(
        f"unknown dataset {name!r}{hint} (see `algrid datasets`; also openml:<id> and file:<path>#<label>)"
    )
