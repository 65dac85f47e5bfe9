"""Parquet result store: atomic append-only parts, done-set, verify, compact, export (see docs/store.md).

Public API: `Store` (open / create_or_open / runs / curves / queries / duckdb / writer / retire), `DoneTracker`,
`default_store_dir`, `deterministic_table`, `verify`, `compact`, `export`, `store_status`, and the schemas in `algrid.store.schema`.
"""

from algrid.store.compare import deterministic_table
from algrid.store.core import DEFAULT_ROOT, DoneTracker, Store, StoreWriter, default_store_dir
from algrid.store.schema import CURVES_SCHEMA, QUERIES_SCHEMA, RUNS_SCHEMA, SCHEMA_VERSION, TIMING_COLUMNS

__all__ = [
    "CURVES_SCHEMA",
    "DEFAULT_ROOT",
    "QUERIES_SCHEMA",
    "RUNS_SCHEMA",
    "SCHEMA_VERSION",
    "TIMING_COLUMNS",
    "DoneTracker",
    "Store",
    "StoreWriter",
    "default_store_dir",
    "deterministic_table",
]
