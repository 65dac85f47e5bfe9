"""The CPU seconds of one experiment setting: the dataset's shape -> the labelled-set schedule -> the learner's
and the strategy's cost per cycle (see :mod:`algrid.cost.estimate` for the model and why it is one)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from algrid.cost.calibration import Calibration
from algrid.errors import AlgridError

__all__ = ["cycle_limited_seconds", "experiment_cpu_seconds"]


@dataclass(frozen=True)
class _Shape:
    """A dataset's sizes as the loop sees them."""

    train: int
    test: int
    features: int
    classes: int


def _shape(dataset: str, test_size: float) -> _Shape:
    from algrid.datasets import dataset_info

    try:
        info = dataset_info(dataset)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise AlgridError(f"dataset {dataset!r}: {message}") from None
    rows = int(info.rows)
    test = int(math.ceil(test_size * rows))
    return _Shape(
        train=rows - test, test=test, features=max(int(info.features), 1), classes=max(int(info.classes), 2)
    )


def _start_size(spec: str, shape: _Shape) -> int:
    method, _, size = str(spec).partition(":")
    n = int(size or 1)
    if method == "per_class":
        n *= shape.classes
    return max(min(n, shape.train), 1)


def _schedule(
    shape: _Shape, start: int, batch: int, cycles: int | None, budget: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled-set sizes n_0..n_C, and for the C queries the pool sizes and batch sizes (``budget``: the
    loop labels up to that many rows in all, the last batch cut to fit; see algrid.engine.loop.labels_to_add)."""
    room = max(shape.train - start, 0)
    if budget is not None:
        end = start + min(max(int(budget) - start, 0), room)
        c = int(math.ceil((end - start) / batch))
        n = np.minimum(start + batch * np.arange(c + 1, dtype=np.float64), end)
        pool = shape.train - n[:-1]
        return n, pool, np.diff(n)
    assert cycles is not None, "a grid sets cycles or a label budget"
    c = min(int(cycles), int(math.ceil(room / batch))) if room else 0
    n = np.minimum(start + batch * np.arange(c + 1, dtype=np.float64), shape.train)
    pool = shape.train - n[:-1]
    return n, pool, np.minimum(batch, pool)


def _length(settings: dict[str, Any]) -> tuple[int | None, int | None]:
    """(cycles, budget) of a grid's settings: exactly one is set."""
    budget = settings.get("budget")
    return (None, int(budget)) if budget is not None else (int(settings["cycles"]), None)


@dataclass
class _LearnerCost:
    cycle0: float  # fit + test prediction on the start set (shared by the work group)
    proba0: float  # pool prediction of the start-set model (shared by the work group)
    cycles: float  # fits + test predictions of cycles 1..C
    proba: float  # pool predictions of cycles 1..C-1
    work: float  # sum over queries of (fit on the labelled set + pool prediction): one unit of learner_work
    n_cycles: int
    classes: int
    # per query cycle 1..C (what a per-cycle time limit sees): fit + test prediction of the new model, the previous
    # model's pool prediction (cycle 1's is the shared cycle-0 one, counted with the group), one learner_work unit
    cycle_fits: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cycle_proba: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cycle_work: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _learner_cost(
    cal: Calibration, learner: str, shape: _Shape, n: np.ndarray, pool: np.ndarray
) -> _LearnerCost:
    d, k = float(shape.features), float(shape.classes)
    fits = cal.fit_s(learner, n, d, k) + cal.predict_s(learner, shape.test, n, d)
    proba = cal.predict_s(learner, pool, n[:-1], d) if len(pool) else np.zeros(0)
    work = cal.fit_s(learner, n[:-1], d, k) + proba if len(pool) else np.zeros(0)
    return _LearnerCost(
        cycle0=float(fits[0]),
        proba0=float(proba[0]) if len(proba) else 0.0,
        cycles=float(fits[1:].sum()),
        proba=float(proba[1:].sum()),
        work=float(work.sum()),
        n_cycles=len(n),
        classes=shape.classes,
        cycle_fits=np.asarray(fits[1:], dtype=np.float64),
        cycle_proba=np.r_[0.0, proba[1:]] if len(proba) else np.zeros(0),
        cycle_work=np.asarray(work, dtype=np.float64),
    )


def _pair_cost(
    cal: Calibration, pair: str, shape: _Shape, pool: np.ndarray, batch: np.ndarray, labeled: np.ndarray
) -> float:
    return float(_pair_cycles(cal, pair, shape, pool, batch, labeled).sum())


def _pair_cycles(
    cal: Calibration, pair: str, shape: _Shape, pool: np.ndarray, batch: np.ndarray, labeled: np.ndarray
) -> np.ndarray:
    """The strategy's own scoring per query cycle (``labeled``: labelled rows at each query)."""
    if not len(pool):
        return np.zeros(0)
    d, k = float(shape.features), float(shape.classes)
    return np.asarray(cal.query_s(pair, pool, batch, d, k, labeled=labeled[: len(pool)]), dtype=float)


def cycle_limited_seconds(
    cal: Calibration,
    learner_cost: _LearnerCost,
    pair: str,
    own_cycles: np.ndarray,
    learner: str,
    group_size: int,
    group_proba: bool,
    cycle_limit_s: float,
) -> tuple[float, bool]:
    """(CPU seconds, stopped?) of one experiment when a query cycle over ``cycle_limit_s`` ends the run.

    As the runner does: cycles run until the first one whose projected time exceeds the limit; that cycle costs
    the limit (it is stopped there) and the run ends as ``timeout``. Cycle 0 (the start set) is not limited.
    """
    law, _ = cal.strategy(pair)
    factor = cal.scale * cal.learner_scale.get(learner, 1.0) * cal.strategy_scale.get(pair, 1.0)
    lc = learner_cost
    work = float(law.get("learner_work", 0.0)) * (lc.classes / 2.0) ** float(law.get("learner_work_k", 0.0))
    per_cycle = lc.cycle_fits + own_cycles + work * lc.cycle_work + cal.overhead.get("per_cycle", 0.0)
    if _needs_proba(pair, cal):
        per_cycle = per_cycle + lc.cycle_proba
    per_cycle = per_cycle * factor
    shared = lc.cycle0 + (lc.proba0 if group_proba else 0.0)
    fixed = shared / group_size + cal.overhead.get("per_cycle", 0.0) + cal.overhead.get("per_experiment", 0.0)
    fixed *= factor
    over = np.flatnonzero(per_cycle > cycle_limit_s)
    if not len(over):
        return fixed + float(per_cycle.sum()), False
    first = int(over[0])
    return fixed + float(per_cycle[:first].sum()) + cycle_limit_s, True


def _needs_proba(pair: str, cal: Calibration) -> bool:
    law, calibrated = cal.strategy(pair)
    if calibrated and "needs_proba" in law:
        return bool(law["needs_proba"])
    from algrid.strategies import get_strategy

    name, _, impl = pair.partition("@")
    try:
        return bool(get_strategy(name, impl).needs_proba)
    except KeyError:
        return True


def experiment_cpu_seconds(
    cal: Calibration,
    learner_cost: _LearnerCost,
    pair: str,
    own: float,
    learner: str,
    group_size: int,
    group_proba: bool,
) -> float:
    """Projected CPU seconds of one experiment (its share of the work group's cycle-0 cost included)."""
    law, _ = cal.strategy(pair)
    needs = _needs_proba(pair, cal)
    shared = learner_cost.cycle0 + (learner_cost.proba0 if group_proba else 0.0)
    t = shared / group_size
    t += learner_cost.cycles + (learner_cost.proba if needs else 0.0)
    work = float(law.get("learner_work", 0.0)) * (learner_cost.classes / 2.0) ** float(
        law.get("learner_work_k", 0.0)
    )
    t += own + work * learner_cost.work
    t += cal.overhead.get("per_cycle", 0.0) * learner_cost.n_cycles + cal.overhead.get("per_experiment", 0.0)
    return t * cal.scale * cal.learner_scale.get(learner, 1.0) * cal.strategy_scale.get(pair, 1.0)
