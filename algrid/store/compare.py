"""The deterministic content of a store: what must be identical however the experiments were run.

Why: algrid promises the same bytes for the same experiment across shard layouts, process counts, backends and the
model cache. Timings, hosts, shard labels and exp_index (grid position) legitimately differ; everything else must
not. Users check a migration or a new backend with ``deterministic_table(a, k).equals(deterministic_table(b, k))``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from algrid.store.core import Store
from algrid.store.schema import TIMING_COLUMNS

#: Sort keys per table.
TABLE_KEYS: dict[str, list[str]] = {
    "runs": ["exp_key"],
    "curves": ["exp_key", "cycle"],
    "queries": ["exp_key", "cycle"],
}


def deterministic_table(store_dir: str | Path, kind: str) -> pa.Table:
    """Committed rows of one table without timing columns, dictionaries decoded, sorted by key."""
    if kind not in TABLE_KEYS:
        raise ValueError(f"unknown table {kind!r}; expected one of {', '.join(TABLE_KEYS)}")
    table = Store.open(store_dir).read(kind)
    table = table.select([c for c in table.column_names if c not in TIMING_COLUMNS])
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):  # parts read in another order build other dictionaries
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table.sort_by([(k, "ascending") for k in TABLE_KEYS[kind]])
