"""Hyperparameter-impact analysis of a result store, on DuckDB over the Parquet parts.

    from algrid.analysis import open_store, leaderboard
    with open_store("results/demo", where="learner = 'rf'") as store:
        print(leaderboard(store, metric="f1_weighted", summary="aulc", missing="zero")["rows"])

Every function returns a JSON-ready dict (the CLI prints it with --json) that states how many experiments were
missing and how they were treated. matplotlib is only imported when a report is written.
"""

from algrid.analysis.impact import impact, impact_all
from algrid.analysis.leaderboard import leaderboard
from algrid.analysis.report import write_report
from algrid.analysis.runtime import runtime
from algrid.analysis.source import QueryError, StoreData, open_store
from algrid.analysis.stability import stability
from algrid.analysis.stats import compare, critical_difference

__all__ = [
    "QueryError",
    "StoreData",
    "compare",
    "critical_difference",
    "impact",
    "impact_all",
    "leaderboard",
    "open_store",
    "runtime",
    "stability",
    "write_report",
]
