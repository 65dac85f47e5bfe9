"""Minimal study design: how many random combinations does a leaderboard need to agree with the full one?

A *unit* is one combination of the non-strategy settings (dataset, batch size, initial pool, learner, split, start,
seed) or, with ``dimension=D``, one value of D. For each k, ``repeats`` random samples of k units (without
replacement) each give a leaderboard (rank per dataset, mean rank over datasets) whose Kendall tau against the
leaderboard of all data is recorded. The answer is the curve tau(k) (mean, std, 10th/90th percentile) and the
smallest k whose mean tau reaches ``target`` (0.9).

The per-(dataset, unit, strategy) sums and counts are aggregated in DuckDB once; the resampling runs in NumPy on
those aggregates.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats

from algrid.analysis.leaderboard import clean
from algrid.analysis.source import IDENTITY, SETTING_DIMENSIONS, QueryError, StoreData
from algrid.analysis.values import build_values


def k_grid(n_units: int) -> list[int]:
    """1, 2, 3, 5, 7, 10, 15, 20, 30, 50, ... up to and including n_units."""
    ks: set[int] = set()
    base = 1
    while base <= n_units:
        ks.update(x * base for x in (1, 2, 3, 5, 7) if x * base <= n_units)
        base *= 10
    ks.add(n_units)
    return sorted(k for k in ks if k >= 1)


def _board(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean rank per strategy from (dataset x strategy) sums/counts (NaN where a strategy has no data)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    ranks = stats.rankdata(-means, axis=1, nan_policy="omit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # strategies absent everywhere -> NaN, not a warning
        return np.nanmean(ranks, axis=0)


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 2:
        return np.nan
    x, y = a[ok], b[ok]
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 1.0 if np.ptp(x) == np.ptp(y) else 0.0
    return float(stats.kendalltau(x, y).statistic)


def stability(
    store: StoreData,
    dimension: str | None = None,
    repeats: int = 20,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
    target: float = 0.9,
    seed: int = 0,
) -> dict[str, Any]:
    """The tau(k) curve and the smallest k reaching ``target`` (JSON-ready dict)."""
    if dimension is not None and dimension not in SETTING_DIMENSIONS:
        raise QueryError(f"--dimension {dimension!r}: unknown (choose from {', '.join(SETTING_DIMENSIONS)})")
    if repeats < 1:
        raise QueryError(f"--repeats {repeats}: must be >= 1")
    vals = build_values(store, metric, summary, missing)
    unit_cols = [dimension] if dimension else list(SETTING_DIMENSIONS)
    u = ", ".join(unit_cols)
    ident = ", ".join(IDENTITY)
    unit_expr = "hash(dataset)" if dimension == "dataset" else f"hash({u})"
    # Integer ids via 64-bit hashes + np.unique: far cheaper than three dense_rank windows over every cell.
    arr = store.sql(
        f"""SELECT hash(dataset) AS d, {unit_expr} AS u, hash({ident}) AS g, sum(value) AS s, count(*) AS c
            FROM {vals.table} GROUP BY ALL"""
    ).fetchnumpy()
    ident_rows = store.sql(
        f"SELECT DISTINCT {ident}, hash({ident}) FROM {vals.table} ORDER BY {ident}"
    ).fetchall()
    labels = [f"{a}@{b}" for a, b, _ in ident_rows]
    g_hash = np.array([h for _, _, h in ident_rows], dtype=np.uint64)
    _, d = np.unique(np.asarray(arr["d"], dtype=np.uint64), return_inverse=True)
    _, un = np.unique(np.asarray(arr["u"], dtype=np.uint64), return_inverse=True)
    order_g = np.argsort(g_hash)
    g = order_g[np.searchsorted(g_hash[order_g], np.asarray(arr["g"], dtype=np.uint64))]
    s, c = np.asarray(arr["s"], dtype=float), np.asarray(arr["c"], dtype=float)
    n_d, n_u, n_g = int(d.max()) + 1, int(un.max()) + 1, len(labels)
    # Cells grouped by unit (CSR) so a sample of k units touches only its own cells.
    by_unit = np.argsort(un, kind="stable")
    flat = (d * n_g + g)[by_unit]
    s, c = s[by_unit], c[by_unit]
    offsets = np.zeros(n_u + 1, dtype=np.int64)
    np.cumsum(np.bincount(un, minlength=n_u), out=offsets[1:])

    def board(pick: np.ndarray | None) -> np.ndarray:
        idx: slice | np.ndarray
        if pick is None:
            idx = slice(None)
        else:
            lengths = offsets[pick + 1] - offsets[pick]
            starts = np.repeat(offsets[pick] - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
            idx = starts + np.arange(int(lengths.sum()))
        sums = np.bincount(flat[idx], weights=s[idx], minlength=n_d * n_g).reshape(n_d, n_g)
        counts = np.bincount(flat[idx], weights=c[idx], minlength=n_d * n_g).reshape(n_d, n_g)
        return _board(sums, np.where(counts > 0, counts, np.nan))

    full = board(None)
    rng = np.random.default_rng(seed)
    curve = []
    for k in k_grid(n_u):
        reps = 1 if k == n_u else repeats
        taus = []
        for _ in range(reps):
            pick = rng.choice(n_u, size=k, replace=False)
            taus.append(_tau(board(pick), full))
        t = np.asarray(taus, dtype=float)
        t = t[~np.isnan(t)]
        curve.append(
            clean(
                {
                    "k": k,
                    "repeats": reps,
                    "mean": float(t.mean()) if len(t) else None,
                    "std": float(t.std()) if len(t) else None,
                    "p10": float(np.percentile(t, 10)) if len(t) else None,
                    "p90": float(np.percentile(t, 90)) if len(t) else None,
                    "min": float(t.min()) if len(t) else None,
                }
            )
        )
    k_min = next((row["k"] for row in curve if row["mean"] is not None and row["mean"] >= target), None)
    return {
        "metric": metric,
        "summary": summary,
        "dimension": dimension,
        "unit": dimension or "+".join(SETTING_DIMENSIONS),
        "n_units": n_u,
        "repeats": repeats,
        "target": target,
        "k_min": k_min,
        "curve": curve,
        "strategies": labels,
        "missing": vals.missing,
        "where": store.where,
    }
