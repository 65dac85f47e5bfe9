"""Projected CPU hours of a grid, from a measured per-cycle cost model (`algrid grid estimate`).

Why a model and not a sample run: a paper-scale grid has millions of experiments, and a user sizing a SLURM
allocation needs the answer in a second. One experiment's cost is the sum over its cycles of

* one learner fit on the labelled set and one prediction of the test split (every cycle, 0..C);
* one ``predict_proba`` over the pool (cycles 0..C-1, strategies that need probabilities);
* the strategy's own scoring of the pool for a batch, plus, for strategies that fit models of their own
  (committees, oracle candidates, expected error reduction), ``learner_work`` x (a fit + a pool prediction);
* a small per-cycle and per-experiment bookkeeping overhead,

where the labelled set grows by the batch size each cycle and the pool shrinks, and the loop stops when the pool
runs out. Each piece is a power law in rows, features, classes, pool and batch size whose parameters were fitted to
timings measured on synthetic data (``benchmarks/calibrate.py`` -> ``algrid/cost/calibration.json``).
The cycle-0 fit (and its pool prediction) is shared by every experiment of a work group (same dataset, split,
start set, learner, seed), exactly as the engine's cache shares it; further cache hits depend on the data and are
not counted, so the projection is an upper bound for algrid.

Never per experiment: costs are evaluated once per (dataset, start-set size, batch size, learner) and
(..., strategy pair) of each sub-rectangle of the grid and multiplied by the number of experiments that share them.

A calibration can be re-scaled from a result store's measured ``cpu_s`` (:func:`calibrate_from_store`): one factor
for the machine, one per learner and one per strategy pair, so projections follow the hardware they will run on.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from algrid.errors import AlgridError

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid

__all__ = [
    "Calibration",
    "calibrate_from_store",
    "estimate_grid",
    "experiment_cpu_seconds",
    "experiment_costs",
    "load_calibration",
]

CALIBRATION_FILE = "calibration.json"
#: A conservative stand-in for strategy pairs without measurements (an uncertainty sampler's cost).
DEFAULT_STRATEGY: dict[str, float] = {"a": 2e-4, "b": 5e-8, "p": 1.0, "batch": 0.0, "d": 0.0, "k": 1.0}


@dataclass
class Calibration:
    """Fitted cost laws (CPU seconds) plus correction factors from a store, if any."""

    learners: dict[str, dict[str, Any]]
    strategies: dict[str, dict[str, Any]]
    overhead: dict[str, float] = field(default_factory=lambda: {"per_cycle": 5e-4, "per_experiment": 0.01})
    scale: float = 1.0
    learner_scale: dict[str, float] = field(default_factory=dict)
    strategy_scale: dict[str, float] = field(default_factory=dict)
    source: str = "shipped"
    machine: dict[str, Any] = field(default_factory=dict)
    default_strategy: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STRATEGY))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str) -> Calibration:
        try:
            return cls(
                learners=dict(doc["learners"]),
                strategies=dict(doc.get("strategies", {})),
                overhead=dict(doc.get("overhead", {"per_cycle": 5e-4, "per_experiment": 0.01})),
                scale=float(doc.get("scale", 1.0)),
                learner_scale={k: float(v) for k, v in doc.get("learner_scale", {}).items()},
                strategy_scale={k: float(v) for k, v in doc.get("strategy_scale", {}).items()},
                source=source,
                machine=dict(doc.get("machine", {})),
                default_strategy=dict(doc.get("default_strategy", DEFAULT_STRATEGY)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AlgridError(
                f"{source}: not an algrid calibration file ({type(exc).__name__}: {exc})"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "learners": self.learners,
            "strategies": self.strategies,
            "overhead": self.overhead,
            "scale": self.scale,
            "learner_scale": self.learner_scale,
            "strategy_scale": self.strategy_scale,
            "machine": self.machine,
            "default_strategy": self.default_strategy,
        }

    # ------------------------------------------------------------------------------------------- cost laws
    def _learner(self, name: str) -> dict[str, Any]:
        if name in self.learners:
            return self.learners[name]
        scaled = _scaled_from_lr(self.learners, name)
        if scaled is not None:  # a plugin or grid-defined learner: lr's law times its relative cost
            return scaled
        try:
            return self.learners[name]
        except KeyError:
            raise AlgridError(
                f"calibration {self.source}: no cost model for learner {name!r} "
                f"(known: {', '.join(sorted(self.learners))}); run benchmarks/calibrate.py --learners {name}"
            ) from None

    def fit_s(self, learner: str, n: np.ndarray, d: float, k: float) -> np.ndarray:
        """CPU seconds to fit ``learner`` on n labelled rows."""
        law = self._learner(learner)["fit"]
        n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
        return law["a"] + law["b"] * n ** law["n"] * d ** law["d"] * k ** law["k"]

    def predict_s(self, learner: str, m: np.ndarray | float, n: np.ndarray, d: float) -> np.ndarray:
        """CPU seconds to predict m rows with a model fitted on n rows."""
        law = self._learner(learner)["predict"]
        n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
        per_row = law["a"] + law["b"] * n ** law["n"] * d ** law["d"]
        return law.get("call", 0.0) + np.asarray(m, dtype=np.float64) * per_row

    def strategy(self, pair: str) -> tuple[dict[str, Any], bool]:
        """(law, calibrated?) of a ``strategy@implementation`` pair."""
        if pair in self.strategies:
            return self.strategies[pair], True
        return self.default_strategy, False

    def query_s(
        self,
        pair: str,
        pool: np.ndarray,
        batch: np.ndarray,
        d: float,
        k: float,
        labeled: np.ndarray | None = None,
    ) -> np.ndarray:
        """CPU seconds of the strategy's own scoring (without model fits/predictions it makes)."""
        law, _ = self.strategy(pair)
        pool = np.maximum(np.asarray(pool, dtype=np.float64), 1.0)
        if law.get("pool_max"):  # the implementation scores a sub-sample of at most pool_max rows
            pool = np.minimum(pool, float(law["pool_max"]))
        if law.get("labeled_in_pool") and labeled is not None:  # it also works on every labelled row
            pool = pool + np.asarray(labeled, dtype=np.float64)
        batch = np.maximum(np.asarray(batch, dtype=np.float64), 1.0)
        return law["a"] + law["b"] * pool ** law["p"] * batch ** law["batch"] * d ** law["d"] * k ** law.get(
            "k", 0.0
        )


def _shipped() -> dict[str, Any]:
    text = resources.files("algrid.cost").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def load_calibration(path: str | Path | None = None, *, read_store: StoreReader | None = None) -> Calibration:
    """The shipped calibration, a calibration JSON file, or a result store directory to calibrate from."""
    if path is None:
        return Calibration.from_dict(_shipped(), "shipped " + CALIBRATION_FILE)
    p = Path(path)
    if p.is_dir():
        return calibrate_from_store(p, read_store=read_store)
    if not p.is_file():
        raise AlgridError(f"{path}: no such calibration file or result store")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AlgridError(f"{path}: not a JSON calibration file ({exc})") from None
    if not isinstance(doc, dict):
        raise AlgridError(f"{path}: not an algrid calibration file (expected a JSON object)")
    if "learners" not in doc:  # a partial file (e.g. only correction factors) layers over the shipped one
        doc = {**_shipped(), **doc}
    return Calibration.from_dict(doc, str(path))


# ---------------------------------------------------------------------------------------------- one setting


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


def _scaled_from_lr(laws: dict[str, Any], name: str) -> dict[str, Any] | None:
    """An uncalibrated learner's cost law: ``lr``'s fit and predict laws scaled by its relative cost."""
    from algrid.learners import BUILTIN_LEARNERS, relative_cost

    factor = relative_cost(name)
    if name in BUILTIN_LEARNERS or factor is None or "lr" not in laws:  # built-in learners must be calibrated
        return None
    out: dict[str, Any] = {}
    for part, law in laws["lr"].items():
        if isinstance(law, dict):
            out[part] = {k: (v * factor if k in ("a", "b", "call") else v) for k, v in law.items()}
        else:
            out[part] = law
    return out


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


# ---------------------------------------------------------------------------------------------- whole grids


class _Coster:
    """The one costing chain — dataset shape -> labelled-set schedule -> learner and strategy costs -> CPU seconds
    of one experiment — memoised per setting, shared by the grid estimate, the runner's ordering and calibration.
    """

    def __init__(self, cal: Calibration, settings: dict[str, Any]):
        self.cal = cal
        (self.cycles, self.budget), self.test_size = _length(settings), float(settings["test_size"])
        self._shapes: dict[str, _Shape] = {}
        self._schedules: dict[tuple[str, str, int], tuple[_Shape, np.ndarray, np.ndarray, np.ndarray]] = {}
        self._learners: dict[tuple[str, str, int, str], _LearnerCost] = {}
        self._pairs: dict[tuple[str, str, int, str], float] = {}

    def shape(self, dataset: str) -> _Shape:
        if dataset not in self._shapes:
            self._shapes[dataset] = _shape(dataset, self.test_size)
        return self._shapes[dataset]

    def schedule(
        self, dataset: str, pool_spec: str, batch: int
    ) -> tuple[_Shape, np.ndarray, np.ndarray, np.ndarray]:
        key = (dataset, pool_spec, batch)
        if key not in self._schedules:
            shape = self.shape(dataset)
            n, pool, bs = _schedule(shape, _start_size(pool_spec, shape), batch, self.cycles, self.budget)
            self._schedules[key] = (shape, n, pool, bs)
        return self._schedules[key]

    def learner_cost(self, dataset: str, pool_spec: str, batch: int, learner: str) -> _LearnerCost:
        key = (dataset, pool_spec, batch, learner)
        if key not in self._learners:
            shape, n, pool, _ = self.schedule(dataset, pool_spec, batch)
            self._learners[key] = _learner_cost(self.cal, learner, shape, n, pool)
        return self._learners[key]

    def pair_cost(self, dataset: str, pool_spec: str, batch: int, pair: str) -> float:
        key = (dataset, pool_spec, batch, pair)
        if key not in self._pairs:
            shape, n, pool, bs = self.schedule(dataset, pool_spec, batch)
            self._pairs[key] = _pair_cost(self.cal, pair, shape, pool, bs, n)
        return self._pairs[key]

    def seconds(
        self,
        dataset: str,
        pool_spec: str,
        batch: int,
        learner: str,
        pair: str,
        group_size: int,
        group_proba: bool,
        cal: Calibration | None = None,
    ) -> float:
        """Projected CPU seconds of one experiment (``cal``: price the chain with other factors)."""
        lc = self.learner_cost(dataset, pool_spec, batch, learner)
        own = self.pair_cost(dataset, pool_spec, batch, pair)
        return experiment_cpu_seconds(cal or self.cal, lc, pair, own, learner, group_size, group_proba)


def _per_setting(grid: Grid, cal: Calibration, cycle_limit_s: float | None = None):
    """Yield (dataset, learner, batch_size, pair, experiments, cpu_seconds_each, capped, cycle_limited) per setting.

    An experiment cannot cost more than the grid's ``timeout_s`` (the runner kills it then): costs are capped.
    With ``cycle_limit_s`` a run also ends at its first query cycle longer than that (see cycle_limited_seconds).
    """
    settings = grid.settings
    limit = float(settings.get("timeout_s") or math.inf)
    chain = _Coster(cal, settings)
    for rect in grid.subrects:
        v = rect.values
        repeat = (
            len(v["split"]) * len(v["start"]) * len(v["seed"])
        )  # experiments per (ds, pool, learner, batch, pair)
        pairs = [f"{s}@{i}" for s, i in rect.pairs]
        group_size = len(v["batch_size"]) * len(pairs)
        group_proba = any(_needs_proba(p, cal) for p in pairs)
        for ds in v["dataset"]:
            for pool_spec in v["initial_pool"]:
                for batch in v["batch_size"]:
                    shape, n, pool, bs = chain.schedule(ds, pool_spec, int(batch))
                    own_cycles = (
                        {p: _pair_cycles(cal, p, shape, pool, bs, n) for p in pairs} if cycle_limit_s else {}
                    )
                    for learner in v["learner"]:
                        for p in pairs:
                            stopped = False
                            if cycle_limit_s:
                                lc = chain.learner_cost(ds, pool_spec, int(batch), learner)
                                each, stopped = cycle_limited_seconds(
                                    cal, lc, p, own_cycles[p], learner, group_size, group_proba, cycle_limit_s
                                )
                            else:
                                each = chain.seconds(
                                    ds, pool_spec, int(batch), learner, p, group_size, group_proba
                                )
                            yield ds, learner, int(batch), p, repeat, min(each, limit), each > limit, stopped


def experiment_costs(
    configs: list[dict[str, Any]], settings: dict[str, Any], cal: Calibration | None = None
) -> list[float]:
    """Projected CPU seconds of each configuration, for scheduling (the runner starts the costly work first).

    Each experiment is costed as if alone (its cycle-0 fit included): what matters here is the order of magnitude
    between work groups, which spans 100x between a small SVM group and a random forest on a large pool.
    """
    cal = cal or load_calibration()
    limit = float(settings.get("timeout_s") or math.inf)
    chain = _Coster(cal, settings)
    out = []
    for c in configs:
        pair = f"{c['strategy']}@{c['implementation']}"
        each = chain.seconds(
            c["dataset"], c["initial_pool"], int(c["batch_size"]), c["learner"], pair, 1, True
        )
        out.append(min(each, limit))
    return out


def estimate_grid(
    grid: Grid, cal: Calibration | None = None, cycle_limit_s: float | None = None
) -> dict[str, Any]:
    """Projected CPU hours of ``grid``: total and per dataset, learner, strategy, implementation, pair, batch size.

    Every ``per_*`` mapping sums to the total (same experiments, grouped differently). ``cycle_limit_s`` (default:
    the grid's ``cycle_limit_s`` setting) ends a projected run at its first query cycle longer than that, as the
    runner does; ``capped_by_cycle_limit`` counts those runs.
    """
    cal = cal or load_calibration()
    if cycle_limit_s is None:
        cycle_limit_s = grid.settings.get("cycle_limit_s")
    cycle_limit_s = float(cycle_limit_s) if cycle_limit_s else None
    groups: dict[str, dict[str, list[float]]] = {
        k: defaultdict(lambda: [0, 0.0])
        for k in (
            "per_dataset",
            "per_learner",
            "per_strategy",
            "per_implementation",
            "per_pair",
            "per_batch_size",
        )
    }
    total_s, total_n = 0.0, 0
    uncalibrated: set[str] = set()
    capped: dict[str, int] = defaultdict(int)
    cycle_capped: dict[str, int] = defaultdict(int)
    for ds, learner, batch, pair, count, each, over, stopped in _per_setting(grid, cal, cycle_limit_s):
        if over:
            capped[pair] += count
        if stopped:
            cycle_capped[pair] += count
        strategy, _, impl = pair.partition("@")
        if pair not in cal.strategies:
            uncalibrated.add(pair)
        seconds = each * count
        total_s += seconds
        total_n += count
        for key, value in (
            ("per_dataset", ds),
            ("per_learner", learner),
            ("per_strategy", strategy),
            ("per_implementation", impl),
            ("per_pair", pair),
            ("per_batch_size", str(batch)),
        ):
            acc = groups[key][value]
            acc[0] += count
            acc[1] += seconds
    out: dict[str, Any] = {
        "grid": grid.name,
        "experiments": total_n,
        "cycles": _length(grid.settings)[0],
        "budget": _length(grid.settings)[1],
        "cpu_hours": total_s / 3600.0,
        "cpu_minutes_per_experiment": (total_s / 60.0 / total_n) if total_n else 0.0,
    }
    for key, per_value in groups.items():
        out[key] = {
            name: {"experiments": int(n), "cpu_hours": s / 3600.0}
            for name, (n, s) in sorted(per_value.items(), key=lambda kv: -kv[1][1])
        }
    out["uncalibrated_pairs"] = sorted(uncalibrated)
    out["timeout_s"] = float(grid.settings.get("timeout_s") or 0) or None
    out["capped_by_timeout"] = {
        "experiments": int(sum(capped.values())),
        "per_pair": dict(sorted(capped.items())),
    }
    out["cycle_limit_s"] = cycle_limit_s
    out["capped_by_cycle_limit"] = {
        "experiments": int(sum(cycle_capped.values())),
        "per_pair": dict(sorted(cycle_capped.items())),
    }
    out["calibration"] = {
        "source": cal.source,
        "cpu": cal.machine.get("cpu"),
        "scale": cal.scale,
        "learner_scale": cal.learner_scale,
        "strategy_scale": cal.strategy_scale,
    }
    out["assumptions"] = (
        "one thread per experiment; cycle-0 fit shared per work group (engine cache); other cache hits not "
        "counted (upper bound); an experiment costs at most timeout_s (the runner kills it) and, with a cycle limit, "
        "ends at its first query cycle over cycle_limit_s; cost laws fitted on "
        "synthetic data (see docs/performance.md)"
    )
    return out


# ---------------------------------------------------------------------------------------------- from a store


#: What a store reader gives the calibration: the runs table (dimensions, status, cpu_s) and the grid settings.
StoreReader = Callable[[Path], tuple[Any, dict[str, Any]]]


def calibrate_from_store(
    store_dir: str | Path, base: Calibration | None = None, *, read_store: StoreReader | None = None
) -> Calibration:
    """Re-scale ``base`` (default: shipped) so its projection matches a store's measured ``cpu_s``.

    Factors: the machine (total measured / total projected over ok runs), then per learner and per strategy pair
    (each a ratio of sums after the factors before it). Pairs and learners the store lacks keep factor 1.
    ``read_store(path) -> (runs, settings)`` comes from the layer above (``algrid.api.read_store_runs``): the cost
    model does not know how stores are laid out.
    """
    import pyarrow.compute as pc

    if read_store is None:
        raise AlgridError(f"{store_dir}: calibrating from a store needs algrid.api.load_calibration")
    base = base or load_calibration()
    runs, settings = read_store(Path(store_dir))
    runs = runs.filter(pc.equal(runs["status"], "ok"))
    if runs.num_rows == 0:
        raise AlgridError(f"{store_dir}: no finished (ok) experiments to calibrate from")
    frame = runs.to_pandas()
    for col in frame.columns:
        if hasattr(frame[col], "cat"):
            frame[col] = frame[col].astype(str)
    group_cols = ["dataset", "learner", "initial_pool", "split", "start", "seed"]
    frame["group_size"] = frame.groupby(group_cols)["cpu_s"].transform("size")
    frame["pair"] = frame["strategy"] + "@" + frame["implementation"]
    needs = {p: _needs_proba(p, base) for p in frame["pair"].unique()}
    frame["group_proba"] = frame["pair"].map(needs).groupby([frame[c] for c in group_cols]).transform("max")
    chain = _Coster(base, settings)
    unscaled = Calibration(
        base.learners,
        base.strategies,
        base.overhead,
        source=base.source,
        default_strategy=base.default_strategy,
    )
    predicted = np.empty(len(frame))
    for i, row in enumerate(frame.itertuples(index=False)):
        predicted[i] = chain.seconds(
            row.dataset,
            row.initial_pool,
            int(row.batch_size),
            row.learner,
            row.pair,
            int(row.group_size),
            bool(row.group_proba),
            cal=unscaled,
        )
    frame["pred"] = predicted
    scale = float(frame["cpu_s"].sum() / frame["pred"].sum())
    frame["pred"] *= scale
    learner_scale = (
        frame.groupby("learner")["cpu_s"].sum() / frame.groupby("learner")["pred"].sum()
    ).to_dict()
    frame["pred"] *= frame["learner"].map(learner_scale)
    strategy_scale = (frame.groupby("pair")["cpu_s"].sum() / frame.groupby("pair")["pred"].sum()).to_dict()
    return Calibration(
        learners=base.learners,
        strategies=base.strategies,
        overhead=base.overhead,
        scale=scale,
        learner_scale={k: float(v) for k, v in learner_scale.items()},
        strategy_scale={k: float(v) for k, v in strategy_scale.items()},
        source=f"{base.source} re-scaled from store {store_dir} ({len(frame)} ok runs)",
        machine=base.machine,
        default_strategy=base.default_strategy,
    )
