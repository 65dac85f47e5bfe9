"""`algrid store compact` and `algrid store export`.

Compaction merges many small parts (one per flush of every runner) into few large, exp_key-sorted ones, so scans and
DuckDB queries touch a handful of files with big row groups. It goes through the journaled replace of
algrid.store.writer: readers see the old parts or the new ones, never both; a crash leaves a journal that the next
writer, compact or `verify --repair` finishes or rolls back. Committed results are unchanged (tested); uncommitted
orphans and temporary files older than ``min_age_s`` go, except those of a writer still alive on this host (so
``--min-age 0`` never pulls a file from under a running runner). Parts it cannot merge (locked by another process,
damaged) are left as they are and listed in ``skipped`` with the reason: compaction never skips silently.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from algrid.errors import StoreDamaged, StoreIOError
from algrid.store import reader, writer
from algrid.store.core import Store
from algrid.store.ioerrors import EXIT_CANTCREAT, guarded
from algrid.store.reader import KINDS, part_path, read_parts

#: Target size of a compacted part.
TARGET_RUNS = 200_000
TARGET_CURVE_ROWS = 10_000_000


def _sorted(t: pa.Table, keys: list[str]) -> pa.Table:
    t = t.sort_by([(k, "ascending") for k in keys])
    return t.unify_dictionaries().combine_chunks()


def merge_parts(store: Store, ids: list[str], reason: str = "compact") -> str | None:
    """Merge committed parts into one exp_key-sorted part (journaled); None if some part is busy or gone, or the disk
    is full (a merge is optional: the parts simply stay as they are, and nothing half-written remains)."""
    try:
        return _merge(store, ids, reason)
    except (writer.PartsBusy, FileNotFoundError, StoreIOError):
        return None


def _merge(store: Store, ids: list[str], reason: str) -> str:
    """merge_parts that says why it could not (PartsBusy / FileNotFoundError / StoreDamaged)."""
    tables = {}
    for kind in KINDS:
        paths = [part_path(store.root, kind, p) for p in ids]
        tables[kind] = read_parts([p for p in paths if p.exists()], kind)
    order = {"runs": ["exp_key"], "curves": ["exp_key", "cycle"], "queries": ["exp_key", "cycle"]}
    tables = {k: _sorted(t, order[k]) for k, t in tables.items()}
    store.upgrade_schema()  # the merged part has the current columns
    (new_id,) = writer.replace_parts(store.root, ids, [tables], reason=reason)
    return new_id


def _rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0


def _batches(store: Store, snap: reader.Snapshot, skipped: list[dict[str, Any]]) -> list[list[str]]:
    """Readable committed parts in groups of about the target size (damaged parts are skipped, with the reason)."""
    batches: list[list[str]] = [[]]
    runs_n = curves_n = 0
    for pid in snap.committed:
        why = next(
            (
                w
                for k in KINDS
                if (w := reader.part_problem(part_path(store.root, k, pid), k)) not in (None, "missing")
            ),
            None,
        )
        if why is not None:
            skipped.append({"parts": [pid], "reason": f"damaged ({why}): run `algrid store verify --repair`"})
            continue
        n_runs, n_curves = (
            _rows(part_path(store.root, "runs", pid)),
            _rows(part_path(store.root, "curves", pid)),
        )
        if batches[-1] and (runs_n + n_runs > TARGET_RUNS or curves_n + n_curves > TARGET_CURVE_ROWS):
            batches.append([])
            runs_n = curves_n = 0
        batches[-1].append(pid)
        runs_n += n_runs
        curves_n += n_curves
    return batches


def _remove_orphans(store: Store, snap: reader.Snapshot, min_age_s: float) -> tuple[int, int]:
    """Uncommitted curves/queries parts and manifests older than min_age_s, unless their writer is alive here.
    Returns (parts removed, manifests removed)."""
    removed = [0, 0]
    now = time.time()
    committed = set(snap.committed) | snap.masked
    candidates = [
        (part_path(store.root, kind, pid), pid) for kind, ids in snap.orphans.items() for pid in ids
    ]
    manifests = store.root / "manifests"
    if manifests.is_dir():
        for p in manifests.iterdir():
            pid = reader.part_id_of(p.name.replace(".json", ".parquet"))
            if p.name.startswith("part-") and p.name.endswith(".json") and pid not in committed:
                candidates.append((p, pid))
    for path, pid in candidates:
        # re-check now: parts committed since the snapshot (this compaction's own merges included) are not orphans
        if writer.writer_alive(pid) or part_path(store.root, "runs", pid).exists():
            continue
        try:
            if now - path.stat().st_mtime >= min_age_s:
                path.unlink()
                removed[path.suffix == ".json"] += 1
        except FileNotFoundError:
            pass
    return removed[0], removed[1]


def compact(store_dir: str | Path, min_age_s: float = 300.0) -> dict[str, Any]:
    """Merge committed parts into large sorted parts; drop old orphans and temp files. Returns what it did."""
    store = Store.open(store_dir)
    recovered = writer.recover_journals(store.root)
    snap = store.snapshot()
    skipped: list[dict[str, Any]] = []
    merged_from = merged_into = busy = 0
    for batch in _batches(store, snap, skipped):
        if len(batch) < 2:
            continue
        try:
            _merge(store, batch, "compact")
        except writer.PartsBusy as exc:  # another process is replacing some of them: next time
            busy += 1
            skipped.append({"parts": batch, "reason": f"part {exc.part_id} {exc.why}; compact again later"})
            continue
        except FileNotFoundError:
            busy += 1
            skipped.append(
                {"parts": batch, "reason": "replaced by another process meanwhile; compact again later"}
            )
            continue
        merged_from += len(batch)
        merged_into += 1
    orphans = [pid for ids in snap.orphans.values() for pid in ids]
    removed, manifests = _remove_orphans(store, snap, min_age_s)
    tmp = writer.remove_stale_tmp(store.root, older_than_s=min_age_s)
    from algrid.store.claims import Claims

    stale_claims = Claims(store.root, stale_after_s=max(min_age_s, 86_400.0)).remove_stale()
    live = [pid for pid in orphans if writer.writer_alive(pid)]
    if live:
        skipped.append(
            {
                "parts": sorted(set(live)),
                "reason": "uncommitted parts of a runner still writing on this host: kept",
            }
        )
    return {
        "parts_before": len(snap.committed),
        "parts_after": len(store.snapshot().committed),
        "merged_parts": merged_from,
        "new_parts": merged_into,
        "orphans_removed": removed,
        "tmp_removed": len(tmp),
        "manifests_removed": manifests,
        "journals": recovered,
        "busy_batches": busy,
        "stale_claims_removed": stale_claims,
        "skipped": skipped,
        "untrusted_journals": sorted(snap.untrusted),
    }


def export(
    store_dir: str | Path, fmt: str, out: str | Path | None = None, tables: tuple[str, ...] = KINDS
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
        if len(tables) > 1 and tuple(tables) != KINDS:
            raise AlgridError(f"--out {out}: a single file holds one table; give one --table or a directory")
        kind = tables[0] if len(tables) == 1 else "runs"
        targets = [(kind, Path(out))]
    else:
        out_dir = Path(out) if out is not None else Path.cwd()
        targets = [(kind, out_dir / f"{kind}.{fmt}") for kind in tables]
    con = store.duckdb()
    written = []
    for kind, target in targets:
        tmp = target.with_name(f".{target.name}.tmp")
        quoted = str(tmp).replace("'", "''")
        try:
            with guarded(target.parent, f"exporting {kind}", cleanup=[tmp]):
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy(con, kind, fmt, quoted)
                tmp.replace(target)
        except duckdb.IOException as exc:
            tmp.unlink(missing_ok=True)
            err = StoreIOError(f"cannot write {target}: {str(exc).strip().splitlines()[0][:300]}")
            err.exit_code = EXIT_CANTCREAT
            raise err from None
        except duckdb.Error as exc:
            tmp.unlink(missing_ok=True)
            text = str(exc).strip().splitlines()
            raise StoreDamaged(
                f"{store.root}: cannot export {kind}: {text[0][:300] if text else exc}; "
                f"run `algrid store verify {store.root}` to find the damaged part"
            ) from None
        written.append(target)
    return written


def _copy(con, kind: str, fmt: str, quoted: str) -> None:
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
