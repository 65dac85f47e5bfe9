"""The numbers behind the interactive report, as one JSON-ready dict of small aggregates computed in DuckDB.

Why aggregates: the page must stay small and fast however large the store is. Every table here has one row per
strategy, dataset, hyperparameter or curve point of a (dataset, strategy, learner, batch size) group, never one per
experiment; learning curves are thinned to fit ``curve_budget`` points in total (and pooled over batch sizes, then
learners, if even that is not enough), so a 2-million-experiment store gives a page of bounded size.
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa

from algrid.analysis.impact import impact_all
from algrid.analysis.leaderboard import clean, dataset_means, rank_means, rank_sensitivity_summary, records
from algrid.analysis.runtime import runtime
from algrid.analysis.source import StoreData
from algrid.analysis.stability import stability
from algrid.analysis.stats import critical_difference
from algrid.analysis.tables import missing_line
from algrid.analysis.values import build_values
from algrid.errors import AlgridError

#: Curve points (one per group and number of labels) the page carries at most (~35 bytes each).
CURVE_BUDGET = 200_000
#: Fewest points a thinned curve keeps before groups are pooled instead.
MIN_POINTS = 8
#: Filter dimensions of the curves, pooled (last first) when the budget needs it. Learners go first: pooling them
#: keeps the numbers of labels of a curve, pooling batch sizes multiplies them.
CURVE_FILTERS: tuple[str, ...] = ("batch_size", "learner")


def _curve_groups(store: StoreData, metric: str, dims: list[str]) -> tuple[int, int]:
    """(number of curve groups over dataset, identity and ``dims``, largest cycle) of finished experiments."""
    cols = ", ".join(["dataset", "strategy", "implementation", *dims])
    n_groups = store.sql(
        f"SELECT count(*) FROM (SELECT DISTINCT {cols} FROM runs WHERE status = 'ok')"
    ).fetchone()[0]
    max_cycle = store.sql("SELECT coalesce(max(cycle), 0) FROM curves").fetchone()[0]
    return int(n_groups), int(max_cycle)


def _aggregate(store: StoreData, metric: str, cols: list[str], step: int, max_cycle: int):
    keep = f"(c.cycle % {step} = 0 OR c.cycle = {max_cycle})" if step > 1 else "true"
    select = ", ".join(f"CAST(r.{c} AS VARCHAR) AS {c}" for c in cols)
    return store.sql(
        f"""SELECT {select}, c.n_labeled AS x, count(*) AS n, avg(c.{metric}) AS mean,
                   stddev_samp(c.{metric}) AS sd
            FROM curves c JOIN runs r USING (exp_key)
            WHERE r.status = 'ok' AND c.{metric} IS NOT NULL AND c.n_labeled IS NOT NULL AND {keep}
            GROUP BY ALL ORDER BY ALL"""
    ).df()


def curve_data(store: StoreData, metric: str, budget: int = CURVE_BUDGET) -> dict[str, Any]:
    """Mean, standard deviation and count of ``metric`` per (dataset, strategy, implementation, learner,
    batch_size, n_labeled), columnar with dictionary-coded labels, thinned to at most ``budget`` points.

    The page pools selected groups itself (exact for mean and variance from n, mean, sd)."""
    if not store.has_curves:
        return {"available": False, "note": "the store has no curves"}
    dims = list(CURVE_FILTERS)
    n_groups, max_cycle = _curve_groups(store, metric, dims)
    pooled: list[str] = []
    while dims and n_groups * MIN_POINTS > budget:
        pooled.append(dims.pop())
        n_groups, max_cycle = _curve_groups(store, metric, dims)
    n_cycles = max_cycle + 1
    max_step = max(1, n_cycles // MIN_POINTS)
    step = min(max_step, max(1, math.ceil(n_groups * n_cycles / max(budget, 1))))
    while True:
        cols = ["dataset", "strategy", "implementation", *dims]
        frame = _aggregate(store, metric, cols, step, max_cycle)
        if len(frame) <= budget:
            break
        if step < max_step:  # numbers of labels differ within a group (pooled batch sizes, initial pools)
            step = min(max_step, max(step + 1, math.ceil(step * len(frame) / budget)))
        elif dims:
            pooled.append(dims.pop())
        else:
            break  # one point per (dataset, strategy) and cycle subset: cannot shrink further
    out: dict[str, Any] = {
        "available": not frame.empty,
        "metric": metric,
        "dims": cols,
        "pooled": pooled,
        "cycle_step": step,
        "n_points": len(frame),
    }
    if frame.empty:
        out["note"] = "no finished curves to plot"
        return out
    labels: dict[str, list[str]] = {}
    codes: dict[str, list[int]] = {}
    for c in cols:
        cat = frame[c].astype("category")
        values = list(cat.cat.categories)
        if c == "batch_size":  # numeric order for the filter menu
            order = sorted(values, key=int)
            cat = cat.cat.reorder_categories(order)
            values = order
        labels[c] = [str(v) for v in values]
        codes[c] = cat.cat.codes.astype(int).tolist()
    out["labels"] = labels
    out["codes"] = codes
    out["x"] = frame["x"].astype(int).tolist()
    out["n"] = frame["n"].astype(int).tolist()
    out["mean"] = [round(v, 4) for v in frame["mean"].astype(float)]
    out["sd"] = [0.0 if math.isnan(v) else round(v, 4) for v in frame["sd"].astype(float)]
    return out


def _heatmap(means, order: list[str]) -> dict[str, Any]:
    """Datasets x strategies: mean value, rank within the dataset (1 = best) and experiment count."""
    if means.empty:
        return {"datasets": [], "labels": order, "value": [], "rank": [], "n": []}
    m = means.copy()
    m["label"] = m["strategy"].astype(str) + "@" + m["implementation"].astype(str)
    m["rank"] = m.groupby("dataset")["value"].rank(ascending=False, method="average")
    datasets = sorted(m["dataset"].unique())
    grid = {k: m.pivot_table(index="dataset", columns="label", values=k) for k in ("value", "rank", "n")}
    out: dict[str, Any] = {"datasets": datasets, "labels": order}
    for k, table in grid.items():
        table = table.reindex(index=datasets, columns=order)
        out[k] = clean(table.to_numpy().tolist())
    return out


def build_report_data(
    store: StoreData,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
    repeats: int = 20,
    curve_budget: int = CURVE_BUDGET,
) -> dict[str, Any]:
    """Every section of the report as small JSON-ready aggregates (see the module docstring)."""
    vals = build_values(store, metric, summary, missing)
    means = dataset_means(store, vals)
    board = rank_means(means)
    order = [f"{s}@{i}" for s, i in zip(board["strategy"], board["implementation"], strict=True)]
    sens = rank_sensitivity_summary(store, metric, summary)
    flags = {(r["strategy"], r["implementation"]): r for r in sens["rows"]}
    rows = []
    for pos, r in enumerate(records(board), 1):
        f = flags.get((str(r["strategy"]), str(r["implementation"])), {})
        rows.append(
            {"rank": pos, **r}
            | {k: f.get(k) for k in ("rank_zero", "rank_drop", "rank_penalty")}
            | {"rank_sensitive": bool(f.get("sensitive"))}
        )
    data: dict[str, Any] = {
        "metric": metric,
        "summary": summary,
        "missing_policy": missing,
        "where": store.where,
        "leaderboard": {
            "rows": rows,
            "missing": vals.missing,
            "missing_line": missing_line(vals.missing),
            "n_datasets": int(means["dataset"].nunique()) if not means.empty else 0,
            "n_sensitive": sens["n_sensitive"],
        },
        "heatmap": _heatmap(means, order),
    }
    data["curves"] = curve_data(store, metric, curve_budget)
    imp = impact_all(store, metric, summary, missing, jaccard_blocks=50)
    data["impact"] = {"rows": imp["rows"], "single_valued": imp["single_valued"]}
    stab = stability(store, None, repeats, metric, summary, missing)
    data["stability"] = {k: stab[k] for k in ("curve", "k_min", "n_units", "unit", "target")}
    try:
        cd = critical_difference(store, metric, summary, missing)
        data["cd"] = {
            k: cd[k]
            for k in (
                "rows",
                "cliques",
                "cd",
                "friedman_chi2",
                "friedman_p",
                "n_datasets",
                "alpha",
                "dropped",
            )
        }
    except AlgridError as exc:
        data["cd"] = {"error": str(exc)}
    rt = runtime(store)
    rt.pop("by_dataset_strategy", None)
    data["runtime"] = rt
    data["versions"] = run_versions(store)
    return clean(data)


def run_versions(store: StoreData) -> dict[str, Any]:
    """The version census of the report's runs (algrid.store.versions): the software behind every number shown."""
    from algrid.store.versions import VERSION_COLUMNS, version_census

    cols = ", ".join(VERSION_COLUMNS)
    grouped = store.con.execute(f"SELECT {cols}, count(*) AS n FROM runs GROUP BY ALL").fetchall()
    names = [*VERSION_COLUMNS, "n"]
    table = pa.table({c: [row[i] for row in grouped] for i, c in enumerate(names)})
    return version_census(table, weight="n")
