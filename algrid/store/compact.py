"""`algrid store compact` and `algrid store export`.

Compaction merges many small parts (one per flush of every runner) into few large, exp_key-sorted ones, so scans and
DuckDB queries touch a handful of files with big row groups. It goes through the journaled replace of
algrid.store.parts: readers see the old parts or the new ones, never both; a crash leaves a journal that the next
writer, compact or `verify --repair` finishes or rolls back. Committed results are unchanged (tested); uncommitted
orphans and temporary files older than ``min_age_s`` (so a live writer's in-between state is never touched) go.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from algrid.store import parts
from algrid.store.core import Store, read_parts

#: Target size of a compacted part.
TARGET_RUNS = 200_000
TARGET_CURVE_ROWS = 10_000_000


def _sorted(t: pa.Table, keys: list[str]) -> pa.Table:
    t = t.sort_by([(k, "ascending") for k in keys])
    return t.unify_dictionaries().combine_chunks()


def merge_parts(store: Store, ids: list[str], reason: str = "compact") -> str | None:
    """Merge committed parts into one exp_key-sorted part (journaled); None if some part is busy or gone."""
    tables = {}
    try:
        for kind in parts.KINDS:
            paths = [parts.part_path(store.root, kind, p) for p in ids]
            tables[kind] = read_parts([p for p in paths if p.exists()], kind)
    except FileNotFoundError:
        return None
    order = {"runs": ["exp_key"], "curves": ["exp_key", "cycle"], "queries": ["exp_key", "cycle"]}
    tables = {k: _sorted(t, order[k]) for k, t in tables.items()}
    try:
        (new_id,) = parts.replace_parts(store.root, ids, [tables], reason=reason)
    except parts.PartsBusy:
        return None
    return new_id


def compact(store_dir: str | Path, min_age_s: float = 300.0) -> dict[str, Any]:
    """Merge committed parts into large sorted parts; drop old orphans and temp files. Returns what it did."""
    store = Store.open(store_dir)
    recovered = parts.recover_journals(store.root)
    snap = store.snapshot()
    batches: list[list[str]] = [[]]
    runs_n = curves_n = 0
    for pid in snap.committed:
        meta_runs = pq.ParquetFile(parts.part_path(store.root, "runs", pid)).metadata.num_rows
        cpath = parts.part_path(store.root, "curves", pid)
        meta_curves = pq.ParquetFile(cpath).metadata.num_rows if cpath.exists() else 0
        if batches[-1] and (runs_n + meta_runs > TARGET_RUNS or curves_n + meta_curves > TARGET_CURVE_ROWS):
            batches.append([])
            runs_n = curves_n = 0
        batches[-1].append(pid)
        runs_n += meta_runs
        curves_n += meta_curves
    merged_from = merged_into = busy = 0
    for batch in batches:
        if len(batch) < 2:
            continue
        if merge_parts(store, batch) is None:  # another process is replacing some of them: next time
            busy += 1
            continue
        merged_from += len(batch)
        merged_into += 1
    removed = 0
    now = time.time()
    for kind, ids in snap.orphans.items():
        for pid in ids:
            path = parts.part_path(store.root, kind, pid)
            try:
                if now - path.stat().st_mtime >= min_age_s:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
    tmp = parts.remove_stale_tmp(store.root, older_than_s=min_age_s)
    from algrid.store.claims import Claims

    stale_claims = Claims(store.root, stale_after_s=max(min_age_s, 86_400.0)).remove_stale()
    return {
        "parts_before": len(snap.committed),
        "parts_after": len(store.snapshot().committed),
        "merged_parts": merged_from,
        "new_parts": merged_into,
        "orphans_removed": removed,
        "tmp_removed": len(tmp),
        "journals": recovered,
        "busy_batches": busy,
        "stale_claims_removed": stale_claims,
    }


def export(
    store_dir: str | Path, fmt: str, out: str | Path | None = None, tables: tuple[str, ...] = parts.KINDS
) -> list[Path]:
    """Write the committed runs/curves/queries as plain CSV or Parquet files.

    ``out`` is a directory (default: the working directory, so the store itself is never written to) that receives ``<table>.<fmt>`` per table, or a file name ending
    in ``.<fmt>`` that receives one table (runs, or the single table asked for).
    """
    from algrid.errors import AlgridError

    if fmt not in ("csv", "parquet"):
        raise AlgridError(f"--format: expected csv or parquet, got {fmt!r}")
    store = Store.open(store_dir)
    targets: list[tuple[str, Path]]
    if out is not None and str(out).endswith(f".{fmt}"):
        if len(tables) > 1 and tuple(tables) != parts.KINDS:
            raise AlgridError(f"--out {out}: a single file holds one table; give one --table or a directory")
        kind = tables[0] if len(tables) == 1 else "runs"
        targets = [(kind, Path(out))]
    else:
        out_dir = Path(out) if out is not None else Path.cwd()
        targets = [(kind, out_dir / f"{kind}.{fmt}") for kind in tables]
    con = store.duckdb()
    written = []
    for kind, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        quoted = str(tmp).replace("'", "''")
        if fmt == "csv":
            select = (
                "SELECT * EXCLUDE (selected), array_to_string(selected, ' ') AS selected"
                if kind == "queries"
                else "SELECT *"
            )
            con.execute(f"COPY ({select} FROM {kind} ORDER BY ALL) TO '{quoted}' (FORMAT csv, HEADER)")
        else:
            con.execute(
                f"COPY (SELECT * FROM {kind} ORDER BY ALL) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)"
            )
        tmp.replace(target)
        written.append(target)
    return written
