"""`algrid status`: how far a store is, overall, per shard and per dimension value.

The grid is the denominator: every experiment of the store's current grid (or a given grid file) is ok, failed,
timeout or pending. Per-shard counts recompute shard membership from the grid (``shards`` given, or the N recorded
in the run rows' ``shard`` column), because shards are computed, never stored.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from algrid.identity import keys_to_hex
from algrid.results import DIMENSIONS, STATUSES
from algrid.store import claims, reader
from algrid.store.core import Store
from algrid.store.doneset import STATUS_RANK
from algrid.store.versions import VERSION_COLUMNS, describe_versions, mix_warning, version_census

_CHUNK = 1_000_000


def _recorded_n(runs: pa.Table) -> int | None:
    labels = [s for s in runs.column("shard").to_pylist() if s]
    if not labels:
        return None
    ns = Counter(int(s.split("/")[1]) for s in labels if "/" in s)
    return ns.most_common(1)[0][0] if ns else None


_STATES: tuple[str, ...] = (*STATUSES, "pending")
_PRIORITY = STATUS_RANK  # if an exp_key was stored twice, the best row counts (the done rule's order)


def hex_to_keys(hex_keys: list[str]) -> np.ndarray:
    """16-hex exp_keys -> uint64 (inverse of algrid.grid.lazy.keys_to_hex), vectorised."""
    if not hex_keys:
        return np.zeros(0, dtype=np.uint64)
    return np.frombuffer(bytes.fromhex("".join(hex_keys)), dtype=">u8").astype(np.uint64)


def _stored(runs: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique stored keys (uint64) and their status codes (index into _STATES)."""
    keys = hex_to_keys(runs.column("exp_key").to_pylist())
    statuses = runs.column("status").cast(pa.string()).to_pylist()
    codes = np.array([STATUSES.index(x) if x in STATUSES else 1 for x in statuses], dtype=np.int8)
    prio = np.array([_PRIORITY.get(x, 2) for x in statuses], dtype=np.int8)
    order = np.lexsort((prio, keys))
    keys, codes = keys[order], codes[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], codes[first]


def _stale(store: Store, grid: Any, unmatched: np.ndarray) -> int:
    """Stored experiments outside the grid whose hyperparameters *are* in it: results of an older version of a
    plugin, a ``file:`` dataset or a learner definition (their exp_key changed; they are kept, never reused)."""
    if not len(unmatched):
        return 0
    runs, _ = reader.read_tolerant(store.snapshot().paths("runs"), "runs", ["exp_key", *DIMENSIONS])
    wanted = set(keys_to_hex(unmatched).tolist())
    n = 0
    for row in runs.to_pylist():
        if row["exp_key"] in wanted:
            wanted.discard(row["exp_key"])
            if grid.index_of(row) is not None:
                n += 1
    return n


def store_status(
    store_dir: str | Path, grid_path: str | Path | None = None, shards: int | None = None
) -> dict[str, Any]:
    """The `algrid status --json` object: total/ok/failed/timeout/pending, shards, dimensions.

    The store knows nothing about schedulers: `algrid status` adds the ``slurm`` key from the cluster layer.

    Vectorised over the grid's dictionary codes and uint64 keys (no per-experiment Python objects), so a
    6-million-experiment grid takes seconds.
    """
    store = Store.open(store_dir)
    grid = store.grid(grid_path)
    snap = store.snapshot()
    runs, damaged = reader.read_tolerant(
        snap.paths("runs"), "runs", ["exp_key", "status", "shard", *VERSION_COLUMNS]
    )
    for kind in ("curves", "queries"):  # footers only: cheap, and catches truncated or foreign parts
        for p in snap.paths(kind):
            why = reader.part_problem(p, kind)
            if why is not None:
                damaged[f"{kind}/{p.name}"] = why
    stored_keys, stored_codes = _stored(runs)
    n = shards or _recorded_n(runs) or 1
    shard_of = np.zeros(len(grid), dtype=np.int32)
    if n > 1:
        for i in range(n):
            shard_of[grid.shard(i, n)] = i
    k = len(_STATES)
    dim_counts = {d: np.zeros(len(grid.values[d]) * k, dtype=np.int64) for d in DIMENSIONS}
    shard_counts = np.zeros(n * k, dtype=np.int64)
    matched = 0
    stored_hit = np.zeros(len(stored_keys), dtype=bool)
    for start in range(0, len(grid), _CHUNK):
        idx = np.arange(start, min(start + _CHUNK, len(grid)), dtype=np.int64)
        codes = grid.codes(idx)
        keys = grid.keys_from_codes(codes)
        st = np.full(len(idx), k - 1, dtype=np.int64)  # pending
        if len(stored_keys):
            pos = np.minimum(np.searchsorted(stored_keys, keys), len(stored_keys) - 1)
            hit = stored_keys[pos] == keys
            st[hit] = stored_codes[pos[hit]]
            stored_hit[pos[hit]] = True
            matched += int(hit.sum())
        for d in DIMENSIONS:
            dim_counts[d] += np.bincount(codes[d].astype(np.int64) * k + st, minlength=len(dim_counts[d]))
        shard_counts += np.bincount(shard_of[idx].astype(np.int64) * k + st, minlength=n * k)
    overall = shard_counts.reshape(n, k).sum(axis=0)
    out: dict[str, Any] = {
        "store": str(store_dir),
        "grid": grid.name,
        "grid_fingerprint": grid.fingerprint,
        "total": len(grid),
        **{state: int(c) for state, c in zip(_STATES, overall, strict=True)},
        "outside_grid": int(len(stored_keys) - matched),
        "stale": _stale(store, grid, stored_keys[~stored_hit]),
    }
    out["shards"] = [
        {
            "shard": i,
            "of": n,
            "total": int(row.sum()),
            **{state: int(c) for state, c in zip(_STATES, row, strict=True)},
        }
        for i, row in enumerate(shard_counts.reshape(n, k))
    ]
    out["dimensions"] = {
        d: {
            str(value): {state: int(c) for state, c in zip(_STATES, row, strict=True)}
            for value, row in zip(grid.values[d], dim_counts[d].reshape(-1, k), strict=True)
        }
        for d in DIMENSIONS
    }
    out["versions"] = version_census(runs)
    out["damaged_parts"] = [{"part": k, "problem": v} for k, v in sorted(damaged.items())]
    out["untrusted_journals"] = sorted(snap.untrusted)
    timeout = float(grid.settings.get("timeout_s") or 0) or 86_400.0
    out["claims"] = claims.census(store.root, timeout + 605.0)
    return out


def format_status(st: dict[str, Any], max_shards: int = 20) -> str:
    """Human-readable status: totals, the shards that are not finished, per-dimension progress."""
    lines = [
        f"store {st['store']} (grid {st['grid']}): {st['total']} experiments",
        f"  ok {st['ok']}  failed {st['failed']}  timeout {st['timeout']}  pending {st['pending']}"
        + (f"  (+{st['outside_grid']} stored outside this grid)" if st.get("outside_grid") else ""),
    ]
    if st.get("stale"):
        lines.append(
            f"  stale {st['stale']}: stored under an older version of a plugin, a file: dataset or a learner "
            "definition (kept, not reused; their experiments count as pending)"
        )
    versions = st.get("versions") or {}
    if describe_versions(versions):
        lines.append(f"  versions: {describe_versions(versions)}")
    lines += mix_warning(versions, st["store"])
    if versions.get("unrecorded"):
        lines.append(
            f"  {versions['unrecorded']} run(s) have no version record (written before algrid recorded versions)"
        )
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
    for d in st.get("damaged_parts", []):
        lines.append(f"warning: damaged part {d['part']} ({d['problem']})")
    if st.get("damaged_parts") or st.get("untrusted_journals"):
        lines.append(
            f"warning: the store is damaged ({len(st.get('damaged_parts', []))} part(s), "
            f"{len(st.get('untrusted_journals', []))} untrusted journal(s)): run `algrid store verify {st['store']} "
            f"--repair` to quarantine what is damaged"
        )
    c = st.get("claims") or {}
    if c.get("held"):
        lines.append(f"claims: {c['held']} experiment(s) being run by a live runner")
    if c.get("abandoned") or c.get("empty"):
        lines.append(
            f"claims: {c.get('abandoned', 0) + c.get('empty', 0)} left by runners that are gone "
            f"({c.get('empty', 0)} empty): the next run takes them over, `algrid store verify --repair` clears them"
        )
    lines.append("dimensions (ok/failed/timeout/pending):")
    for d, values in st["dimensions"].items():
        if len(values) <= 1:
            continue
        cells = ", ".join(
            f"{v} {c['ok']}/{c['failed']}/{c['timeout']}/{c['pending']}" for v, c in list(values.items())[:12]
        )
        more = f", ... (+{len(values) - 12})" if len(values) > 12 else ""
        lines.append(f"  {d}: {cells}{more}")
    return "\n".join(lines)
