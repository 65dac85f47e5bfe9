"""Leaderboards: per dataset, rank strategies by the summary averaged over all other settings; mean rank over
datasets (rank 1 = best, ties share the average rank). Strategy identity is (strategy, implementation).

Each leaderboard row says whether its rank depends on the missing-data policy (:func:`rank_sensitivity`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from algrid.analysis.source import IDENTITY, StoreData
from algrid.analysis.values import MISSING_POLICIES, Values, build_values


def dataset_means(
    store: StoreData, vals: Values, identity: tuple[str, ...] = IDENTITY, where: str = ""
) -> pd.DataFrame:
    """Small frame: one row per (dataset, identity) with the mean value and the number of experiments."""
    ident = ", ".join(identity)
    cond = f"WHERE {where}" if where else ""
    return store.sql(
        f"SELECT CAST(dataset AS VARCHAR) AS dataset, {ident}, avg(value) AS value, count(*) AS n "
        f"FROM {vals.table} {cond} GROUP BY ALL"
    ).df()


def rank_means(
    means: pd.DataFrame, identity: tuple[str, ...] = IDENTITY, group: str = "dataset"
) -> pd.DataFrame:
    """Rank per ``group`` (descending value, average ties), then average over groups.

    Returns one row per identity: mean_rank, mean_value (mean over groups of the per-group means), n, n_datasets."""
    cols = [*identity, "mean_rank", "mean_value", "n", "n_datasets"]
    if means.empty:
        return pd.DataFrame(columns=cols)
    m = means.dropna(subset=["value"]).copy()
    m["rank"] = m.groupby(group)["value"].rank(ascending=False, method="average")
    out = (
        m.groupby(list(identity), observed=True)
        .agg(
            mean_rank=("rank", "mean"),
            mean_value=("value", "mean"),
            n=("n", "sum"),
            n_datasets=(group, "nunique"),
        )
        .reset_index()
    )
    out = out.sort_values(
        ["mean_rank", "mean_value", *identity], ascending=[True, False, *[True] * len(identity)]
    )
    return out[cols].reset_index(drop=True)


def identity_labels(frame: pd.DataFrame, identity: tuple[str, ...] = IDENTITY) -> list[str]:
    """'name@implementation' labels (or just the name when implementation is not part of the identity)."""
    return ["@".join(str(v) for v in row) for row in frame[list(identity)].itertuples(index=False)]


def kendall(a: pd.DataFrame, b: pd.DataFrame, identity: tuple[str, ...] = IDENTITY) -> float | None:
    """Kendall tau-b between the mean ranks of two leaderboards over the identities both contain."""
    merged = a[[*identity, "mean_rank"]].merge(b[[*identity, "mean_rank"]], on=list(identity))
    if len(merged) < 2:
        return None
    x, y = merged["mean_rank_x"].to_numpy(float), merged["mean_rank_y"].to_numpy(float)
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        return 1.0
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    tau = stats.kendalltau(x, y).statistic
    return None if tau is None or math.isnan(tau) else float(tau)


def tau_matrix(boards: list[pd.DataFrame], identity: tuple[str, ...] = IDENTITY) -> np.ndarray:
    """Kendall tau-b between every pair of leaderboards (mean ranks), as a symmetric matrix.

    Vectorised over all pairs when every board ranks the same identities (the usual case; many values of a
    hyperparameter mean many pairs); otherwise pair by pair with `kendall`."""
    keys = [tuple(r) for b in boards for r in b[list(identity)].itertuples(index=False)]
    index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    n_b, n_i = len(boards), len(index)
    ranks = np.full((n_b, n_i), np.nan)
    for bi, b in enumerate(boards):
        cols = [index[tuple(r)] for r in b[list(identity)].itertuples(index=False)]
        ranks[bi, cols] = b["mean_rank"].to_numpy(float)
    out = np.full((n_b, n_b), np.nan)
    if n_i >= 2 and not np.isnan(ranks).any():
        iu = np.triu_indices(n_i, 1)
        sign = np.sign(ranks[:, iu[0]] - ranks[:, iu[1]])  # (boards, pairs of identities)
        untied = (sign != 0).sum(axis=1).astype(float)
        denom = np.sqrt(np.outer(untied, untied))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (sign @ sign.T) / denom
        const = untied == 0  # a board that ties everything: same convention as `kendall`
        out[np.ix_(const, const)] = 1.0
        out[np.ix_(const, ~const)] = 0.0
        out[np.ix_(~const, const)] = 0.0
        return out
    for i in range(n_b):
        for j in range(i, n_b):
            t = kendall(boards[i], boards[j], identity)
            out[i, j] = out[j, i] = np.nan if t is None else t
    return out


def clean(value: Any) -> Any:
    """JSON-safe scalars: numpy -> Python, NaN -> None."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    return [clean(r) for r in frame.to_dict(orient="records")]


def leaderboard_table(store: StoreData, vals: Values, identity: tuple[str, ...] = IDENTITY) -> pd.DataFrame:
    return rank_means(dataset_means(store, vals, identity), identity)


def rank_sensitivity(
    store: StoreData,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    identity: tuple[str, ...] = IDENTITY,
) -> pd.DataFrame:
    """Per strategy: its leaderboard position under each missing-data policy, whether it changes, and its
    failures (failed + timeout experiments).

    Why: a strategy that fails late (duplicate indices at cycle 14 of 15) scores 0 under ``zero`` but its worst
    neighbour's value under ``penalty``; when that decides its rank the reader must be told. Columns: identity,
    ``rank_zero``, ``rank_drop``, ``rank_penalty`` (1 = best; None when ``drop`` leaves nothing of it),
    ``rank_sensitive``, ``failures``."""
    out: pd.DataFrame | None = None
    for policy in MISSING_POLICIES:
        board = rank_means(
            dataset_means(store, build_values(store, metric, summary, policy), identity), identity
        )
        ranked = board[list(identity)].assign(**{f"rank_{policy}": np.arange(1, len(board) + 1)})
        out = ranked if out is None else out.merge(ranked, on=list(identity), how="outer")
    assert out is not None  # MISSING_POLICIES is not empty
    ident = ", ".join(identity)
    failures = store.sql(
        f"SELECT {ident}, count(*) FILTER (WHERE status IN ('failed', 'timeout')) AS failures "
        f"FROM runs GROUP BY ALL"
    ).df()
    for col in identity:
        failures[col] = failures[col].astype(str)
        out[col] = out[col].astype(str)
    out = out.merge(failures, on=list(identity), how="left")
    out["failures"] = out["failures"].fillna(0).astype(int)
    ranks = out[[f"rank_{p}" for p in MISSING_POLICIES]]
    out["rank_sensitive"] = ranks.nunique(axis=1, dropna=False) > 1
    return out


def leaderboard(
    store: StoreData, metric: str = "f1_weighted", summary: str = "aulc", missing: str = "zero"
) -> dict[str, Any]:
    """The leaderboard as a JSON-ready dict (keys metric, summary, rows, missing, n_datasets).

    Every row also carries ``rank_sensitive``, ``ranks_by_policy`` ({zero, drop, penalty}) and ``failures``
    (:func:`rank_sensitivity`); ``rank_sensitive`` at the top level lists the flagged strategies."""
    vals = build_values(store, metric, summary, missing)
    means = dataset_means(store, vals)
    table = rank_means(means)
    sens = rank_sensitivity(store, metric, summary)
    by_label = {tuple(r[c] for c in IDENTITY): r for r in sens.to_dict(orient="records")}
    rows = records(table)
    for row in rows:
        s = by_label.get(tuple(str(row[c]) for c in IDENTITY), {})
        row["rank_sensitive"] = bool(s.get("rank_sensitive", False))
        row["ranks_by_policy"] = {p: _int_or_none(s.get(f"rank_{p}")) for p in MISSING_POLICIES}
        row["failures"] = int(s.get("failures", 0))
    return {
        "metric": metric,
        "summary": summary,
        "rows": rows,
        "missing": vals.missing,
        "n_datasets": int(means["dataset"].nunique()) if not means.empty else 0,
        "where": store.where,
        "rank_sensitive": ["@".join(str(r[c]) for c in IDENTITY) for r in rows if r["rank_sensitive"]],
    }


def _int_or_none(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def rank_sensitivity_summary(
    store: StoreData, metric: str = "f1_weighted", summary: str = "aulc"
) -> dict[str, Any]:
    """:func:`rank_sensitivity` as a JSON-ready dict (rows with ``rank_<policy>``, ``sensitive``, ``failures``)."""
    table = rank_sensitivity(store, metric, summary)
    rows = [
        {
            "strategy": str(r["strategy"]),
            "implementation": str(r["implementation"]),
            **{f"rank_{p}": _int_or_none(r.get(f"rank_{p}")) for p in MISSING_POLICIES},
            "sensitive": bool(r["rank_sensitive"]),
            "failures": int(r["failures"]),
        }
        for r in table.to_dict(orient="records")
    ]
    rows.sort(key=lambda r: (r["rank_zero"] or 10**9, r["strategy"], r["implementation"]))
    return {
        "metric": metric,
        "summary": summary,
        "policies": list(MISSING_POLICIES),
        "rows": rows,
        "n_sensitive": sum(r["sensitive"] for r in rows),
        "where": store.where,
    }
