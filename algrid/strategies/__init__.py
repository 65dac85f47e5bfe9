"""Registry of (strategy, implementation) pairs: the built-in implementations plus what plugins register.

Each built-in implementation module (native, modal, smalltext, skactiveml, alipy, libact) exposes ``STRATEGIES:
list[StrategySpec]``. Modules are imported on first use; they must not import their third-party library at module
import time. Plugins add pairs and implementations through :func:`algrid.register_strategy` and
:func:`algrid.register_implementation` (see docs/plugins.md), which call :func:`add_strategy` /
:func:`add_implementation` here.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from algrid.strategies.base import QueryContext, StrategySpec

#: The implementations algrid ships (their names cannot be taken by a plugin).
IMPLEMENTATIONS: tuple[str, ...] = ("native", "modal", "smalltext", "skactiveml", "alipy", "libact")
#: Implementations added at run time: name -> (distribution whose version is reported, description).
_EXTRA_IMPLEMENTATIONS: dict[str, tuple[str, str]] = {}

__all__ = [
    "IMPLEMENTATIONS",
    "QueryContext",
    "StrategySpec",
    "add_implementation",
    "add_strategy",
    "all_strategies",
    "builtin_strategy_names",
    "get_strategy",
    "implementation_library",
    "implementation_names",
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


def implementation_names() -> tuple[str, ...]:
    """Built-in implementations first, then those plugins added (in registration order)."""
    return (*IMPLEMENTATIONS, *_EXTRA_IMPLEMENTATIONS)


def implementation_library(name: str) -> str:
    """The distribution whose version identifies implementation ``name`` ("" if none)."""
    return _EXTRA_IMPLEMENTATIONS.get(name, ("", ""))[0]


def all_strategies() -> list[StrategySpec]:
    """Every registered pair, sorted by (strategy, implementation)."""
    order = {impl: i for i, impl in enumerate(implementation_names())}
    return sorted(_registry().values(), key=lambda s: (s.name, order.get(s.implementation, len(order))))


@lru_cache(maxsize=1)
def builtin_strategy_names() -> frozenset[str]:
    """Names of the strategies algrid ships (a plugin may implement them anew only in its own implementation)."""
    return frozenset(
        name for (name, impl), spec in _registry().items() if impl in IMPLEMENTATIONS and _builtin(spec)
    )


def _builtin(spec: StrategySpec) -> bool:
    return getattr(spec.select, "__module__", "algrid.").startswith("algrid.") or spec.select is None


def add_implementation(name: str, distribution: str = "", description: str = "") -> None:
    """Add an implementation name (a library that is not built in); ValueError if taken."""
    if name in IMPLEMENTATIONS or name in _EXTRA_IMPLEMENTATIONS:
        raise ValueError(f"implementation {name!r} already exists")
    _EXTRA_IMPLEMENTATIONS[name] = (distribution, description)


def remove_implementation(name: str) -> None:
    _EXTRA_IMPLEMENTATIONS.pop(name, None)


def add_strategy(spec: StrategySpec) -> None:
    """Add one pair; ValueError if its implementation is unknown or the pair exists."""
    if spec.implementation not in implementation_names():
        raise ValueError(
            f"unknown implementation {spec.implementation!r} (register it first with algrid.register_implementation)"
        )
    if spec.pair in _registry():
        raise ValueError(f"strategy {spec.name}@{spec.implementation} already exists")
    _registry()[spec.pair] = spec


def remove_strategy(pair: tuple[str, str]) -> None:
    _registry().pop(pair, None)


def strategy_names() -> set[str]:
    """Every strategy name that at least one implementation registers."""
    return {name for name, _ in _registry()}


def get_strategy(name: str, implementation: str) -> StrategySpec:
    """The spec of one pair; KeyError if the implementation lacks the strategy."""
    return _registry()[(name, implementation)]
