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
    ks, base = set(), 1
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
    arr = store.sql(
        f"""WITH cells AS (SELECT dataset, {u if dimension != "dataset" else "dataset AS unit_d"}, {ident},
                                  sum(value) AS s, count(*) AS c FROM {vals.table} GROUP BY ALL)
            SELECT dense_rank() OVER (ORDER BY dataset) - 1 AS d,
                   dense_rank() OVER (ORDER BY {u if dimension != "dataset" else "unit_d"}) - 1 AS u,
                   dense_rank() OVER (ORDER BY {ident}) - 1 AS g, s, c FROM cells"""
    ).fetchnumpy()
    labels = [
        f"{a}@{b}"
        for a, b in store.sql(f"SELECT DISTINCT {ident} FROM {vals.table} ORDER BY {ident}").fetchall()
    ]
    d, un, g = (np.asarray(arr[x], dtype=np.int64) for x in ("d", "u", "g"))
    s, c = np.asarray(arr["s"], dtype=float), np.asarray(arr["c"], dtype=float)
    n_d, n_u, n_g = int(d.max()) + 1, int(un.max()) + 1, len(labels)
    flat = d * n_g + g

    def board(mask_cells: np.ndarray | None) -> np.ndarray:
        f, ws, wc = (flat, s, c) if mask_cells is None else (flat[mask_cells], s[mask_cells], c[mask_cells])
        sums = np.bincount(f, weights=ws, minlength=n_d * n_g).reshape(n_d, n_g)
        counts = np.bincount(f, weights=wc, minlength=n_d * n_g).reshape(n_d, n_g)
        return _board(sums, np.where(counts > 0, counts, np.nan))

    full = board(None)
    rng = np.random.default_rng(seed)
    curve = []
    for k in k_grid(n_u):
        reps = 1 if k == n_u else repeats
        taus = []
        for _ in range(reps):
            pick = rng.choice(n_u, size=k, replace=False)
            chosen = np.zeros(n_u, dtype=bool)
            chosen[pick] = True
            taus.append(_tau(board(chosen[un]), full))
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
