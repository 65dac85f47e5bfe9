"""Where the CPU time goes: fit and query time per strategy, learner and dataset size; failures and timeouts.

Per experiment the curves give total fit_s and query_s (summed over cycles) and the number of cycles; the runs
give status, wall_s and the error text. Dataset size is the dataset's row count from the dataset registry when it
knows the dataset, else the largest n_labeled reached (a lower bound).
"""

from __future__ import annotations

from typing import Any

from algrid.analysis.leaderboard import records
from algrid.analysis.source import StoreData


def _dataset_rows(names: list[str]) -> dict[str, int | None]:
    try:
        from algrid.datasets import dataset_info
    except Exception:  # noqa: BLE001 - registry optional for analysis
        return {n: None for n in names}
    out: dict[str, int | None] = {}
    for n in names:
        try:
            out[n] = int(dataset_info(n).rows)
        except Exception:  # noqa: BLE001 - unknown/synthetic dataset names
            out[n] = None
    return out


def runtime(store: StoreData, top_errors: int = 5) -> dict[str, Any]:
    """Runtime and failure tables (JSON-ready dict with by_strategy, by_learner, by_dataset, failures)."""
    if store.has_curves:
        per_exp = """(SELECT exp_key, sum(fit_s) AS fit, sum(query_s) AS query, count(*) AS cyc, max(n_labeled) AS nl
                      FROM curves GROUP BY exp_key)"""
    else:
        per_exp = "(SELECT NULL::VARCHAR AS exp_key, NULL::DOUBLE AS fit, NULL::DOUBLE AS query, 0 AS cyc, 0 AS nl WHERE false)"
    store.sql(
        f"""CREATE OR REPLACE TEMP TABLE rt AS
            SELECT CAST(r.dataset AS VARCHAR) AS dataset, CAST(r.strategy AS VARCHAR) AS strategy,
                   CAST(r.implementation AS VARCHAR) AS implementation, CAST(r.learner AS VARCHAR) AS learner,
                   CAST(r.status AS VARCHAR) AS status, r.wall_s, p.fit, p.query, p.cyc, p.nl
            FROM runs r LEFT JOIN {per_exp} p USING (exp_key)"""
    )
    agg = """count(*) AS n, count(*) FILTER (WHERE status = 'ok') AS ok,
             count(*) FILTER (WHERE status = 'failed') AS failed, count(*) FILTER (WHERE status = 'timeout') AS timeout,
             sum(fit) / nullif(sum(cyc), 0) AS fit_s_per_cycle, sum(query) / nullif(sum(cyc), 0) AS query_s_per_cycle,
             avg(fit) AS fit_s_per_exp, avg(query) AS query_s_per_exp, avg(wall_s) AS wall_s_per_exp,
             sum(fit) + sum(query) AS total_s"""
    by_strategy = store.sql(
        f"SELECT strategy, implementation, {agg} FROM rt GROUP BY ALL ORDER BY total_s DESC NULLS LAST"
    ).df()
    by_learner = store.sql(
        f"SELECT learner, {agg} FROM rt GROUP BY ALL ORDER BY total_s DESC NULLS LAST"
    ).df()
    by_dataset = store.sql(
        f"SELECT dataset, max(nl) AS max_labeled, {agg} FROM rt GROUP BY ALL ORDER BY dataset"
    ).df()
    sizes = _dataset_rows(list(by_dataset["dataset"]))
    by_dataset.insert(1, "rows", [sizes.get(d) for d in by_dataset["dataset"]])
    by_ds_strategy = store.sql(
        """SELECT dataset, strategy, implementation, sum(query) / nullif(sum(cyc), 0) AS query_s_per_cycle,
                   sum(fit) / nullif(sum(cyc), 0) AS fit_s_per_cycle, count(*) AS n
            FROM rt GROUP BY ALL ORDER BY dataset, strategy, implementation"""
    ).df()
    errors = store.sql(
        f"""SELECT CAST(strategy AS VARCHAR) AS strategy, CAST(implementation AS VARCHAR) AS implementation,
                   CAST(status AS VARCHAR) AS status, coalesce(error, '') AS error, count(*) AS n
            FROM runs WHERE status <> 'ok' GROUP BY ALL ORDER BY n DESC, strategy LIMIT {int(top_errors) * 10}"""
    ).df()
    totals = dict(store.sql("SELECT CAST(status AS VARCHAR), count(*) FROM runs GROUP BY 1").fetchall())
    store.sql("DROP TABLE rt")
    return {
        "by_strategy": records(by_strategy),
        "by_learner": records(by_learner),
        "by_dataset": records(by_dataset),
        "by_dataset_strategy": records(by_ds_strategy),
        "failures": records(errors),
        "status_counts": {k: int(v) for k, v in totals.items()},
        "pending": int(store.sql("SELECT count(*) FROM pending").fetchone()[0])
        if store.pending_known
        else None,
        "where": store.where,
    }
