"""The simulated-oracle active-learning loop for ONE configuration.

Split -> start set -> ``cycles`` rounds of (query a batch on the last model, the oracle labels it, fit, evaluate).
The loop is identical for every strategy and implementation; a strategy only supplies ``select(ctx)``.

Determinism and fair randomness: every seed, what it is hashed from and why, is in :mod:`algrid.engine.seeds`.

The model is fitted on the labelled set in sorted row-id order, and the pool is shown in a fixed pseudo-random
order of (dataset, split, test_size, seed) (see :func:`pool_order`), so a labelled set fully determines the fit,
the test metrics and the pool probabilities: that is what lets :mod:`algrid.engine.cache` share them between
experiments without changing any result.

Per cycle the loop does exactly one fit, one ``predict`` on the test split and (only for strategies with
``needs_proba``) one ``predict_proba`` over the pool, shared with the strategy through ``ctx.proba_pool``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from algrid.engine.cache import CacheEntry, ModelCache, labeled_key, process_cache
from algrid.engine.manifest import forest_code, run_manifest
from algrid.engine.metrics import classification_metrics, summarize
from algrid.engine.seeds import (
    canonical_json,
    cycle_streams,
    learner_seed_of,
    seed_sequence,
    seed_sequences,
    strategy_setting,
)
from algrid.engine.split import initial_pool, pool_order, start_set, train_test_ids
from algrid.engine.threads import hold_one_thread, one_thread
from algrid.engine.trusted import trusted_calls
from algrid.identity import KEY_SETTINGS, OPTIONAL_KEY_SETTINGS, key_settings_of
from algrid.identity import exp_key as identity_exp_key
from algrid.learners import make_al_learner
from algrid.learners.defined import ensure_defined
from algrid.provenance import versions_of
from algrid.results import DIMENSIONS, OPTIONAL_DIMENSIONS, ExperimentResult, is_unset, key_dimensions
from algrid.strategies.base import QueryContext, StrategySpec
from algrid.strategies.seeding import key_versions

__all__ = [
    "StrategyError",
    "hold_one_thread",
    "initial_pool",
    "labels_to_add",
    "pool_order",
    "run_experiment",
    "seed_sequence",
    "seed_sequences",
    "strategy_setting",
    "train_test_ids",
]


class CycleLimitExceeded(Exception):
    """A query cycle took longer than the grid's ``cycle_limit_s``: the run ends as ``timeout`` (prior study)."""

    def __init__(self, cycle: int, seconds: float, limit: float):
        super().__init__(
            f"cycle_limit: cycle {cycle} took {seconds:.3g} s > cycle_limit_s {limit:g}; "
            f"stopped after {cycle - 1} cycles"
        )


class StrategyError(RuntimeError):
    """A strategy broke a selection invariant (size, duplicates, out of range, labelled or test rows)."""


# ---------------------------------------------------------------------------------------------- seeding


def labels_to_add(settings: dict[str, Any], batch_size: int, n_start: int, n_pool: int) -> int:
    """How many rows the loop labels after the start set: ``cycles`` full batches, or up to ``budget`` labelled
    rows in all (the last batch cut to fit, so every batch size ends at exactly the budget); never more than
    the pool holds."""
    budget = settings.get("budget")
    if budget is not None:
        return max(min(int(budget) - n_start, n_pool), 0)
    return min(int(settings["cycles"]) * batch_size, n_pool)


# ---------------------------------------------------------------------------------------------- split and start


class _CycleContext(QueryContext):
    """The loop's QueryContext: given a SeedSequence, ``ctx.rng`` is built on first use as
    ``Generator(PCG64(ss))`` (what ``default_rng(ss)`` returns). Why: most strategies never draw from it, and a
    Generator costs ~6 µs a cycle."""

    _rng: np.random.Generator | np.random.SeedSequence

    @property
    def rng(self) -> np.random.Generator:
        if not isinstance(self._rng, np.random.Generator):
            self._rng = np.random.Generator(np.random.PCG64(self._rng))
        return self._rng

    @rng.setter
    def rng(self, value: Any) -> None:  # a Generator, or the SeedSequence to build it from
        self._rng = value


# ---------------------------------------------------------------------------------------------- the loop


@dataclass
class _State:
    """What one experiment shares across its cycles."""

    X: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    test_ids: np.ndarray
    learner: str
    learner_seed: int
    key_prefix: tuple
    cache: ModelCache | None
    # oracle candidates fitted this cycle, by labelled-set key: only the winner is reused (and then cached), so the k
    # losing candidates per cycle never evict entries other experiments could share
    pending: dict[bytes, CacheEntry] = field(default_factory=dict)
    current_set: bytes = b""  # labelled set of the loop's current model
    forests: set[bool] = field(
        default_factory=set
    )  # which forest code fit this run's models (version manifest)
    # the context of every fit/predict call: what scikit-learn need not check again (algrid.engine.trusted)
    calls: Callable[[], AbstractContextManager] = nullcontext
    X_test: np.ndarray = field(
        init=False
    )  # the test rows, copied once per experiment instead of once per fit
    y_test: np.ndarray = field(init=False)

    _rows_of: np.ndarray | None = field(init=False, default=None)
    _rows: np.ndarray | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.X_test, self.y_test = self.X[self.test_ids], self.y[self.test_ids]

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """``X[ids]``, read-only, made once per labelled set: the fit and the next cycle's ``ctx.X_labeled``
        share it (the loop passes the same ``ids`` array to both)."""
        if self._rows_of is not ids or self._rows is None:
            self._rows, self._rows_of = _read_only(np.take(self.X, ids, axis=0)), ids
        return self._rows

    def fit_eval(
        self, labeled_ids: np.ndarray, *, candidate: bool = False, pool: np.ndarray | None = None
    ) -> CacheEntry:
        """Fitted model + test metrics for a sorted labelled set (from the cache when possible).

        ``pool``: the pool rows the next query scores, when it reads probabilities. A learner that predicts test
        and pool rows in one pass (the fast forest: one traversal per tree) then fills ``proba_pool`` right away,
        with the values :meth:`proba` would compute; other learners keep computing it lazily (so a learner whose
        ``predict_proba`` fails still fails at the query, as before)."""
        set_key = labeled_key(labeled_ids)
        key = self.key_prefix + (set_key,)
        entry = self.pending.get(set_key)
        if not candidate:
            self.pending.clear()
            self.current_set = set_key
        if entry is None and self.cache is not None:
            entry = self.cache.get(key, count=not candidate)
            if entry is not None:
                self._note_forest(entry)
                return entry
        if entry is None:
            model = make_al_learner(self.learner, self.learner_seed, self.classes)
            with self.calls():
                model.fit(self.rows(labeled_ids), self.y[labeled_ids])
                proba = None
                if pool is not None and hasattr(getattr(model, "estimator_", None), "predict_and_proba"):
                    pred, proba = model.predict_and_proba(self.X_test, pool)
                    proba = _read_only(np.asarray(proba, dtype=np.float64))
                else:
                    pred = model.predict(self.X_test)
            model._frozen = True  # may be shared through the cache: strategies fit ctx.make_learner() models
            metrics = classification_metrics(self.y_test, pred, len(self.classes))
            entry = CacheEntry(model=model, metrics=metrics, proba_pool=proba, forest=_fit_path(model))
        self._note_forest(entry)
        if candidate:
            self.pending[set_key] = entry
        elif self.cache is not None:
            self.cache.put(key, entry)
        return entry

    def _note_forest(self, entry: CacheEntry) -> None:
        if entry.forest is not None:
            self.forests.add(entry.forest)

    def proba(self, entry: CacheEntry, X_pool: np.ndarray) -> np.ndarray:
        """``predict_proba`` over the pool rows ``X_pool``, computed at most once per fitted model."""
        if entry.proba_pool is None:
            with self.calls():
                proba = np.asarray(entry.model.predict_proba(X_pool), dtype=np.float64)
            proba.setflags(write=False)
            entry.proba_pool = proba
            if self.cache is not None:
                self.cache.grew(self.key_prefix + (self.current_set,), proba.nbytes)
        return entry.proba_pool


def _fit_path(model: Any) -> bool | None:
    # imported here: scikit-learn loads with the first model, not with the engine
    from algrid.learners.fast_forest import fit_path

    return fit_path(model)


def _check_selection(positions: Any, n_pool: int, want: int) -> np.ndarray:
    """Validate a strategy's answer; returns it as int64 positions.

    The checks run on a Python list: batches are small, and each NumPy reduction costs more than the whole
    list check when it runs between two model fits.
    """
    pos = np.asarray(positions)
    if pos.ndim != 1 or (pos.size and pos.dtype.kind not in "iu"):
        raise StrategyError(
            f"strategy returned {pos.dtype} array of shape {pos.shape}, expected 1-d integer positions"
        )
    pos = pos.astype(np.int64, copy=False)
    if len(pos) != want:
        raise StrategyError(f"strategy returned {len(pos)} positions, expected {want}")
    listed = pos.tolist()
    if want and (min(listed) < 0 or max(listed) >= n_pool):
        raise StrategyError(f"strategy returned a position outside the pool of {n_pool}")
    if len(set(listed)) != len(listed):
        raise StrategyError("strategy returned duplicate positions")
    return pos


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _cycle_row(n_labeled: int, metrics: dict[str, float], fit_s: float, query_s: float) -> dict[str, float]:
    row: dict[str, float] = {"n_labeled": int(n_labeled)}
    row.update(metrics)
    row["fit_s"] = fit_s
    row["query_s"] = query_s
    return row


def _resolve_cache(cache: ModelCache | bool | None) -> ModelCache | None:
    if cache is None or cache is True:
        return process_cache()
    if cache is False:
        return None
    return cache


def run_experiment(
    config: dict[str, Any],
    settings: dict[str, Any],
    *,
    exp_key: str | None = None,
    cache: ModelCache | bool | None = None,
    on_cycle: Callable[[ExperimentResult], None] | None = None,
) -> ExperimentResult:
    """Run one AL experiment; never raises for a failing strategy or learner (status "failed").

    ``cache``: None/True = this process's shared :func:`algrid.engine.cache.process_cache` (off with ALGRID_CACHE=0),
    False = no cache, or a :class:`ModelCache`. Results are identical either way.
    ``on_cycle(result)`` is called after every recorded cycle with the partial result.

    Curve row c describes the model fitted on the labelled set after cycle c: ``fit_s`` is its fit plus the test
    prediction, ``query_s`` the time to choose ``selected[c]`` (pool probabilities + strategy; for cycle 0 the
    start-set draw; a learner predicting test and pool rows in one pass counts the pool's in ``fit_s``, see
    ``_State.fit_eval``). TimeoutError propagates so that runners can enforce limits. A query cycle (query + fit) longer
    than ``settings["cycle_limit_s"]`` (wall seconds) ends the run as ``timeout`` with the cycles before it.
    """
    config = {d: config[d] for d in DIMENSIONS} | {
        d: config[d] for d in OPTIONAL_DIMENSIONS if not is_unset(d, config.get(d))
    }
    if settings.get("learners"):  # a grid's `learners:` definitions, known in every worker process
        ensure_defined(settings["learners"])
    if exp_key is None:  # the grid's key (algrid.identity), so results of the Python API match a store's
        from algrid.datasets import PREPROCESSING_VERSION

        key_settings = key_settings_of(
            {k: settings.get(k) for k in (*KEY_SETTINGS, *OPTIONAL_KEY_SETTINGS)}
            | {"preprocessing": settings.get("preprocessing") or PREPROCESSING_VERSION}
        )
        exp_key = identity_exp_key(
            config, key_settings, key_dimensions(config), key_versions(config, versions_of(config, settings))
        )
    result = ExperimentResult(exp_key=exp_key, config=config)
    forests: set[bool] = set()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        # One BLAS/OpenMP thread: parallelism is across experiments; nested pools on a busy machine made
        # small k-means/kNN/L-BFGS calls 10-20x slower in measurements.
        with warnings.catch_warnings(), one_thread():
            warnings.simplefilter("ignore")  # convergence/deprecation chatter from learners and libraries
            _loop(config, settings, _resolve_cache(cache), result, on_cycle, forests)
    except TimeoutError:
        raise
    except CycleLimitExceeded as exc:  # the cycles finished within the limit are kept
        result.status = "timeout"
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a failing strategy/learner must not stop the shard
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}"
    result.cycles_done = max(len(result.curve) - 1, 0)
    result.summary = summarize(result.curve)
    result.manifest = run_manifest(config, forest_code(forests))
    result.wall_s = time.perf_counter() - wall0
    result.cpu_s = time.process_time() - cpu0
    return result


def _loop(
    config: dict[str, Any],
    settings: dict[str, Any],
    cache: ModelCache | None,
    result: ExperimentResult,
    on_cycle: Callable[[ExperimentResult], None] | None,
    forests: set[bool],
) -> None:
    from algrid.datasets import PREPROCESSING_VERSION, load_dataset
    from algrid.strategies import get_strategy

    dataset, split, learner = str(config["dataset"]), int(config["split"]), str(config["learner"])
    batch_size, seed = int(config["batch_size"]), int(config["seed"])
    test_size = float(settings["test_size"])
    cycle_limit = float(settings.get("cycle_limit_s") or 0.0)  # 0 = no limit
    preprocessing = settings.get("preprocessing") or PREPROCESSING_VERSION
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    spec: StrategySpec = get_strategy(str(config["strategy"]), str(config["implementation"]))
    if not spec.available or spec.select is None:
        raise RuntimeError(
            f"strategy {spec.name}@{spec.implementation} is unavailable: {spec.unavailable_reason}"
        )
    ds = load_dataset(dataset)
    X, y = ds.X, ds.y
    classes = np.arange(ds.info.classes, dtype=np.int64)
    if spec.binary_only and len(classes) != 2:
        raise ValueError(
            f"strategy {spec.name}@{spec.implementation} is binary-only; {dataset} has {len(classes)} classes"
        )

    train_ids, test_ids = train_test_ids(dataset, split, test_size)
    ordered_train = pool_order(dataset, split, test_size, seed)

    def fitter(name: str) -> _State:
        """Fits of learner ``name`` on this experiment's labelled sets (seeded and cached per learner kind)."""
        name_seed = learner_seed_of(dataset, split, name, seed)
        return _State(
            X=X,
            y=y,
            classes=classes,
            test_ids=test_ids,
            learner=name,
            learner_seed=name_seed,
            key_prefix=(dataset, split, test_size, preprocessing, name, seed, name_seed),
            cache=cache,
            forests=forests,
            calls=trusted_calls(name, dataset),
        )

    state = fitter(learner)
    setting = strategy_setting(config, test_size, preprocessing)
    # query_learner (Lu et al. 2023): the strategy scores the pool with a model of another kind, fitted on the
    # same labelled rows with the seed that kind gets as a task learner; the curve is always the task learner's.
    query_learner = str(config.get("query_learner") or learner)
    qstate = state if query_learner == learner else fitter(query_learner)

    def make_learner(s: int) -> Any:
        return make_al_learner(query_learner, s, classes)

    # cycle 0: the start set
    t0 = time.perf_counter()
    start_ids = start_set(
        canonical_json(["start", dataset, split, test_size, config["initial_pool"], config["start"]])
    )
    query_s = time.perf_counter() - t0
    is_labeled = np.zeros(len(y), dtype=bool)
    is_labeled[start_ids] = True
    labeled_ids = start_ids
    pool_ids = ordered_train[~is_labeled[ordered_train]]
    to_label = labels_to_add(settings, batch_size, len(start_ids), len(pool_ids))
    n_cycles = -(-to_label // batch_size)
    # The pool's rows, kept in pool order and shrunk with the pool: compressing last cycle's (warm, contiguous)
    # copy is cheaper than gathering scattered rows of X after every fit. Read-only, so that no strategy can
    # change what later cycles see.
    X_pool = _read_only(np.take(X, pool_ids, axis=0))
    # the pool the next query scores, given to the fit (one prediction pass where the learner can; fit_eval)
    scored_pool = X_pool if spec.needs_proba and qstate is state and n_cycles else None
    t0 = time.perf_counter()
    entry = state.fit_eval(labeled_ids, pool=scored_pool)
    result.curve.append(_cycle_row(len(labeled_ids), entry.metrics, time.perf_counter() - t0, query_s))
    result.selected.append(start_ids.tolist())
    result.cycles_done = 0
    if on_cycle is not None:
        on_cycle(result)

    # every cycle's strategy streams, shared by the setting's strategies; only as many cycles as the pool feeds
    streams = cycle_streams(canonical_json(["strategy", *setting]), n_cycles)
    for cycle in range(1, n_cycles + 1):
        want = min(
            batch_size, to_label - (len(labeled_ids) - len(start_ids))
        )  # the budget cuts the last batch
        t0 = time.perf_counter()
        qentry = entry if qstate is state else qstate.fit_eval(labeled_ids)  # the query model: query_s
        proba = qstate.proba(qentry, X_pool) if spec.needs_proba else None
        strat_seed, rng_stream = streams[cycle - 1]
        ctx = _CycleContext(
            model=qentry.model,
            X_pool=X_pool,
            X_labeled=state.rows(labeled_ids),
            y_labeled=y[labeled_ids],
            classes=classes,
            batch_size=want,
            rng=rng_stream,  # type: ignore[arg-type]  # the Generator is built on first use
            seed=strat_seed,
            make_learner=make_learner,
            proba_pool=proba,
        )
        if spec.uses_oracle:
            ctx.oracle_labels = y[pool_ids]
            ctx.evaluate = _oracle_evaluate(state, labeled_ids, pool_ids)
        np.random.seed(strat_seed)  # modAL / small-text read the global NumPy RNG
        positions = _check_selection(spec.select(ctx), len(pool_ids), want)
        query_s = time.perf_counter() - t0
        # the pool holds only unlabelled train rows and the positions are distinct and in range (checked): the
        # oracle is never asked for a labelled or a test row
        new_ids = pool_ids[positions]
        is_labeled[new_ids] = True
        keep = np.ones(len(pool_ids), dtype=bool)  # the pool keeps its order minus what was labelled
        keep[positions] = False  # (a mask, not np.delete: its Python-level checks cost more than the copy)
        pool_ids = pool_ids[keep]
        X_pool = _read_only(X_pool[keep])
        labeled_ids = np.flatnonzero(is_labeled).astype(np.int64, copy=False)
        t0 = time.perf_counter()
        entry = state.fit_eval(
            labeled_ids, pool=X_pool if scored_pool is not None and cycle < n_cycles else None
        )
        fit_s = time.perf_counter() - t0
        if cycle_limit and query_s + fit_s > cycle_limit:
            raise CycleLimitExceeded(cycle, query_s + fit_s, cycle_limit)
        result.curve.append(_cycle_row(len(labeled_ids), entry.metrics, fit_s, query_s))
        result.selected.append(new_ids.tolist())
        result.cycles_done = cycle
        if on_cycle is not None:
            on_cycle(result)


def _oracle_evaluate(
    state: _State, labeled_ids: np.ndarray, pool_ids: np.ndarray
) -> Callable[[np.ndarray], float]:
    """ctx.evaluate for oracle baselines: test accuracy after labelling ``positions`` of the pool.

    The candidates' fits are kept for this cycle only; the winner's is reused by the next cycle's fit.
    """
    state.pending.clear()

    def evaluate(positions: np.ndarray) -> float:
        ids = np.union1d(labeled_ids, pool_ids[np.asarray(positions, dtype=np.int64)])
        entry = state.fit_eval(ids, candidate=True)
        return entry.metrics["accuracy"]

    return evaluate
