"""Parquet result store: atomic append-only parts, done-set, verify, compact, export (see docs/store.md).

Modules, one job each: ``reader`` (snapshot of committed parts, reading them), ``writer`` (the commit protocol:
temporary names, checksums, rename order, journals, part locks), ``doneset`` (the one "is this experiment done?"
rule), ``claims`` and ``owners`` (who works on what, and when a holder is gone), ``core`` (the Store object),
``buffer`` (StoreWriter: finished experiments -> commits),
``integrity`` and ``verify`` (checksums, cross-checks, repair), ``status``, ``compact``, ``schema``, ``ioerrors``.

Public API: `Store` (open / create_or_open / runs / curves / queries / duckdb / writer / retire), `DoneTracker`,
`done_keys`, `is_done`, `default_store_dir`, `deterministic_table`, and the schemas in `algrid.store.schema`.
"""

from algrid.store.compare import deterministic_table
from algrid.store.core import DEFAULT_ROOT, Store, StoreWriter, default_store_dir
from algrid.store.doneset import DoneTracker, done_keys, is_done
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
    "done_keys",
    "is_done",
]
