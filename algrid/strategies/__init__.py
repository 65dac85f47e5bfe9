"""Registry of (strategy, implementation) pairs.

Each implementation module (native, modal, smalltext, skactiveml) exposes ``STRATEGIES: list[StrategySpec]``.
Modules are imported on first use; they must not import their third-party library at module import time.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from algrid.strategies.base import QueryContext, StrategySpec

IMPLEMENTATIONS: tuple[str, ...] = ("native", "modal", "smalltext", "skactiveml")

__all__ = [
    "IMPLEMENTATIONS",
    "QueryContext",
    "StrategySpec",
    "all_strategies",
    "get_strategy",
    "strategy_names",
]


@lru_cache(maxsize=1)
def _registry() -> dict[tuple[str, str], StrategySpec]:
    registry: dict[tuple[str, str], StrategySpec] = {}
    for impl in IMPLEMENTATIONS:
        try:
            module = importlib.import_module(f"algrid.strategies.{impl}")
        except ModuleNotFoundError as exc:  # an implementation module not written yet
            if exc.name == f"algrid.strategies.{impl}":
                continue
            raise
        for spec in module.STRATEGIES:
            if spec.implementation != impl:
                raise ValueError(
                    f"strategy {spec.name} registered by {impl} claims implementation {spec.implementation}"
                )
            if spec.pair in registry:
                raise ValueError(f"strategy {spec.name}@{impl} registered twice")
            registry[spec.pair] = spec
    return registry


def all_strategies() -> list[StrategySpec]:
    """Every registered pair, sorted by (strategy, implementation)."""
    return sorted(_registry().values(), key=lambda s: (s.name, IMPLEMENTATIONS.index(s.implementation)))


def strategy_names() -> set[str]:
    """Every strategy name that at least one implementation registers."""
    return {name for name, _ in _registry()}


def get_strategy(name: str, implementation: str) -> StrategySpec:
    """The spec of one pair; KeyError if the implementation lacks the strategy."""
    return _registry()[(name, implementation)]
