"""algrid: large active-learning benchmark grids, from grid file to hyperparameter impact.

The public API (stable; everything else is internal and may move)::

    import algrid

    grid = algrid.load_grid("grids/demo.yaml")          # lazy, validated grid of experiments
    summary = algrid.run(grid, jobs=2)                   # resumable run into results/<grid name>
    with algrid.open_store("results/demo") as store:     # DuckDB over the Parquet parts
        print(algrid.leaderboard(store)["rows"][:3])

    @algrid.register_strategy("largest_feature_0", needs_proba=False)
    def largest_feature_0(ctx: algrid.QueryContext):    # benchmark your own strategy (docs/plugins.md)
        return np.argsort(-ctx.X_pool[:, 0], kind="stable")[: ctx.batch_size]

Names are imported lazily, so ``import algrid`` stays cheap for worker processes and the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it
_API: dict[str, str] = {
    # grids
    "Grid": "algrid.grid.lazy",
    "load_grid": "algrid.grid.lazy",
    "grid_from_dict": "algrid.grid.lazy",
    # running
    "run": "algrid.api",
    "run_experiment": "algrid.engine.loop",
    "ExperimentResult": "algrid.results",
    "RunSummary": "algrid.execute.runner",
    # stores and analysis
    "Store": "algrid.store",
    "deterministic_table": "algrid.store",
    "open_store": "algrid.analysis",
    "leaderboard": "algrid.analysis",
    "impact": "algrid.analysis",
    "impact_all": "algrid.analysis",
    "compare": "algrid.analysis",
    "critical_difference": "algrid.analysis",
    "stability": "algrid.analysis",
    "runtime": "algrid.analysis",
    "write_report": "algrid.analysis",
    # plugins
    "register_strategy": "algrid.registry",
    "register_learner": "algrid.registry",
    "register_dataset": "algrid.registry",
    "register_implementation": "algrid.registry",
    "load_plugins": "algrid.api",
    "QueryContext": "algrid.strategies.base",
    "StrategySpec": "algrid.strategies.base",
    # errors
    "AlgridError": "algrid.errors",
    "GridError": "algrid.errors",
    "StoreError": "algrid.errors",
}

__all__ = [
    "__version__",
    "Grid",
    "load_grid",
    "grid_from_dict",
    "run",
    "run_experiment",
    "ExperimentResult",
    "RunSummary",
    "Store",
    "deterministic_table",
    "open_store",
    "leaderboard",
    "impact",
    "impact_all",
    "compare",
    "critical_difference",
    "stability",
    "runtime",
    "write_report",
    "register_strategy",
    "register_learner",
    "register_dataset",
    "register_implementation",
    "load_plugins",
    "QueryContext",
    "StrategySpec",
    "AlgridError",
    "GridError",
    "StoreError",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'algrid' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # static type checkers see the real objects
    # From the defining modules: ``algrid.analysis.impact`` etc. are both submodules and functions, and mypy
    # resolves ``from algrid.analysis import impact`` to the submodule.
    from algrid.analysis.impact import impact, impact_all
    from algrid.analysis.leaderboard import leaderboard
    from algrid.analysis.report import write_report
    from algrid.analysis.runtime import runtime
    from algrid.analysis.source import open_store
    from algrid.analysis.stability import stability
    from algrid.analysis.stats import compare, critical_difference
    from algrid.api import load_plugins, run
    from algrid.engine.loop import run_experiment
    from algrid.errors import AlgridError, GridError, StoreError
    from algrid.execute.runner import RunSummary
    from algrid.grid.lazy import Grid, grid_from_dict, load_grid
    from algrid.registry import register_dataset, register_implementation, register_learner, register_strategy
    from algrid.results import ExperimentResult
    from algrid.store import Store, deterministic_table
    from algrid.strategies.base import QueryContext, StrategySpec
