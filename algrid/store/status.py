"""`algrid status`: how far a store is, overall, per shard and per dimension value.

The grid is the denominator: every experiment of the store's current grid (or a given grid file) is ok, failed,
timeout or pending. Per-shard counts recompute shard membership from the grid (``shards`` given, or the N recorded
in the run rows' ``shard`` column), because shards are computed, never stored.
"""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from algrid.results import DIMENSIONS, STATUSES
from algrid.store.core import Store

_CHUNK = 1_000_000


def _grid_table(grid) -> pa.Table:
    parts = [
        grid.decode(np.arange(s, min(s + _CHUNK, len(grid)), dtype=np.int64))
        for s in range(0, len(grid), _CHUNK)
    ]
    return pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]


def _recorded_n(runs: pa.Table) -> int | None:
    labels = [s for s in runs.column("shard").to_pylist() if s]
    if not labels:
        return None
    ns = Counter(int(s.split("/")[1]) for s in labels if "/" in s)
    return ns.most_common(1)[0][0] if ns else None


def _slurm_state(store_dir: Path) -> Any:
    try:
        mod = importlib.import_module("algrid.backends.slurm")
    except ImportError:
        return None
    fn = getattr(mod, "array_status", None)
    if fn is None:
        return None
    try:
        return fn(store_dir)
    except Exception:  # noqa: BLE001 - status must work where SLURM is not reachable
        return None


def store_status(
    store_dir: str | Path, grid_path: str | Path | None = None, shards: int | None = None
) -> dict[str, Any]:
    """The `algrid status --json` object: total/ok/failed/timeout/pending, shards, dimensions (+ slurm if known)."""
    store = Store.open(store_dir)
    grid = store.grid(grid_path)
    table = _grid_table(grid)
    runs = store.read("runs", ["exp_key", "status", "shard"])
    n = shards or _recorded_n(runs) or 1
    shard_of = np.zeros(len(grid), dtype=np.int32)
    if n > 1:
        for i in range(n):
            shard_of[grid.shard(i, n)] = i
    table = table.append_column(
        "shard_id", pa.array(shard_of[table.column("exp_index").to_numpy()], pa.int32())
    )
    con = duckdb.connect()
    con.register("g", table)
    con.register("r", runs)
    con.execute(
        """
        CREATE TEMP TABLE s AS
        SELECT g.*, coalesce(r.st, 'pending') AS st FROM g
        LEFT JOIN (SELECT exp_key, arg_min(status::VARCHAR, CASE status::VARCHAR WHEN 'ok' THEN 0 WHEN 'timeout' THEN 1 ELSE 2 END) AS st FROM r GROUP BY exp_key) r USING (exp_key)
        """
    )
    states = (*STATUSES, "pending")

    def counts(where_rows: list[tuple]) -> dict[str, int]:
        c = {s: 0 for s in states}
        for st, cnt in where_rows:
            c[st] = int(cnt)
        return c

    overall = counts(con.execute("SELECT st, count(*) FROM s GROUP BY st").fetchall())
    stored = con.execute("SELECT count(DISTINCT exp_key) FROM r").fetchall()[0][0]
    out: dict[str, Any] = {
        "store": str(store_dir),
        "grid": grid.name,
        "grid_fingerprint": grid.fingerprint,
        "total": len(grid),
        **overall,
        "outside_grid": int(stored) - (len(grid) - overall["pending"]),
    }
    shard_rows: dict[int, dict[str, int]] = {i: {s: 0 for s in states} for i in range(n)}
    for sid, st, cnt in con.execute("SELECT shard_id, st, count(*) FROM s GROUP BY 1, 2").fetchall():
        shard_rows[int(sid)][st] = int(cnt)
    out["shards"] = [{"shard": i, "of": n, "total": sum(c.values()), **c} for i, c in shard_rows.items()]
    dims: dict[str, dict[str, dict[str, int]]] = {}
    for d in DIMENSIONS:
        per: dict[str, dict[str, int]] = {}
        for value, st, cnt in con.execute(
            f'SELECT "{d}"::VARCHAR, st, count(*) FROM s GROUP BY 1, 2 ORDER BY 1'
        ).fetchall():
            per.setdefault(value, {s: 0 for s in states})[st] = int(cnt)
        dims[d] = per
    out["dimensions"] = dims
    slurm = _slurm_state(Path(store_dir))
    if slurm is not None:
        out["slurm"] = slurm
    return out


def format_status(st: dict[str, Any], max_shards: int = 20) -> str:
    """Human-readable status: totals, the shards that are not finished, per-dimension progress."""
    lines = [
        f"store {st['store']} (grid {st['grid']}): {st['total']} experiments",
        f"  ok {st['ok']}  failed {st['failed']}  timeout {st['timeout']}  pending {st['pending']}"
        + (f"  (+{st['outside_grid']} stored outside this grid)" if st.get("outside_grid") else ""),
    ]
    open_shards = [s for s in st["shards"] if s["pending"] or s["failed"] or s["timeout"]]
    n = st["shards"][0]["of"] if st["shards"] else 1
    if n > 1:
        lines.append(f"shards: {n - len(open_shards)}/{n} complete")
        for s in open_shards[:max_shards]:
            lines.append(
                f"  shard {s['shard']}/{n}: ok {s['ok']} failed {s['failed']} timeout {s['timeout']} pending {s['pending']}"
            )
        if len(open_shards) > max_shards:
            lines.append(f"  ... {len(open_shards) - max_shards} more incomplete shards (use --json)")
    lines.append("dimensions (ok/failed/timeout/pending):")
    for d, values in st["dimensions"].items():
        if len(values) <= 1:
            continue
        cells = ", ".join(
            f"{v} {c['ok']}/{c['failed']}/{c['timeout']}/{c['pending']}" for v, c in list(values.items())[:12]
        )
        more = f", ... (+{len(values) - 12})" if len(values) > 12 else ""
        lines.append(f"  {d}: {cells}{more}")
    if st.get("slurm") is not None:
        lines.append(f"slurm: {st['slurm']}")
    return "\n".join(lines)
