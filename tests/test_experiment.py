"""The AL loop: invariants, pool exhaustion, determinism across processes and with the cache on/off,
failure capture, CLI output."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import TESTS, deterministic_part, run_cli

from algrid.cli import main
from algrid.datasets import load_dataset
from algrid.engine.cache import ModelCache
from algrid.engine.loop import initial_pool, pool_order, run_experiment, train_test_ids
from algrid.results import CURVE_METRICS, CURVE_TIMINGS, SUMMARIES, SUMMARY_METRICS
from algrid.strategies import get_strategy
from algrid.strategies.base import StrategySpec

SETTINGS = {"cycles": 4, "test_size": 0.4}


def cfg(**kw):
    base = dict(
        dataset="iris",
        strategy="margin",
        implementation="native",
        batch_size=5,
        initial_pool="per_class:1",
        learner="lr",
        split=0,
        start=0,
        seed=0,
    )
    base.update(kw)
    return base


def check_invariants(res, config, settings):
    """Right batch sizes, no duplicates, never a test row, never an already labelled row."""
    train, test = train_test_ids(config["dataset"], config["split"], settings["test_size"])
    assert res.status == "ok", res.error
    assert len(res.curve) == len(res.selected) == res.cycles_done + 1
    seen: set[int] = set()
    train_set, test_set = set(train.tolist()), set(test.tolist())
    for c, batch in enumerate(res.selected):
        assert len(batch) == len(set(batch)), "duplicate inside a batch"
        assert not (set(batch) & seen), "selected an already labelled row"
        assert not (set(batch) & test_set), "selected a test row"
        assert set(batch) <= train_set
        if c > 0:
            assert len(batch) == min(config["batch_size"], len(train) - len(seen))
        seen |= set(batch)
        assert res.curve[c]["n_labeled"] == len(seen)
    for row in res.curve:
        assert set(CURVE_METRICS) <= set(row) and set(CURVE_TIMINGS) <= set(row)
        assert all(0.0 <= row[m] <= 1.0 for m in CURVE_METRICS)
    assert set(res.summary) == {f"{m}_{s}" for m in SUMMARY_METRICS for s in SUMMARIES}


@pytest.mark.parametrize(
    "strategy,dataset,batch",
    [
        ("random", "iris", 5),
        ("margin", "wine", 3),
        ("coreset", "breast_cancer", 4),
        ("typiclust", "wine", 2),
        ("qbc_kl", "iris", 3),
        ("oracle_greedy_k", "iris", 4),
    ],
)
def test_loop_invariants(strategy, dataset, batch):
    config = cfg(strategy=strategy, dataset=dataset, batch_size=batch)
    res = run_experiment(config, SETTINGS, cache=False)
    check_invariants(res, config, SETTINGS)
    assert res.cycles_done == SETTINGS["cycles"]
    assert res.config == config
    ds = load_dataset(dataset)
    start = np.array(res.selected[0])
    assert np.bincount(ds.y[start], minlength=ds.info.classes).tolist() == [1] * ds.info.classes


def test_pool_exhaustion_stops_without_padding():
    # iris: 150 rows, 40 % test -> 90 train rows; start 3, then 87 rows in batches of 20 -> 5 cycles, last has 7
    config = cfg(batch_size=20, strategy="entropy")
    res = run_experiment(config, {"cycles": 10, "test_size": 0.4}, cache=False)
    check_invariants(res, config, {"test_size": 0.4})
    assert res.cycles_done == 5
    assert [len(b) for b in res.selected] == [3, 20, 20, 20, 20, 7]
    assert res.curve[-1]["n_labeled"] == 90
    assert res.summary["accuracy_final"] == res.curve[-1]["accuracy"]


def test_same_experiment_is_identical_across_processes():
    configs = [cfg(strategy="random"), cfg(strategy="qbc_vote_entropy", dataset="wine", batch_size=2)]
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(TESTS)!r})
        from helpers import deterministic_part
        from algrid.engine.loop import run_experiment
        for c in {configs!r}:
            print(deterministic_part(run_experiment(c, {SETTINGS!r}, cache=False)))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    here = [deterministic_part(run_experiment(c, SETTINGS, cache=False)) for c in reversed(configs)][::-1]
    assert out.splitlines() == here


@pytest.mark.parametrize(
    "parts", [[], ["strategy", "iris", "margin", 0, 0.4, np.int64(3), True, "per_class:1"], ["x", 1.5]]
)
def test_cycle_seed_sequences_equal_one_at_a_time_hashing(parts):
    """The loop hashes the per-cycle seed prefix once; every cycle must keep the seed it always had."""
    from algrid.engine.loop import seed_sequence, seed_sequences

    batch = seed_sequences(parts, range(1, 40))
    assert [s.entropy for s in batch] == [seed_sequence(*parts, c).entropy for c in range(1, 40)]


def test_cache_on_and_off_give_identical_results_and_hits():
    strategies = ["margin", "least_confidence", "entropy", "random", "margin"]
    configs = [cfg(strategy=s, dataset="breast_cancer", batch_size=3) for s in strategies]
    off = [deterministic_part(run_experiment(c, SETTINGS, cache=False)) for c in configs]
    cache = ModelCache(64)
    on = [deterministic_part(run_experiment(c, SETTINGS, cache=cache)) for c in configs]
    assert on == off
    # binary: the three uncertainty strategies pick identical batches, so they share every fit; margin twice too
    assert cache.hits >= 3 * (SETTINGS["cycles"] + 1)
    assert cache.stats()["hit_rate"] == pytest.approx(cache.hits / (cache.hits + cache.misses))


def test_model_cache_is_bounded_by_entries_and_bytes():
    from algrid.engine.cache import CacheEntry, approx_nbytes

    cache = ModelCache(max_entries=3, max_mb=1.0)
    for i in range(5):
        cache.put(("k", i), CacheEntry(model={"w": np.zeros(10)}, metrics={}))
    assert len(cache) == 3 and cache.evictions == 2
    assert cache.get(("k", 0)) is None and cache.get(("k", 4)) is not None
    cache.grew(("k", 4), 2**20)  # its pool probabilities pushed the cache over 1 MB: older entries go
    assert len(cache) == 1 and cache.get(("k", 4)) is not None
    assert cache.stats()["mb"] == pytest.approx(1.0, abs=0.01)
    assert cache.stats()["hits"] == 2 and cache.stats()["misses"] == 1
    # a fitted forest's estimate covers its trees
    res_model = run_experiment(cfg(learner="rf"), {"cycles": 0, "test_size": 0.4}, cache=cache)
    assert res_model.status == "ok"
    assert max(e.nbytes for e in cache._data.values()) > 100 * 64  # at least a node per tree
    assert approx_nbytes(np.zeros(1000)) == 8000
    # the loop's wrapper fits its own estimator in place (estimator is estimator_): counted once
    from algrid.learners import make_al_learner

    ds = load_dataset("wine")
    for learner in ("rf", "svm_rbf"):
        wrapper = make_al_learner(learner, 0, np.arange(3)).fit(ds.X[:60], ds.y[:60])
        assert wrapper.estimator is wrapper.estimator_
        inner = approx_nbytes(wrapper.estimator_)
        assert inner < approx_nbytes(wrapper) < inner + 1000


def test_oracle_reuses_winning_candidate_without_flooding_the_cache():
    config = cfg(strategy="oracle_greedy_k", batch_size=2)
    settings = {"cycles": 2, "test_size": 0.4}
    cache = ModelCache(64)
    on = run_experiment(config, settings, cache=cache)
    assert on.status == "ok"
    # counted lookups: one per loop fit (cycle 0 misses; the winners come from the cycle's candidates), never the
    # candidates themselves; only the start fit and the 2 winners are stored
    assert cache.misses == 1 and cache.hits == 0
    assert len(cache) == 3
    assert deterministic_part(on) == deterministic_part(run_experiment(config, settings, cache=False))
    again = run_experiment(config, settings, cache=cache)
    assert deterministic_part(again) == deterministic_part(on)
    # start fit, then each winner as the next cycle's fit (found as a candidate, uncounted); losers are refitted
    assert cache.hits == 1 + 2


def test_start_set_and_cycle_zero_do_not_depend_on_strategy_or_batch():
    a = run_experiment(cfg(strategy="random", batch_size=1), {"cycles": 1, "test_size": 0.4}, cache=False)
    b = run_experiment(cfg(strategy="coreset", batch_size=7), {"cycles": 1, "test_size": 0.4}, cache=False)
    assert a.selected[0] == b.selected[0]
    assert {k: a.curve[0][k] for k in CURVE_METRICS} == {k: b.curve[0][k] for k in CURVE_METRICS}
    c = run_experiment(cfg(strategy="random", start=1), {"cycles": 1, "test_size": 0.4}, cache=False)
    assert c.selected[0] != a.selected[0]


def test_initial_pool_methods():
    ds = load_dataset("wine")
    train, _ = train_test_ids("wine", 0, 0.4)
    rng = np.random.default_rng(0)
    per = initial_pool(ds.X, ds.y, train, "per_class:3", rng, 0)
    assert np.bincount(ds.y[per]).tolist() == [3, 3, 3]
    rnd = initial_pool(ds.X, ds.y, train, "random:10", np.random.default_rng(0), 0)
    km = initial_pool(ds.X, ds.y, train, "kmeans:8", np.random.default_rng(0), 0)
    for ids, n in [(rnd, 10), (km, 8)]:
        assert len(ids) == len(set(ids.tolist())) == n and set(ids.tolist()) <= set(train.tolist())
    assert np.array_equal(km, initial_pool(ds.X, ds.y, train, "kmeans:8", np.random.default_rng(5), 0))
    with pytest.raises(ValueError, match="initial_pool"):
        initial_pool(ds.X, ds.y, train, "stratified:3", rng, 0)


@pytest.mark.parametrize(
    "learner,pool", [("lr", "random:1"), ("knn", "per_class:1"), ("svm_rbf", "random:2")]
)
def test_learners_work_from_tiny_start_sets(learner, pool):
    """One labelled class, or fewer labelled rows than k-NN neighbours, must not crash the loop."""
    res = run_experiment(cfg(learner=learner, initial_pool=pool, strategy="margin"), SETTINGS, cache=False)
    assert res.status == "ok", res.error
    assert res.cycles_done == SETTINGS["cycles"]


def _fake(monkeypatch, select, **kw):
    spec = StrategySpec(name="fake", implementation="native", select=select, needs_proba=False, **kw)
    import algrid.strategies as registry

    real = registry.get_strategy
    monkeypatch.setattr(registry, "get_strategy", lambda n, i: spec if n == "fake" else real(n, i))


@pytest.mark.parametrize(
    "select,message",
    [
        (lambda ctx: np.array([0, 0, 1]), "StrategyError: strategy returned duplicate positions"),
        (
            lambda ctx: np.arange(ctx.batch_size + 1),
            "StrategyError: strategy returned 4 positions, expected 3",
        ),
        (
            lambda ctx: np.array([0, 1, len(ctx.X_pool)]),
            "StrategyError: strategy returned a position outside",
        ),
        (lambda ctx: np.array([0.0, 1.0, 2.0]), "StrategyError: strategy returned float64"),
        (lambda ctx: (_ for _ in ()).throw(ValueError("boom")), "ValueError: boom"),
    ],
)
def test_failing_strategy_returns_failed_status(monkeypatch, select, message):
    _fake(monkeypatch, select)
    seen = []
    res = run_experiment(cfg(strategy="fake", batch_size=3), SETTINGS, cache=False, on_cycle=seen.append)
    assert res.status == "failed"
    assert res.error.startswith(message)
    assert res.cycles_done == 0 and len(res.curve) == 1 and len(seen) == 1
    assert res.summary["accuracy_final"] == res.curve[0]["accuracy"]


def test_failing_learner_returns_failed_status():
    res = run_experiment(cfg(learner="no_such_learner"), SETTINGS, cache=False)
    assert res.status == "failed" and res.error.startswith("KeyError:")


def test_global_numpy_rng_is_seeded_before_select(monkeypatch):
    _fake(monkeypatch, lambda ctx: np.sort(np.random.permutation(len(ctx.X_pool))[: ctx.batch_size]))
    a = run_experiment(cfg(strategy="fake"), SETTINGS, cache=False)
    np.random.seed(12345)
    b = run_experiment(cfg(strategy="fake"), SETTINGS, cache=False)
    assert a.status == "ok" and a.selected == b.selected


def test_proba_pool_is_shared_and_read_only(monkeypatch):
    calls = []

    def select(ctx):
        calls.append(ctx.proba_pool)
        assert ctx.proba_pool.shape == (len(ctx.X_pool), 3)
        assert not ctx.proba_pool.flags.writeable
        np.testing.assert_allclose(ctx.proba_pool, ctx.model.predict_proba(ctx.X_pool))
        return np.arange(ctx.batch_size)

    spec = StrategySpec(name="fake", implementation="native", select=select, needs_proba=True)
    import algrid.strategies as registry

    monkeypatch.setattr(registry, "get_strategy", lambda n, i: spec)
    res = run_experiment(cfg(strategy="fake"), SETTINGS, cache=False)
    assert res.status == "ok" and len(calls) == SETTINGS["cycles"]


def test_pool_rows_are_read_only_and_match_the_pool_ids(monkeypatch):
    """The loop shrinks one pool copy cycle by cycle: a strategy must not be able to change it, and every
    cycle's X_pool must be exactly the dataset rows of the pool in pool order."""
    ds = load_dataset("iris")
    seen = []

    def select(ctx):
        assert not ctx.X_pool.flags.writeable
        with pytest.raises(ValueError):
            ctx.X_pool[0, 0] = 123.0
        seen.append(ctx.X_pool.copy())
        return np.arange(ctx.batch_size)[::-1] * 2  # not a prefix: rows leave from the middle

    spec = StrategySpec(name="fake", implementation="native", select=select, needs_proba=False)
    import algrid.strategies as registry

    monkeypatch.setattr(registry, "get_strategy", lambda n, i: spec)
    res = run_experiment(cfg(strategy="fake", batch_size=3), {"cycles": 5, "test_size": 0.4}, cache=False)
    assert res.status == "ok", res.error
    train, _ = train_test_ids("iris", 0, 0.4)
    labelled = set(res.selected[0])
    order = pool_order("iris", 0, 0.4, 0)
    for cycle, X_pool in enumerate(seen, start=1):
        pool = [i for i in order if i not in labelled]
        np.testing.assert_array_equal(X_pool, ds.X[pool])
        labelled |= set(res.selected[cycle])


def test_pool_order_is_fixed_pseudo_random_not_file_order(monkeypatch):
    """wine's file is sorted by class; a position tie-break must not query one class first."""
    orders = []

    def select(ctx):
        orders.append(ctx.X_pool.copy())
        return np.arange(ctx.batch_size)  # pure position tie-break

    _fake(monkeypatch, select)
    res = run_experiment(cfg(strategy="fake", dataset="wine", batch_size=10), {"cycles": 1, "test_size": 0.4})
    y = load_dataset("wine").y
    assert len(set(y[res.selected[1]].tolist())) == 3
    train, _ = train_test_ids("wine", 0, 0.4)
    assert sorted(pool_order("wine", 0, 0.4, 0).tolist()) == train.tolist()
    assert not np.array_equal(pool_order("wine", 0, 0.4, 0), pool_order("wine", 0, 0.4, 1))
    # the order does not depend on the strategy: another strategy sees the same pool
    _fake(monkeypatch, select)
    run_experiment(cfg(strategy="fake", dataset="wine", batch_size=3), {"cycles": 1, "test_size": 0.4})
    assert np.array_equal(orders[0], orders[1])


def test_on_cycle_sees_partial_results():
    seen = []
    run_experiment(cfg(), SETTINGS, cache=False, on_cycle=lambda r: seen.append(len(r.curve)))
    assert seen == [1, 2, 3, 4, 5]


def test_strategy_must_not_refit_shared_model(monkeypatch):
    def select(ctx):
        ctx.model.fit(ctx.X_labeled, ctx.y_labeled)
        return np.arange(ctx.batch_size)

    _fake(monkeypatch, select)
    res = run_experiment(cfg(strategy="fake"), SETTINGS, cache=False)
    assert res.status == "failed" and "make_learner" in res.error


# ---------------------------------------------------------------------------------------------- CLI


GRID = textwrap.dedent(
    """
    name: enginetest
    cycles: 3
    test_size: 0.4
    timeout_s: 60
    dimensions:
      dataset: [iris, breast_cancer]
      strategy: [margin, random]
      implementation: [native]
      batch_size: [4]
      initial_pool: ['per_class:1']
      learner: [lr]
      split: [0]
      start: [0]
      seed: [0]
    """
)


def test_cli_experiment_json(tmp_path):
    from algrid.grid.lazy import load_grid

    path = tmp_path / "g.yaml"
    path.write_text(GRID)
    grid = load_grid(path)
    out = CliRunner().invoke(main, ["experiment", str(path), "1", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["exp_key"] == grid.exp_key(grid[1])
    assert doc["config"] == grid[1]
    assert doc["status"] == "ok" and doc["cycles_done"] == 3
    assert len(doc["curve"]) == len(doc["selected"]) == 4
    assert set(CURVE_METRICS) | {"n_labeled", "fit_s", "query_s"} <= set(doc["curve"][0])
    assert all(len(b) == 4 for b in doc["selected"][1:])
    direct = run_experiment(grid[1], grid.settings, exp_key=grid.exp_key(grid[1]), cache=False)
    assert doc["selected"] == direct.selected
    assert [r["accuracy"] for r in doc["curve"]] == [r["accuracy"] for r in direct.curve]


def test_cli_experiment_table_and_bad_index(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(GRID)
    out = CliRunner().invoke(main, ["experiment", str(path), "0"])
    assert out.exit_code == 0, out.output
    assert "accuracy" in out.output and "status    ok" in out.output
    bad = run_cli("experiment", path, "99")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "99" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_strategies_json():
    out = CliRunner().invoke(main, ["strategies", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    keys = {"strategy", "implementation", "binary_only", "needs_proba", "available", "reason", "library"}
    keys |= {"library_version", "batch_mode", "description"}
    assert all(keys <= set(r) for r in rows)
    native = {r["strategy"] for r in rows if r["implementation"] == "native"}
    required = {
        "random",
        "least_confidence",
        "margin",
        "entropy",
        "qbc_vote_entropy",
        "qbc_kl",
        "density_weighted",
    }
    required |= {
        "coreset",
        "cluster_margin",
        "kmeans",
        "typiclust",
        "discriminative",
        "expected_error_reduction",
    }
    assert required | {"oracle_greedy_k"} <= native
    assert get_strategy("oracle_greedy_k", "native").uses_oracle
    table = CliRunner().invoke(main, ["strategies"])
    assert table.exit_code == 0 and "oracle_greedy_k" in table.output
