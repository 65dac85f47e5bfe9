"""Which software versions a store's runs were produced with, and whether the store mixes them.

Why: results of two scikit-learn (or scikit-activeml, or Python) versions are not guaranteed to agree, and an
``exp_key`` does not change with them. ``algrid status`` and ``algrid store verify`` therefore count the runs per
recorded version (the version manifest, :data:`algrid.results.MANIFEST_COLUMNS`) and name every column with more
than one value, so that a reader can split the analysis with ``--where`` before trusting a comparison.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa

from algrid.results import MANIFEST_COLUMNS

#: The manifest columns plus the algrid version every run row has always carried.
VERSION_COLUMNS: tuple[str, ...] = ("algrid_version", *MANIFEST_COLUMNS)
#: Counted but never "mixed": which library a run used is a hyperparameter (its implementation), and fast and
#: stock forests give the same results (only the speed differs).
_NOT_VERSIONS = frozenset({"al_library", "forest"})


def _values(runs: pa.Table, column: str) -> list[Any]:
    if column not in runs.column_names:
        return [None] * runs.num_rows
    col = runs.column(column)
    if pa.types.is_dictionary(col.type):
        col = col.cast(pa.string())
    return col.to_pylist()


def _named(value: str) -> list[tuple[str, str]]:
    """``"a==1;b==2"`` -> [("a", "1"), ("b", "2")]."""
    return [tuple(item.split("==", 1)) for item in value.split(";") if "==" in item]  # type: ignore[misc]


def version_census(runs: pa.Table, weight: str | None = None) -> dict[str, Any]:
    """``{"columns": {column: {value: runs}}, "mixed": [column, ...], "unrecorded": runs}``.

    ``al_library_version`` is counted per library (``scikit-activeml==1.0.1``) and ``plugin_versions`` per
    plugin: two libraries are not a mix, two versions of one are. ``unrecorded`` counts runs written before the
    manifest existed (schema version 1). ``weight``: a column of run counts (rows grouped by every version column).
    """
    weights = _values(runs, weight) if weight else [1] * runs.num_rows
    libraries = _values(runs, "al_library")
    columns: dict[str, dict[str, int]] = {}
    for column in VERSION_COLUMNS:
        values = _values(runs, column)
        if column == "al_library_version":
            values = [f"{lib}=={v}" if lib and v else None for lib, v in zip(libraries, values, strict=True)]
        counts: Counter[str] = Counter()
        for v, w in zip(values, weights, strict=True):
            if v is not None:
                counts[v] += w
        columns[column] = dict(sorted(counts.items()))
    mixed = []
    for column, seen in columns.items():
        if column in _NOT_VERSIONS:
            continue
        if column in ("al_library_version", "plugin_versions"):
            versions: dict[str, set[str]] = {}
            for value in seen:
                for name, version in _named(value):
                    versions.setdefault(name, set()).add(version)
            if any(len(v) > 1 for v in versions.values()):
                mixed.append(column)
        elif len(seen) > 1:
            mixed.append(column)
    recorded = _values(runs, "python_version")
    unrecorded = sum(w for v, w in zip(recorded, weights, strict=True) if v is None)
    return {"columns": columns, "mixed": mixed, "unrecorded": unrecorded}


def describe_versions(census: dict[str, Any], limit: int = 3) -> str:
    """One line naming the software of the runs: ``sklearn_version 1.9.1, ..., forest fast``."""
    cells = []
    for column, counts in census.get("columns", {}).items():
        if counts:
            values = list(counts)
            shown = ", ".join(values[:limit]) + (f", +{len(values) - limit}" if len(values) > limit else "")
            cells.append(f"{column} {shown}" if len(values) == 1 else f"{column} {{{shown}}}")
    return "; ".join(cells)


def describe_mix(census: dict[str, Any], limit: int = 4) -> list[str]:
    """One line per mixed column: ``sklearn_version: 1.8.0 (120 runs), 1.9.1 (40 runs)``."""
    lines = []
    for column in census.get("mixed", []):
        counts = census["columns"][column]
        cells = [f"{v} ({n} runs)" for v, n in sorted(counts.items(), key=lambda kv: -kv[1])]
        more = f", ... (+{len(cells) - limit})" if len(cells) > limit else ""
        lines.append(f"{column}: {', '.join(cells[:limit])}{more}")
    return lines


def mix_warning(census: dict[str, Any], store: str) -> list[str]:
    """The lines `status` and `store verify` print for a store that mixes versions (none for a uniform store)."""
    if not census.get("mixed"):
        return []
    first = census["mixed"][0]
    value = next(iter(census["columns"][first]))
    if first == "al_library_version":
        lib, version = value.split("==", 1)
        example = f"al_library = '{lib}' AND al_library_version = '{version}'"
    else:
        example = f"{first} = '{value}'"
    return [
        f"warning: the runs of {store} were produced with different versions; results may not be comparable "
        f'across them (split them with --where "{example}"):',
        *[f"  {line}" for line in describe_mix(census)],
    ]
