"""Synthetic result stores with known structure (schema v1), for tests, benchmarks and report demos.

Every experiment of the full cross product of ``dims`` gets a learning curve
``m(c) = start + (level - start) * (1 - exp(-c / speed))`` whose final level is
``base + sum of additive effects of its dimension values + interaction effects + noise``. Because the effects are
known, tests can assert what the analysis must find (a strategy that is always best, a hyperparameter with no
effect). Generation is vectorised; stores with millions of experiments are written in several Parquet parts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from algrid.identity import keys_to_hex_bytes, splitmix64
from algrid.results import CURVE_METRICS, DIMENSIONS, SUMMARIES, SUMMARY_METRICS

_INT_DIMS = ("batch_size", "split", "start", "seed")
_DEFAULT_DIMS: dict[str, list[Any]] = {
    "dataset": ["iris", "wine"],
    "strategy": ["random", "uncertainty"],
    "implementation": ["native"],
    "batch_size": [5],
    "initial_pool": ["per_class:1"],
    "learner": ["rf"],
    "split": [0],
    "start": [0],
    "seed": [0],
}
# Small per-metric offsets so the metrics are related but not identical.
_METRIC_OFFSET = {
    "accuracy": 0.01,
    "balanced_accuracy": -0.005,
    "f1_macro": -0.01,
    "f1_weighted": 0.0,
    "precision_macro": -0.008,
    "recall_macro": -0.004,
}


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (the grid's key mixer): a cheap, well-spread hash of uint64 arrays."""
    return splitmix64(x)


def _hex_keys(h: np.ndarray) -> pa.Array:
    """16-hex-character strings of uint64 hashes, vectorised."""
    return pa.array(keys_to_hex_bytes(h)).cast(pa.string())


def _uniform(h: np.ndarray) -> np.ndarray:
    return (_mix(h) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _normal(h: np.ndarray) -> np.ndarray:
    u1 = np.clip(_uniform(h), 1e-12, 1.0)
    u2 = _uniform(h ^ np.uint64(0x5851F42D4C957F2D))
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2)


def _summaries(curve: np.ndarray, done: np.ndarray) -> dict[str, np.ndarray]:
    """The runs-table summaries of curves (n, T+1), computed over the first ``done`` cycles (1..done)."""
    n, t1 = curve.shape
    cyc = np.arange(t1)[None, :]
    valid = (cyc >= 1) & (cyc <= done[:, None])
    cnt = np.maximum(valid.sum(1), 1)
    mean = np.where(valid, curve, 0).sum(1) / cnt
    # trapezoid over 0..done normalised by done
    seg = (curve[:, 1:] + curve[:, :-1]) / 2
    segv = np.arange(1, t1)[None, :] <= done[:, None]
    aulc = np.where(segv, seg, 0).sum(1) / np.maximum(done, 1)
    first5 = np.where(valid & (cyc <= 5), curve, 0).sum(1) / np.maximum((valid & (cyc <= 5)).sum(1), 1)
    last_mask = valid & (cyc > (done[:, None] - 5))
    last5 = np.where(last_mask, curve, 0).sum(1) / np.maximum(last_mask.sum(1), 1)
    final = curve[np.arange(n), np.clip(done, 0, t1 - 1)]
    return {"mean": mean, "aulc": aulc, "first5": first5, "last5": last5, "final": final}


def write_synthetic_store(
    path: str | Path,
    dims: Mapping[str, Sequence[Any]] | None = None,
    *,
    cycles: int = 10,
    effects: Mapping[str, Mapping[Any, float]] | None = None,
    interactions: Sequence[tuple[str, Any, Mapping[str, float]]] = (),
    noise: float = 0.01,
    base: float = 0.6,
    fail: Mapping[str, float] | None = None,
    timeout: Mapping[str, float] | None = None,
    cost: Mapping[str, float] | None = None,
    parts: int = 2,
    queries: bool = True,
    max_selected: int | None = None,
    shared_selection: Sequence[str] = (),
    orphans: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a schema-v1 store with the full cross product of ``dims`` (missing dims take one default value).

    effects: dimension -> {value: additive effect on the curve's level}; strategy effects may be keyed by
    ``name`` or ``name@implementation``. interactions: (dimension, value, {strategy label: extra effect}) applied
    only where dimension == value (changes the ranking inside that value). fail / timeout: strategy label ->
    probability that an experiment fails (no curve) / times out (half its cycles). cost: strategy label ->
    relative query time. shared_selection: dimensions that do not change which samples get selected (Jaccard 1
    between their values). orphans: extra curves/queries rows whose exp_key has no run row (must be ignored).
    Returns a small description (counts) of what was written."""
    path = Path(path)
    spec = {d: list(v) for d, v in _DEFAULT_DIMS.items()}
    for d, v in (dims or {}).items():
        if d not in DIMENSIONS:
            raise ValueError(f"unknown dimension {d}")
        spec[d] = list(v)
    effects = {d: dict(e) for d, e in (effects or {}).items()}
    fail, timeout, cost = dict(fail or {}), dict(timeout or {}), dict(cost or {})
    sizes = [len(spec[d]) for d in DIMENSIONS]
    n = int(np.prod(sizes))
    for sub in ("runs", "curves", "queries"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    (path / "meta.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "grid_name": path.name,
                "grid_fingerprint": "synthetic",
                "key_settings": {"cycles": cycles},
                "algrid_version": "synthetic",
                "created_at": "1970-01-01T00:00:00Z",
            }
        )
    )
    impl_dim = DIMENSIONS.index("implementation")
    strat_dim = DIMENSIONS.index("strategy")
    labels = [f"{s}@{i}" for s in spec["strategy"] for i in spec["implementation"]]

    def per_label(table: Mapping[str, float], default: float) -> np.ndarray:
        out = np.full((len(spec["strategy"]), len(spec["implementation"])), default)
        for si, s in enumerate(spec["strategy"]):
            for ii, i in enumerate(spec["implementation"]):
                out[si, ii] = table.get(f"{s}@{i}", table.get(s, default))
        return out

    fail_p, timeout_p, cost_f = per_label(fail, 0.0), per_label(timeout, 0.0), per_label(cost, 1.0)
    strat_eff = per_label(effects.pop("strategy", {}), 0.0)
    dim_eff = {d: np.array([float(e.get(v, 0.0)) for v in spec[d]]) for d, e in effects.items()}
    inter = [(DIMENSIONS.index(d), spec[d].index(v), per_label(tab, 0.0)) for d, v, tab in interactions]
    shared = {DIMENSIONS.index(d) for d in shared_selection}
    bounds = np.linspace(0, n, max(1, min(parts, n)) + 1).astype(np.int64)
    t1 = cycles + 1
    written: dict[str, Any] = {"experiments": n, "ok": 0, "failed": 0, "timeout": 0}
    for p in range(len(bounds) - 1):
        idx = np.arange(bounds[p], bounds[p + 1], dtype=np.int64)
        codes = np.unravel_index(idx, sizes)
        m = len(idx)
        h = _mix(idx.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15))
        level = np.full(m, base) + strat_eff[codes[strat_dim], codes[impl_dim]]
        for d, e in dim_eff.items():
            level += e[codes[DIMENSIONS.index(d)]]
        for di, vi, tab in inter:
            level += np.where(codes[di] == vi, tab[codes[strat_dim], codes[impl_dim]], 0.0)
        level = np.clip(level + noise * _normal(h), 0.05, 0.999)
        start = np.clip(level * 0.5, 0.01, None)
        speed = 1.0 + 0.15 * cycles * _uniform(h ^ np.uint64(77))
        c = np.arange(t1, dtype=np.float64)[None, :]
        curve = start[:, None] + (level - start)[:, None] * (1.0 - np.exp(-c / speed[:, None]))
        u = _uniform(h ^ np.uint64(1234))
        fp = fail_p[codes[strat_dim], codes[impl_dim]]
        tp = timeout_p[codes[strat_dim], codes[impl_dim]]
        status = np.where(u < fp, 1, np.where(u < fp + tp, 2, 0))  # 0 ok, 1 failed, 2 timeout
        done = np.where(status == 0, cycles, np.where(status == 2, cycles // 2, 0)).astype(np.int64)
        keys = _hex_keys(h)
        runs = {"exp_key": keys, "exp_index": pa.array(idx)}
        for d, cd in zip(DIMENSIONS, codes, strict=True):
            if d in _INT_DIMS:
                runs[d] = pa.array(np.asarray(spec[d], dtype=np.int32)[cd])
            else:
                runs[d] = pa.DictionaryArray.from_arrays(
                    pa.array(cd.astype(np.int32)), pa.array([str(v) for v in spec[d]])
                )
        runs["status"] = pa.DictionaryArray.from_arrays(
            pa.array(status.astype(np.int32)), pa.array(["ok", "failed", "timeout"])
        )
        err = np.where(status == 1, "RuntimeError: synthetic failure", np.where(status == 2, "timeout", ""))
        runs["error"] = pc.if_else(pa.array(status == 0), pa.nulls(m, pa.string()), pa.array(err))
        runs["cycles_done"] = pa.array(done.astype(np.int32))
        per_cycle_cost = 0.01 * cost_f[codes[strat_dim], codes[impl_dim]] * (1 + _uniform(h ^ np.uint64(9)))
        runs["wall_s"] = pa.array(per_cycle_cost * np.maximum(done, 1) * 2)
        runs["cpu_s"] = pa.array(per_cycle_cost * np.maximum(done, 1) * 1.9)
        for metric in SUMMARY_METRICS:
            mc = np.clip(curve + _METRIC_OFFSET[metric], 0, 1)
            sm = _summaries(mc, np.maximum(done, 1))
            for s in SUMMARIES:
                summ = np.where(status == 1, np.nan, np.where(status == 2, np.nan, sm[s])).astype(np.float32)
                runs[f"{metric}_{s}"] = pa.array(summ, from_pandas=True)
        runs["host"] = pa.array(np.full(m, "synthetic"))
        runs["algrid_version"] = pa.array(np.full(m, "synthetic"))
        runs["finished_at"] = pa.array(np.zeros(m, dtype="datetime64[ms]")).cast(pa.timestamp("ms", tz="UTC"))
        part = uuid.UUID(int=(seed << 32) + p).hex
        # curves: only cycles 0..done of experiments that did not fail
        keep = np.arange(t1)[None, :] <= np.where(status == 1, -1, done)[:, None]
        rows, cyc = np.nonzero(keep)
        cur = {"exp_key": pc.take(keys, pa.array(rows)), "cycle": pa.array(cyc.astype(np.int32))}
        pool = np.asarray([int(str(v).split(":")[-1]) if ":" in str(v) else 1 for v in spec["initial_pool"]])
        bs = np.asarray(spec["batch_size"], dtype=np.int64)[codes[DIMENSIONS.index("batch_size")]]
        n_labeled = pool[codes[DIMENSIONS.index("initial_pool")]][rows] * 3 + cyc * bs[rows]
        cur["n_labeled"] = pa.array(n_labeled.astype(np.int32))
        for metric in CURVE_METRICS:
            cur[metric] = pa.array(
                np.clip(curve[rows, cyc] + _METRIC_OFFSET[metric], 0, 1).astype(np.float32)
            )
        lf = 1 + _uniform(h[rows] ^ np.uint64(cyc.astype(np.uint64) * np.uint64(31)))
        cur["fit_s"] = pa.array((0.005 * lf).astype(np.float32))
        cur["query_s"] = pa.array((per_cycle_cost[rows] * lf * (cyc > 0)).astype(np.float32))
        pq.write_table(pa.table(cur), path / "curves" / f"part-{part}.parquet")
        if queries:
            _write_queries(path, part, spec, codes, keys, rows, cyc, bs, shared, max_selected, seed)
        pq.write_table(pa.table(runs), path / "runs" / f"part-{part}.parquet")
        written["ok"] += int((status == 0).sum())
        written["failed"] += int((status == 1).sum())
        written["timeout"] += int((status == 2).sum())
    if orphans:
        okeys = _hex_keys(_mix(np.arange(orphans, dtype=np.uint64) + np.uint64(0xDEAD0000)))
        orph = {
            "exp_key": okeys,
            "cycle": pa.array(np.zeros(orphans, np.int32)),
            "n_labeled": pa.array(np.ones(orphans, np.int32)),
        }
        for metric in CURVE_METRICS:
            orph[metric] = pa.array(np.zeros(orphans, np.float32))
        orph["fit_s"] = pa.array(np.full(orphans, 1e6, np.float32))
        orph["query_s"] = pa.array(np.full(orphans, 1e6, np.float32))
        pq.write_table(pa.table(orph), path / "curves" / "part-orphans.parquet")
        sel = pa.ListArray.from_arrays(
            pa.array(np.arange(orphans + 1, dtype=np.int32)), pa.array(np.zeros(orphans, np.int32))
        )
        pq.write_table(
            pa.table({"exp_key": okeys, "cycle": pa.array(np.zeros(orphans, np.int32)), "selected": sel}),
            path / "queries" / "part-orphans.parquet",
        )
    written["labels"] = labels
    return written


def _write_queries(path, part, spec, codes, keys, rows, cyc, bs, shared, max_selected, seed) -> None:
    """Selected dataset row ids per (experiment, cycle); experiments that differ only in ``shared`` dimensions
    select the same samples."""
    sel_key = np.zeros(len(codes[0]), dtype=np.uint64)
    for di, cd in enumerate(codes):
        if di in shared:
            continue
        sel_key = _mix(sel_key * np.uint64(1_000_003) + cd.astype(np.uint64) + np.uint64(di + 1))
    sel_key = _mix(sel_key + np.uint64(seed))
    length = np.where(cyc == 0, 3, bs[rows])
    if max_selected:
        length = np.minimum(length, max_selected)
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(length, out=offsets[1:])
    total = int(offsets[-1])
    owner = np.repeat(np.arange(len(rows)), length)
    within = np.arange(total) - offsets[:-1][owner]
    h = _mix(
        sel_key[rows][owner] ^ _mix(cyc[owner].astype(np.uint64) * np.uint64(7919) + within.astype(np.uint64))
    )
    values = (h % np.uint64(5000)).astype(np.int32)
    sel = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))
    table = pa.table(
        {"exp_key": pc.take(keys, pa.array(rows)), "cycle": pa.array(cyc.astype(np.int32)), "selected": sel}
    )
    pq.write_table(table, path / "queries" / f"part-{part}.parquet")
