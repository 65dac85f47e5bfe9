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

Where the parts live: the laws and their factors in :mod:`algrid.cost.calibration`, one setting's cost in
:mod:`algrid.cost.model`; this module prices whole grids and calibrates from stores.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from algrid.cost.calibration import CALIBRATION_FILE, Calibration, _shipped
from algrid.cost.model import (
    _learner_cost,
    _LearnerCost,
    _length,
    _needs_proba,
    _pair_cost,
    _pair_cycles,
    _schedule,
    _Shape,
    _shape,
    _start_size,
    cycle_limited_seconds,
    experiment_cpu_seconds,
)
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
