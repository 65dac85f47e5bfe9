"""Leaderboards: per dataset, rank strategies by the summary averaged over all other settings; mean rank over
datasets (rank 1 = best, ties share the average rank). Strategy identity is (strategy, implementation)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from algrid.analysis.source import IDENTITY, StoreData
from algrid.analysis.values import Values, build_values


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
    for a in range(n_b):
        for b in range(a, n_b):
            t = kendall(boards[a], boards[b], identity)
            out[a, b] = out[b, a] = np.nan if t is None else t
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


def leaderboard(
    store: StoreData, metric: str = "f1_weighted", summary: str = "aulc", missing: str = "zero"
) -> dict[str, Any]:
    """The leaderboard as a JSON-ready dict (keys metric, summary, rows, missing, n_datasets)."""
    vals = build_values(store, metric, summary, missing)
    means = dataset_means(store, vals)
    table = rank_means(means)
    return {
        "metric": metric,
        "summary": summary,
        "rows": records(table),
        "missing": vals.missing,
        "n_datasets": int(means["dataset"].nunique()) if not means.empty else 0,
        "where": store.where,
    }


def rank_sensitivity(
    store: StoreData,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    policies: tuple[str, ...] = ("zero", "drop", "penalty"),
) -> dict[str, Any]:
    """Leaderboard position of every strategy under each missing-data policy; ``sensitive`` flags a strategy
    whose position differs between policies.

    Why: a strategy that crashes or times out often can lead under ``drop`` (only its successes count) and trail
    under ``zero``; a reader of one leaderboard must know its place depends on that choice."""
    positions: dict[tuple[str, str], dict[str, int]] = {}
    for policy in policies:
        board = leaderboard_table(store, build_values(store, metric, summary, policy))
        for pos, (s, i) in enumerate(zip(board["strategy"], board["implementation"], strict=True), 1):
            positions.setdefault((str(s), str(i)), {})[policy] = pos
    rows = []
    for (s, i), by_policy in positions.items():
        ranks = [by_policy.get(p) for p in policies]
        rows.append(
            {"strategy": s, "implementation": i}
            | {f"rank_{p}": r for p, r in zip(policies, ranks, strict=True)}
            | {"sensitive": len(set(ranks)) > 1}
        )
    rows.sort(key=lambda r: (r.get(f"rank_{policies[0]}") or 10**9, r["strategy"], r["implementation"]))
    return {
        "metric": metric,
        "summary": summary,
        "policies": list(policies),
        "rows": rows,
        "n_sensitive": sum(r["sensitive"] for r in rows),
        "where": store.where,
    }
