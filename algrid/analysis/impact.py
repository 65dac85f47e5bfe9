"""Hyperparameter impact: does changing P change the results, the selected samples, or the conclusions?

Experiments are matched on every other dimension (a *block* = all dimensions but P, strategy included), so each
comparison isolates P:

* ``pearson``      correlation of the summary between two values of P over matched experiments,
* ``jaccard``      overlap of the samples selected in cycles >= 1 between matched experiments (from queries; a
                   deterministic sample of at most ``jaccard_blocks`` blocks),
* ``kendall_tau``  agreement of the leaderboards built from each value of P (on blocks complete in P),
* ``tau_vs_all``   agreement of each value's leaderboard with the leaderboard of all data,
* ``variance_share`` share of the summary's variance explained by P's main effect (eta squared over all
                   experiments); ``variance_share_within`` the same inside blocks (after removing block means),
                   which isolates P from the other dimensions' effects.

The scalar keys are means over pairs (or values); ``pairs`` and ``per_value`` hold the details.

Honest answers: an effect of P can only be estimated from experiments that differ *only* in P. When no block holds
two values of P (e.g. every strategy runs in exactly one implementation, so implementation and strategy are
confounded) the answer is "cannot be estimated": every number is ``null`` and ``reason`` says why. A pair of values
that never meet in a block gets ``null`` numbers and a ``reason`` too.

Batch sizes: the answer says on which axis they were compared (``axis``: "cycles" or "labels", and a ``note``),
see :mod:`algrid.analysis.axis`.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from algrid.analysis.axis import axis_fields
from algrid.analysis.leaderboard import clean, dataset_means, rank_means, records, tau_matrix
from algrid.analysis.source import IDENTITY, QueryError, StoreData
from algrid.analysis.values import Values, build_values
from algrid.results import DIMENSIONS

PARAMS: tuple[str, ...] = tuple(d for d in DIMENSIONS if d != "strategy")


def literal(value: Any) -> str:
    """A SQL literal for a dimension value read back from the store."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def check_param(param: str) -> str:
    if param not in PARAMS:
        raise QueryError(f"--param {param!r}: unknown hyperparameter (choose from {', '.join(PARAMS)})")
    return param


def _pearson(x: np.ndarray, y: np.ndarray) -> tuple[float | None, int]:
    ok = ~(np.isnan(x) | np.isnan(y))
    n = int(ok.sum())
    if n < 2:
        return None, n
    a, b = x[ok], y[ok]
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return (1.0 if np.array_equal(a, b) else None), n
    return float(np.corrcoef(a, b)[0, 1]), n


def _corrcoef(w: np.ndarray) -> np.ndarray:
    """Column correlations with BLAS on one thread: a multi-threaded BLAS next to DuckDB's threads on a busy
    2-core machine was measured 30x slower for this small product."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return np.corrcoef(w.T)
    with threadpool_limits(1):
        return np.corrcoef(w.T)


def _floats(column: np.ndarray) -> np.ndarray:
    """A fetched column as float64 with NaN for SQL NULL (DuckDB returns a masked array when there are NULLs;
    ``np.asarray`` would drop the mask and turn a missing cell into a number)."""
    if isinstance(column, np.ma.MaskedArray):
        return np.ma.filled(column.astype(np.float64), np.nan)  # the stubs type astype as a plain ndarray
    return np.asarray(column, dtype=np.float64)


def _mean(values: list) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def _jaccard_sample(store: StoreData, vals: Values, param: str, blocks: int | None) -> pd.DataFrame | None:
    """(block, val, exp_key) for a deterministic sample of at most ``blocks`` blocks with >= 2 values of P
    (``blocks=None``: every such block, the exact figure)."""
    if not store.has_queries or (blocks is not None and blocks <= 0) or param == "dataset":
        return None
    o = ", ".join(d for d in DIMENSIONS if d != param)
    pre, limit = "", ""
    if blocks is not None:
        # Pre-filter blocks by hash so the grouping below touches ~4x the wanted blocks, not every experiment.
        n_rows, n_values = store.sql(
            f"SELECT count(*), count(DISTINCT {param}) FROM {vals.table} WHERE NOT missing"
        ).fetchone()
        frac = 4.0 * blocks * max(n_values, 1) / max(n_rows, 1)
        pre = f"AND hash({o}) % 1000003 < {int(frac * 1000003)}" if frac < 1 else ""
        limit = f"LIMIT {int(blocks)}"
    return store.sql(
        f"""WITH b AS (SELECT {o} FROM {vals.table} WHERE NOT missing {pre} GROUP BY {o}
                       HAVING count(DISTINCT {param}) >= 2
                       ORDER BY hash({o}) {limit})
            SELECT dense_rank() OVER (ORDER BY {o}) AS block, CAST(v.{param} AS VARCHAR) AS val, v.exp_key
            FROM {vals.table} v SEMI JOIN b USING ({o}) WHERE NOT v.missing"""
    ).df()


def fetch_selected(store: StoreData, keys: list[str]) -> dict[str, set[int]]:
    """Samples selected in cycles >= 1 per experiment (one scan of the queries parts for all keys).

    Reading the ``selected`` lists dominates the cost, so callers batch every key they need into one call."""
    if not keys or not store.has_queries:
        return {}
    store.con.register("jaccard_keys", pd.DataFrame({"exp_key": sorted(set(keys))}))
    try:
        rows = store.sql(
            "SELECT exp_key, list_distinct(flatten(list(selected))) AS ids FROM queries_raw "
            "SEMI JOIN jaccard_keys USING (exp_key) WHERE cycle >= 1 GROUP BY exp_key"
        ).fetchall()
    finally:
        store.con.unregister("jaccard_keys")
    return {k: set(v) for k, v in rows}


def _jaccard(sample: pd.DataFrame | None, ids: dict[str, set[int]], values: list) -> dict:
    """Jaccard overlaps per pair of values (as strings), over the sampled blocks."""
    if sample is None or sample.empty:
        return {}
    sample = sample[sample["exp_key"].isin(ids)]
    out: dict[tuple[str, str], list[float]] = {}
    for _, grp in sample.groupby("block"):
        by_val = dict(zip(grp["val"], grp["exp_key"], strict=True))
        for a, b in itertools.combinations([str(v) for v in values], 2):
            if a in by_val and b in by_val:
                sa, sb = ids[by_val[a]], ids[by_val[b]]
                union = len(sa | sb)
                out.setdefault((a, b), []).append(len(sa & sb) / union if union else 1.0)
    return out


def _boards_from_columns(per: pd.DataFrame, identity: tuple[str, ...], cols: list[str]) -> list[pd.DataFrame]:
    """One leaderboard per value column at once (same result as rank_means per column, one groupby each way)."""
    ranks = per.groupby("dataset", observed=True)[cols].rank(ascending=False, method="average")
    ranks[list(identity)] = per[list(identity)]
    mean_rank = ranks.groupby(list(identity), observed=True)[cols].mean()
    mean_value = per.groupby(list(identity), observed=True)[cols].mean()
    boards = []
    for c in cols:
        b = pd.DataFrame({"mean_rank": mean_rank[c], "mean_value": mean_value[c]}).reset_index()
        boards.append(
            b.sort_values(["mean_rank", "mean_value"], ascending=[True, False]).reset_index(drop=True)
        )
    return boards


def impact(
    store: StoreData,
    param: str,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
    *,
    vals: Values | None = None,
    full: pd.DataFrame | None = None,
    jaccard_blocks: int | None = 200,
    selected: dict[str, set[int]] | None = None,
    dataset_rule: str = "present",
) -> dict[str, Any]:
    """Impact of one hyperparameter (JSON-ready dict; see the module docstring for the keys).

    ``selected``: selections already fetched for this sample (impact_all fetches all parameters' in one scan).
    ``jaccard_blocks=None`` computes the Jaccard overlap over every matched block (``--exact``).
    ``dataset_rule`` (``param="dataset"`` only): ``"present"`` ranks, on each dataset, the strategies present on
    it; ``"complete"`` (the rule before issue 15) only the blocks that cover every dataset, so a strategy missing
    on one dataset was dropped from every dataset's leaderboard."""
    if dataset_rule not in ("present", "complete"):
        raise QueryError(f"dataset_rule {dataset_rule!r}: expected present or complete")
    check_param(param)
    vals = vals or build_values(store, metric, summary, missing)
    identity = tuple(d for d in IDENTITY if d != param)
    others = [d for d in DIMENSIONS if d != param]
    values = [r[0] for r in store.sql(f"SELECT DISTINCT {param} FROM {vals.table} ORDER BY 1").fetchall()]
    result: dict[str, Any] = {
        "param": param,
        "metric": vals.metric,
        "summary": vals.summary,
        "values": [clean(v) for v in values],
        "kendall_tau": None,
        "tau_vs_all": None,
        "pearson": None,
        "jaccard": None,
        "variance_share": None,
        "variance_share_within": None,
        "n_blocks": 0,
        "pairs": [],
        "per_value": [],
        "missing": vals.missing,
        "where": store.where,
        "estimable": True,
        "reason": None,
        "n_matched_blocks": 0,
        "jaccard_sample": None,
    }
    axis = axis_fields(store, param)
    result["axis"] = axis["axis"]
    if axis["axis_note"]:
        result["note"] = axis["axis_note"]
    if len(values) < 2:
        result["note"] = (
            f"{param} has a single value here ({values[0] if values else 'none'}); nothing to compare"
        )
        return result
    o = ", ".join(others)
    cols = [f"max(value) FILTER (WHERE {param} = {literal(v)}) AS c{i}" for i, v in enumerate(values)]
    wide = f"wide_{vals.table}_{param}"
    store.sql(
        f"CREATE OR REPLACE TEMP TABLE {wide} AS SELECT {o}, {', '.join(cols)} FROM {vals.table} GROUP BY ALL"
    )
    k = len(values)
    matrix = store.sql(f"SELECT {', '.join(f'c{i}' for i in range(k))} FROM {wide}").fetchnumpy()
    w = np.column_stack([_floats(matrix[f"c{i}"]) for i in range(k)])
    complete = ~np.isnan(w).any(axis=1)
    result["n_blocks"] = int(complete.sum())
    present = ~np.isnan(w)
    result["n_matched_blocks"] = int((present.sum(axis=1) >= 2).sum())
    if not result["n_matched_blocks"]:
        store.sql(f"DROP TABLE {wide}")
        return _cannot_estimate(result, param, len(w))

    # Variance shares.
    ss = store.sql(
        f"""WITH s AS (SELECT avg(value) AS mu, var_pop(value) * count(*) AS sst FROM {vals.table}),
                 g AS (SELECT count(*) AS n, avg(value) AS m FROM {vals.table} GROUP BY {param})
            SELECT sum(g.n * (g.m - s.mu) ^ 2), any_value(s.sst) FROM g, s"""
    ).fetchone()
    result["variance_share"] = float(ss[0] / ss[1]) if ss[1] and ss[1] > 1e-15 else 0.0
    if complete.sum() >= 1:
        resid = w[complete] - w[complete].mean(axis=1, keepdims=True)
        total = float((resid**2).sum())
        between = float(len(resid) * (resid.mean(axis=0) ** 2).sum())
        result["variance_share_within"] = between / total if total > 1e-15 else 0.0

    # Per-value leaderboards (on complete blocks when there are any) and the full one.
    group = "dataset" if param != "dataset" else None
    ident = ", ".join(identity)
    gsel = "CAST(dataset AS VARCHAR) AS dataset, " if group else "'all' AS dataset, "
    if param == "dataset":
        result["dataset_rule"] = dataset_rule
    if result["n_blocks"] and not (param == "dataset" and dataset_rule == "present"):
        cond = " AND ".join(f"c{i} IS NOT NULL" for i in range(k))
        per = store.sql(
            f"SELECT {gsel}{ident}, count(*) AS n, {', '.join(f'avg(c{i}) AS v{i}' for i in range(k))} "
            f"FROM {wide} WHERE {cond} GROUP BY ALL"
        ).df()
        boards = _boards_from_columns(per, identity, [f"v{i}" for i in range(k)])
    else:
        per = store.sql(
            f"SELECT {gsel}{ident}, CAST({param} AS VARCHAR) AS val, avg(value) AS value, count(*) AS n "
            f"FROM {vals.table} GROUP BY ALL"
        ).df()
        boards = [rank_means(per[per["val"] == str(v)], identity) for v in values]
    full = (
        full
        if full is not None and identity == IDENTITY
        else rank_means(dataset_means(store, vals, identity), identity)
    )
    n_per = dict(
        store.sql(f"SELECT CAST({param} AS VARCHAR), count(*) FROM {vals.table} GROUP BY 1").fetchall()
    )
    mean_per = dict(
        store.sql(f"SELECT CAST({param} AS VARCHAR), avg(value) FROM {vals.table} GROUP BY 1").fetchall()
    )
    taus = tau_matrix([*boards, full], identity)
    taus_all = [None if np.isnan(t) else float(t) for t in taus[:k, k]]
    result["per_value"] = [
        clean(
            {
                "value": v,
                "tau_vs_all": t,
                "n": n_per.get(str(v), 0),
                "mean_value": mean_per.get(str(v)),
                "leader": "@".join(str(x) for x in b.iloc[0][list(identity)]) if len(b) else None,
            }
        )
        for v, t, b in zip(values, taus_all, boards, strict=True)
    ]
    sample = _jaccard_sample(store, vals, param, jaccard_blocks)
    if selected is not None:
        ids = selected
    else:
        ids = fetch_selected(store, list(sample["exp_key"])) if sample is not None else {}
    jac = _jaccard(sample, ids, values)
    if sample is not None:
        n_sampled = int(sample["block"].nunique()) if len(sample) else 0
        result["jaccard_sample"] = {
            "blocks": n_sampled,
            "of": result["n_matched_blocks"],
            "exact": jaccard_blocks is None or n_sampled >= result["n_matched_blocks"],
        }
    pairs = []
    dense = None
    if len(w) >= 2 and not np.isnan(w).any() and (np.ptp(w, axis=0) > 0).all():
        dense = _corrcoef(w)  # complete grid: all pairs at once
    for i, j in itertools.combinations(range(k), 2):
        r, n = (float(dense[i, j]), len(w)) if dense is not None else _pearson(w[:, i], w[:, j])
        jl = jac.get((str(values[i]), str(values[j])), [])
        pair = {
            "a": values[i],
            "b": values[j],
            "kendall_tau": None if np.isnan(taus[i, j]) else float(taus[i, j]),
            "pearson": r,
            "n_matched": n,
            "jaccard": float(np.mean(jl)) if jl else None,
            "n_jaccard": len(jl),
            "reason": None,
        }
        if not (present[:, i] & present[:, j]).any():  # their leaderboards come from disjoint settings
            pair.update(kendall_tau=None, pearson=None, jaccard=None, n_matched=0)
            pair["reason"] = f"no two experiments differ only in {param} ({values[i]} vs {values[j]})"
        pairs.append(clean(pair))
    result["pairs"] = pairs
    result["kendall_tau"] = _mean([p["kendall_tau"] for p in pairs])
    result["tau_vs_all"] = _mean(taus_all)
    result["pearson"] = _mean([p["pearson"] for p in pairs])
    result["jaccard"] = _mean([p["jaccard"] for p in pairs])
    store.sql(f"DROP TABLE {wide}")
    return result


_ESTIMATES = (
    "kendall_tau",
    "tau_vs_all",
    "pearson",
    "jaccard",
    "variance_share",
    "variance_share_within",
)


def _cannot_estimate(result: dict[str, Any], param: str, n_blocks: int) -> dict[str, Any]:
    """The answer when no block holds two values of ``param``: no numbers, the reason instead."""
    result.update(dict.fromkeys(_ESTIMATES), estimable=False, pairs=[], per_value=[])
    result["reason"] = (
        f"cannot be estimated: no two experiments differ only in {param} (each of the {n_blocks} settings of the "
        f"other dimensions has a single {param} value, so {param} is confounded with them)"
    )
    return result


def impact_all(
    store: StoreData,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
    *,
    jaccard_blocks: int | None = 50,
) -> dict[str, Any]:
    """Every hyperparameter with at least two values, ranked by influence (variance_share, then 1 - tau)."""
    vals = build_values(store, metric, summary, missing)
    full = rank_means(dataset_means(store, vals))
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    params: list[tuple[str, int]] = []
    for param in PARAMS:
        n_values = store.sql(f"SELECT count(DISTINCT {param}) FROM {vals.table}").fetchone()[0]
        if n_values >= 2:
            params.append((param, n_values))
        else:
            skipped.append(param)
    keys: list[str] = []
    for param, _ in params:
        sample = _jaccard_sample(store, vals, param, jaccard_blocks)
        if sample is not None:
            keys += list(sample["exp_key"])
    selected = fetch_selected(store, keys)
    for param, n_values in params:
        r = impact(store, param, vals=vals, full=full, jaccard_blocks=jaccard_blocks, selected=selected)
        rows.append(
            {
                key: r[key]
                for key in (
                    "param",
                    "variance_share",
                    "variance_share_within",
                    "kendall_tau",
                    "tau_vs_all",
                    "pearson",
                    "jaccard",
                    "n_blocks",
                    "estimable",
                    "reason",
                )
            }
            | {"n_values": n_values}
        )
    rows.sort(
        key=lambda r: (
            not r["estimable"],  # parameters that cannot be estimated rank last
            -(r["variance_share"] or 0.0),
            r["kendall_tau"] if r["kendall_tau"] is not None else 1.0,
        )
    )
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank
    return {
        "metric": metric,
        "summary": summary,
        "ranked_by": "variance_share",
        "rows": records(pd.DataFrame(rows)) if rows else [],
        "single_valued": skipped,
        "missing": vals.missing,
        "where": store.where,
        "jaccard_sample": {"blocks_per_param": jaccard_blocks, "exact": jaccard_blocks is None},
    }
