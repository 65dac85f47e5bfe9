"""Arrow schemas of the result store (schema version 2) and ExperimentResult -> Arrow conversion.

Why fixed schemas: every part written by any process on any host must concatenate with every other part, and
DuckDB/pandas users get stable types. Hyperparameters are dictionary-encoded (few distinct values, millions of rows),
metrics are float32 (7 significant digits is far beyond the noise of an AL curve), timings are the only columns allowed
to differ between two runs of the same experiment.

Schema versions: 2 added the version manifest (MANIFEST_COLUMNS) to the runs table. Version-1 parts stay readable
as they are (:func:`conform` gives them null manifest columns: "not recorded"); a runner that writes to a version-1
store raises its ``meta.json`` to 2, so that an older algrid, which would drop the new columns when it compacts,
refuses the store instead.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from algrid import __version__
from algrid.results import (
    CURVE_METRICS,
    CURVE_TIMINGS,
    MANIFEST_COLUMNS,
    SUMMARIES,
    SUMMARY_METRICS,
    ExperimentResult,
)

SCHEMA_VERSION = 2
#: Schema versions this algrid reads (and writes to, raising them to SCHEMA_VERSION).
READABLE_SCHEMA_VERSIONS: tuple[int, ...] = (1, 2)

_DICT = pa.dictionary(pa.int32(), pa.string())
#: String dimensions (dictionary-encoded) and integer dimensions (int32) of a run row.
STRING_DIMS: tuple[str, ...] = ("dataset", "strategy", "implementation", "initial_pool", "learner")
INT_DIMS: tuple[str, ...] = ("batch_size", "split", "start", "seed")
SUMMARY_COLUMNS: tuple[str, ...] = tuple(f"{m}_{s}" for m in SUMMARY_METRICS for s in SUMMARIES)
#: Columns that may differ between two runs of the same experiment (everything else is deterministic): timings,
#: where and when it ran, and the software versions (a run is reproducible across them, or its exp_key changes).
TIMING_COLUMNS: frozenset[str] = frozenset(
    {
        *MANIFEST_COLUMNS,
        "wall_s",
        "cpu_s",
        "host",
        "finished_at",
        "shard",
        "grid_fingerprint",
        "exp_index",
        "algrid_version",
        *CURVE_TIMINGS,
    }
)

RUNS_SCHEMA = pa.schema(
    [
        pa.field("exp_key", pa.string(), nullable=False),
        pa.field("exp_index", pa.int64()),
        *[pa.field(d, _DICT) for d in STRING_DIMS],
        *[pa.field(d, pa.int32()) for d in INT_DIMS],
        pa.field("status", _DICT),
        pa.field("error", pa.string()),
        pa.field("cycles_done", pa.int32()),
        pa.field("wall_s", pa.float64()),
        pa.field("cpu_s", pa.float64()),
        *[pa.field(c, pa.float32()) for c in SUMMARY_COLUMNS],
        pa.field("host", pa.string()),
        pa.field("algrid_version", pa.string()),
        pa.field("finished_at", pa.timestamp("ms", tz="UTC")),
        # Additions to the documented v1 columns (readers tolerate their absence):
        pa.field("shard", pa.string()),  # "i/N" of the `algrid run --shard` that produced the row, else null
        pa.field("grid_fingerprint", _DICT),  # the grid exp_index refers to
        pa.field("query_learner", _DICT),  # the model the strategy scored with; null = the learner itself
        # Schema version 2: the version manifest (algrid.results.MANIFEST_COLUMNS; null = not recorded)
        *[pa.field(c, _DICT) for c in MANIFEST_COLUMNS],
    ]
)

CURVES_SCHEMA = pa.schema(
    [
        pa.field("exp_key", pa.string(), nullable=False),
        pa.field("cycle", pa.int32()),
        pa.field("n_labeled", pa.int32()),
        *[pa.field(m, pa.float32()) for m in CURVE_METRICS],
        *[pa.field(t, pa.float32()) for t in CURVE_TIMINGS],
    ]
)

QUERIES_SCHEMA = pa.schema(
    [
        pa.field("exp_key", pa.string(), nullable=False),
        pa.field("cycle", pa.int32()),
        pa.field("selected", pa.list_(pa.int32())),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {"runs": RUNS_SCHEMA, "curves": CURVES_SCHEMA, "queries": QUERIES_SCHEMA}
#: Rows per row group when writing (big enough for fast scans, small enough to prune by exp_key after compaction).
ROW_GROUP_ROWS: dict[str, int] = {"runs": 65_536, "curves": 262_144, "queries": 65_536}

_HOST = socket.gethostname()


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _manifest(result: ExperimentResult) -> dict[str, str | None]:
    """The run's manifest as recorded by the process that ran it; what that process could not send (a run stopped
    from outside: timeout, crash) is this process's, which runs the same installation."""
    got = result.manifest or {}
    if all(c in got for c in MANIFEST_COLUMNS):
        return {c: got[c] for c in MANIFEST_COLUMNS}
    from algrid.engine.manifest import run_manifest

    return run_manifest(result.config, got.get("forest")) | {c: got[c] for c in MANIFEST_COLUMNS if c in got}


def result_rows(
    result: ExperimentResult, *, shard: str | None = None, grid_fingerprint: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """One run row, its curve rows and query rows as plain dicts (buffered by the writer, converted in bulk).

    cycles_done is stored as ``len(curve) - 1`` so that "a run row has cycles_done + 1 curve rows" holds by
    construction (-1: the experiment stopped before the start set was evaluated). Summaries are kept only for `ok`
    rows: a partial curve's AULC is not comparable with a full one's (the prior study's silent-zero lesson).
    """
    cfg = result.config
    ok = result.status == "ok"
    run: dict[str, Any] = {
        "exp_key": result.exp_key,
        "exp_index": result.exp_index,
        **{d: None if cfg.get(d) is None else str(cfg[d]) for d in STRING_DIMS},
        **{d: None if cfg.get(d) is None else int(cfg[d]) for d in INT_DIMS},
        "status": result.status,
        "error": result.error,
        "cycles_done": len(result.curve) - 1,
        "wall_s": float(result.wall_s),
        "cpu_s": float(result.cpu_s),
        **{c: (_num(result.summary.get(c)) if ok else None) for c in SUMMARY_COLUMNS},
        "host": _HOST,
        "algrid_version": __version__,
        "finished_at": datetime.now(UTC),
        "shard": shard,
        "grid_fingerprint": grid_fingerprint,
        "query_learner": cfg.get("query_learner"),
        **_manifest(result),
    }
    curves = []
    for c, point in enumerate(result.curve):
        row: dict[str, Any] = {"exp_key": result.exp_key, "cycle": c, "n_labeled": point.get("n_labeled")}
        for m in (*CURVE_METRICS, *CURVE_TIMINGS):
            row[m] = _num(point.get(m))
        curves.append(row)
    queries = [
        {"exp_key": result.exp_key, "cycle": c, "selected": [int(i) for i in sel]}
        for c, sel in enumerate(result.selected[: len(result.curve)])
    ]
    return run, curves, queries


def rows_to_table(kind: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Buffered row dicts -> an Arrow table of the store schema (columns built one by one: fast and typed)."""
    schema = SCHEMAS[kind]
    columns = []
    for field in schema:
        values = [r.get(field.name) for r in rows]
        if pa.types.is_dictionary(field.type):
            columns.append(pa.array(values, pa.string()).dictionary_encode())
        else:
            columns.append(pa.array(values, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def conform(table: pa.Table, kind: str) -> pa.Table:
    """Cast a table read from any part (maybe an older v1 part lacking added columns) to the current schema."""
    schema = SCHEMAS[kind]
    cols = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            if col.type != field.type:
                if pa.types.is_dictionary(field.type) and not pa.types.is_dictionary(col.type):
                    col = col.cast(pa.string()).dictionary_encode()
                else:
                    col = col.cast(field.type)
            cols.append(col)
        else:
            cols.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(cols, schema=schema)
