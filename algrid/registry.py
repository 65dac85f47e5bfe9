"""The public way to add a strategy, a learner, a dataset or an implementation (``algrid.register_*``).

Why a function per kind instead of writing into internal dicts: a registration is validated at once (a clash with a
built-in name, a bad name, a select that is not callable are one clear line when the plugin loads, never a failure in
task 731 of a SLURM array), it is attributed to the plugin being loaded (its version enters the exp_key of the
experiments that use it, see :mod:`algrid.plugins`), and a plugin that fails half-way leaves nothing behind.

Stable contract for strategies: ``select(ctx: QueryContext) -> positions`` (distinct ints indexing ``ctx.X_pool``,
exactly ``min(ctx.batch_size, len(ctx.X_pool))`` of them), see :class:`algrid.strategies.base.QueryContext`.
``algrid.testing.check_strategy`` checks it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, overload

from algrid import plugins
from algrid.plugins import PluginError
from algrid.strategies.base import QueryContext, SelectFn, StrategySpec

__all__ = [
    "QueryContext",
    "StrategySpec",
    "register_dataset",
    "register_implementation",
    "register_learner",
    "register_strategy",
]

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise PluginError(
            f"register_{kind}: name {name!r:.60} must start with a letter and use letters, digits, '_', '-', '.'"
        )
    return name


def _fail(kind: str, name: str, message: str) -> PluginError:
    owner = plugins._LOADING[-1].ref if plugins._LOADING else "this process"
    return PluginError(f"plugin {owner}: register_{kind}({name!r}): {message}")


def register_implementation(name: str, *, distribution: str = "", description: str = "") -> str:
    """Add an implementation name (e.g. a fifth AL library); ``distribution`` is the package whose version the store
    records for it (e.g. ``"alipy"``)."""
    from algrid import strategies

    _check_name("implementation", name)
    try:
        strategies.add_implementation(name, distribution, description)
    except ValueError as exc:
        raise _fail("implementation", name, str(exc)) from None
    plugins.attribute("implementation", name, undo=lambda: strategies.remove_implementation(name))
    return name


@overload
def register_strategy(
    name: str,
    select: SelectFn,
    *,
    implementation: str = ...,
    needs_proba: bool = ...,
    binary_only: bool = ...,
    batch_mode: str = ...,
    description: str = ...,
) -> SelectFn: ...
@overload
def register_strategy(
    name: str,
    select: None = None,
    *,
    implementation: str = ...,
    needs_proba: bool = ...,
    binary_only: bool = ...,
    batch_mode: str = ...,
    description: str = ...,
) -> Callable[[SelectFn], SelectFn]: ...
def register_strategy(
    name: str,
    select: SelectFn | None = None,
    *,
    implementation: str = "native",
    needs_proba: bool = True,
    binary_only: bool = False,
    batch_mode: str = "native",
    description: str = "",
) -> Any:
    """Register ``select`` as strategy ``name`` of ``implementation``; usable as a decorator.

    ``needs_proba``: the loop computes ``ctx.proba_pool`` for it. ``binary_only``: the grid leaves it out on
    multiclass data. A built-in strategy name may be registered only in a new implementation (a library's own
    version of ``margin``), never over a built-in pair.
    """

    def add(fn: SelectFn) -> SelectFn:
        from algrid import strategies

        _check_name("strategy", name)
        if not callable(fn):
            raise _fail("strategy", name, f"select must be callable, got {type(fn).__name__}")
        if batch_mode not in ("native", "top-k"):
            raise _fail("strategy", name, f"batch_mode must be 'native' or 'top-k', got {batch_mode!r}")
        if implementation in strategies.IMPLEMENTATIONS and name in strategies.builtin_strategy_names():
            raise _fail(
                "strategy",
                name,
                f"clashes with the built-in {name}@{implementation}; choose another name or implementation",
            )
        spec = StrategySpec(
            name=name,
            implementation=implementation,
            select=fn,
            binary_only=bool(binary_only),
            needs_proba=bool(needs_proba),
            batch_mode=batch_mode,
            description=description or (fn.__doc__ or "").strip().split("\n")[0],
            library=strategies.implementation_library(implementation),
        )
        try:
            strategies.add_strategy(spec)
        except ValueError as exc:
            raise _fail("strategy", name, str(exc)) from None
        plugins.attribute(
            "strategy", f"{name}@{implementation}", undo=lambda: strategies.remove_strategy(spec.pair)
        )
        return fn

    return add if select is None else add(select)


def register_learner(
    name: str, factory: Callable[[int], Any], *, relative_cost: float = 1.0, description: str = ""
) -> Callable[[int], Any]:
    """Register ``factory(seed) -> unfitted scikit-learn classifier`` as learner ``name``.

    The factory must seed the model from ``seed`` and stay single-threaded (parallelism is across experiments).
    ``relative_cost`` (``lr`` = 1, ``rf`` = 4) lets ``grid estimate`` and the shard balancer weigh it.
    """
    from algrid import learners

    _check_name("learner", name)
    if not callable(factory):
        raise _fail("learner", name, f"factory must be callable, got {type(factory).__name__}")
    if not (isinstance(relative_cost, int | float) and 0 < relative_cost < 1e6):
        raise _fail("learner", name, f"relative_cost must be a positive number, got {relative_cost!r}")
    try:
        learners.add_learner(name, factory, relative_cost)
    except ValueError as exc:
        raise _fail("learner", name, str(exc)) from None
    learners.LEARNER_NOTES[name] = description
    plugins.attribute("learner", name, undo=lambda: learners.remove_learner(name))
    return factory


def register_dataset(
    name: str,
    loader: Callable[[], Any],
    *,
    source: str = "plugin",
    licence: str = "unknown",
    description: str = "",
) -> Callable[[], Any]:
    """Register ``loader() -> (X, y)`` or ``(X, y, info)`` as dataset ``name`` (preprocessed like shipped data)."""
    from algrid.datasets import plugin as dataset_plugins
    from algrid.datasets import registry as dataset_registry

    _check_name("dataset", name)
    if not callable(loader):
        raise _fail("dataset", name, f"loader must be callable, got {type(loader).__name__}")
    if name in dataset_registry.dataset_names() or name.startswith(("openml:", "file:")):
        raise _fail("dataset", name, "clashes with an existing dataset name")
    dataset_plugins.add(dataset_plugins.PluginDataset(name, loader, source, licence, description))
    plugins.attribute("dataset", name, undo=lambda: dataset_plugins.remove(name))
    return loader
