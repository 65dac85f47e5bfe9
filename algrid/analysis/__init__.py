"""Hyperparameter-impact analysis of a result store, on DuckDB over the Parquet parts.

    from algrid.analysis import open_store, leaderboard
    with open_store("results/demo", where="learner = 'rf'") as store:
        print(leaderboard(store, metric="f1_weighted", summary="aulc", missing="zero")["rows"])

Every function returns a JSON-ready dict (the CLI prints it with --json) that states how many experiments were
missing and how they were treated. Names are imported lazily so that `import algrid.analysis` stays cheap
(matplotlib is only loaded for the report).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "QueryError": "source",
    "StoreData": "source",
    "open_store": "source",
    "leaderboard": "leaderboard",
    "impact": "impact",
    "impact_all": "impact",
    "stability": "stability",
    "compare": "stats",
    "critical_difference": "stats",
    "runtime": "runtime",
    "write_report": "report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"algrid.analysis.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'algrid.analysis' has no attribute {name!r}")
