"""Native strategies: selection invariants, deterministic ties, equivalences, and that they help over random."""

from __future__ import annotations

import numpy as np
import pytest

from algrid.datasets import load_dataset
from algrid.engine.cache import ModelCache
from algrid.engine.loop import initial_pool, run_experiment, train_test_ids
from algrid.learners import make_al_learner
from algrid.strategies import all_strategies
from algrid.strategies import native as nat
from algrid.strategies.base import QueryContext

NATIVE = [s for s in all_strategies() if s.implementation == "native"]


@pytest.fixture(autouse=True)
def _one_thread():
    """Strategies are called directly here, outside run_experiment's single-thread BLAS limit."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def make_ctx(dataset="wine", learner="lr", batch=5, per_class=2, seed=0, oracle=False) -> QueryContext:
    """A real query context: a model fitted on a per-class start set of the train split, pool = the rest."""
    ds = load_dataset(dataset)
    classes = np.arange(ds.info.classes)
    train, test = train_test_ids(dataset, 0, 0.4)
    lab = initial_pool(ds.X, ds.y, train, f"per_class:{per_class}", np.random.default_rng(seed), seed)
    pool = np.setdiff1d(train, lab)
    model = make_al_learner(learner, 0, classes).fit(ds.X[lab], ds.y[lab])
    ctx = QueryContext(
        model=model,
        X_pool=ds.X[pool],
        X_labeled=ds.X[lab],
        y_labeled=ds.y[lab],
        classes=classes,
        batch_size=min(batch, len(pool)),
        rng=np.random.default_rng(seed),
        seed=seed,
        make_learner=lambda s: make_al_learner(learner, s, classes),
        proba_pool=model.predict_proba(ds.X[pool]),
    )
    if oracle:
        ctx.oracle_labels = ds.y[pool]

        def evaluate(pos):
            ids = np.union1d(lab, pool[pos])
            m = make_al_learner(learner, 0, classes).fit(ds.X[ids], ds.y[ids])
            return float((m.predict(ds.X[test]) == ds.y[test]).mean())

        ctx.evaluate = evaluate
    return ctx


def _fresh(ctx: QueryContext, seed: int = 0) -> QueryContext:
    return QueryContext(**{**ctx.__dict__, "rng": np.random.default_rng(seed)})


@pytest.mark.parametrize("spec", NATIVE, ids=lambda s: s.name)
@pytest.mark.parametrize("batch", [1, 7])
def test_native_selection_invariants_and_determinism(spec, batch):
    ctx = make_ctx(batch=batch, oracle=spec.uses_oracle)
    first = np.asarray(spec.select(_fresh(ctx)))
    assert first.ndim == 1 and np.issubdtype(first.dtype, np.integer)
    assert len(first) == batch
    assert len(np.unique(first)) == batch
    assert first.min() >= 0 and first.max() < len(ctx.X_pool)
    again = np.asarray(spec.select(_fresh(ctx)))
    assert np.array_equal(first, again), "same context and rng must give the same batch"


@pytest.mark.parametrize("spec", NATIVE, ids=lambda s: s.name)
def test_native_batch_as_large_as_pool(spec):
    ctx = make_ctx(dataset="iris", per_class=28, oracle=spec.uses_oracle)  # 90 train rows -> pool of 6
    ctx.batch_size = len(ctx.X_pool)
    got = np.asarray(spec.select(ctx))
    assert sorted(got.tolist()) == list(range(len(ctx.X_pool)))


@pytest.mark.parametrize(
    "dataset,learner", [("breast_cancer", "rf"), ("breast_cancer", "lr"), ("sonar", "rf")]
)
@pytest.mark.parametrize("batch", [1, 10])
def test_binary_uncertainty_strategies_agree(dataset, learner, batch):
    """On a binary problem least confidence, margin and entropy rank by the same quantity: same batch."""
    ctx = make_ctx(dataset=dataset, learner=learner, batch=batch, per_class=3)
    lc, mg, en = nat.least_confidence(ctx), nat.margin(ctx), nat.entropy(ctx)
    assert lc.tolist() == mg.tolist() == en.tolist()


def test_multiclass_uncertainty_strategies_differ_somewhere():
    ctx = make_ctx(dataset="digits", learner="lr", batch=20, per_class=2)
    picks = {tuple(nat.least_confidence(ctx)), tuple(nat.margin(ctx)), tuple(nat.entropy(ctx))}
    assert len(picks) > 1


def test_top_k_breaks_ties_by_position_and_ignores_float_noise():
    scores = np.array([0.5, 0.9, 0.5, 0.9 + 1e-15, 0.1, 0.5])
    assert nat.top_k(scores, 4).tolist() == [1, 3, 0, 2]
    assert nat.top_k(np.zeros(5), 3).tolist() == [0, 1, 2]


def test_margin_prefers_the_smallest_gap():
    ctx = make_ctx()
    ctx.proba_pool = np.zeros((len(ctx.X_pool), 3))
    ctx.proba_pool[:, 0] = 1.0
    ctx.proba_pool[7] = [0.4, 0.35, 0.25]
    ctx.proba_pool[3] = [0.5, 0.3, 0.2]
    ctx.batch_size = 2
    assert nat.margin(ctx).tolist() == [7, 3]


def test_coreset_first_pick_is_farthest_from_labelled():
    ctx = make_ctx(batch=3)
    dists = np.sqrt(((ctx.X_pool[:, None, :] - ctx.X_labeled[None, :, :]) ** 2).sum(-1)).min(axis=1)
    got = nat.coreset(ctx)
    assert got[0] == int(np.argmax(dists))
    # the second pick is farthest from labelled + first pick
    d2 = np.minimum(dists, np.sqrt(((ctx.X_pool - ctx.X_pool[got[0]]) ** 2).sum(-1)))
    assert got[1] == int(np.argmax(d2))


def test_density_weighted_uses_mean_cosine_similarity():
    from sklearn.metrics.pairwise import cosine_similarity

    ctx = make_ctx(batch=6)
    density = ((1 + cosine_similarity(ctx.X_pool)) / 2).mean(axis=1)
    p = ctx.proba_pool
    entropy = -(p * np.log(np.where(p > 0, p, 1))).sum(axis=1)
    expected = nat.top_k(entropy * density, 6)
    assert nat.density_weighted(ctx).tolist() == expected.tolist()


def test_expected_error_reduction_fits_only_the_documented_subsample():
    ctx = make_ctx(dataset="iris", batch=2)
    fits = []
    real = ctx.make_learner

    def counting(seed):
        fits.append(seed)
        return real(seed)

    ctx.make_learner = counting
    got = nat.expected_error_reduction(ctx)
    assert len(got) == 2
    assert len(fits) <= nat.EER_CANDIDATES * 3


def test_oracle_greedy_k_picks_best_candidate():
    ctx = make_ctx(batch=3, oracle=True)
    scores = []
    real = ctx.evaluate
    ctx.evaluate = lambda pos: scores.append((real(pos), tuple(pos))) or scores[-1][0]
    got = nat.oracle_greedy_k(ctx)
    assert len(scores) == nat.ORACLE_K
    best = max(s for s, _ in scores)
    assert tuple(got) == next(p for s, p in scores if s == best)


def _mean_summary(strategy, datasets, *, learner, batch, cycles, starts, key="accuracy_mean"):
    cache = ModelCache(256)
    out = {}
    for ds in datasets:
        vals = []
        for start in starts:
            config = dict(
                dataset=ds,
                strategy=strategy,
                implementation="native",
                batch_size=batch,
                initial_pool="per_class:1",
                learner=learner,
                split=0,
                start=start,
                seed=0,
            )
            res = run_experiment(config, {"cycles": cycles, "test_size": 0.4}, cache=cache)
            assert res.status == "ok", res.error
            vals.append(res.summary[key])
        out[ds] = float(np.mean(vals))
    return out


def test_oracle_greedy_k_beats_random_on_average():
    datasets, kw = ["iris", "wine", "breast_cancer"], dict(learner="lr", batch=3, cycles=4, starts=[0, 1])
    oracle = _mean_summary("oracle_greedy_k", datasets, **kw)
    rnd = _mean_summary("random", datasets, **kw)
    assert np.mean(list(oracle.values())) > np.mean(list(rnd.values()))
    assert sum(oracle[d] >= rnd[d] for d in datasets) >= 2


def test_margin_beats_random_on_most_datasets_with_rf():
    """Cheap version of benchmarks/engine_quality.py (3 start sets, 30 cycles, 12 datasets: table in docs/engine.md).

    One start set, 15 cycles of batch 5 with a 100-tree random forest on six shipped datasets.
    """
    datasets = ["wine", "breast_cancer", "sonar", "vehicle", "segment", "digits"]
    kw = dict(learner="rf", batch=5, cycles=15, starts=[0])
    margin = _mean_summary("margin", datasets, **kw)
    rnd = _mean_summary("random", datasets, **kw)
    wins = [d for d in datasets if margin[d] > rnd[d]]
    assert len(wins) >= 4, (margin, rnd)
