"""Library adapters (modAL, small-text, scikit-activeml): every strategy runs the library's code on a small pool and
returns a valid, deterministic batch; library errors surface instead of turning into silent random picks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from algrid.learners import make_al_learner
from algrid.strategies import QueryContext, all_strategies, get_strategy

ADAPTERS = ("modal", "smalltext", "skactiveml", "alipy")
LIBRARIES = {
    "modal": "modAL-python",
    "smalltext": "small-text",
    "skactiveml": "scikit-activeml",
    "alipy": "alipy",
}


def _adapter_specs(available: bool = True):
    return [s for s in all_strategies() if s.implementation in ADAPTERS and s.available == available]


def _problem(binary: bool, n_pool: int = 40, per_class: int = 3, seed: int = 0):
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.preprocessing import StandardScaler

    X, y = (load_breast_cancer if binary else load_wine)(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(seed)
    lab = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    rest = np.setdiff1d(np.arange(len(y)), lab)
    pool = np.sort(rng.choice(rest, n_pool, replace=False))
    return X, y, lab, pool


def _context(binary: bool, learner: str = "gnb", batch_size: int = 4, seed: int = 7, n_pool: int = 40):
    X, y, lab, pool = _problem(binary, n_pool=n_pool)
    classes = np.unique(y)
    model = make_al_learner(learner, 0, classes).fit(X[lab], y[lab])
    model._frozen = True  # like the loop's shared, cached models: adapters must never refit it

    def ctx() -> QueryContext:
        return QueryContext(
            model=model,
            X_pool=X[pool],
            X_labeled=X[lab],
            y_labeled=y[lab],
            classes=classes,
            batch_size=batch_size,
            rng=np.random.default_rng(seed),
            seed=seed,
            make_learner=lambda s: make_al_learner(learner, s, classes),
            proba_pool=model.predict_proba(X[pool]),
        )

    return ctx


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _select(spec, ctx: QueryContext) -> np.ndarray:
    np.random.seed(ctx.seed)  # the loop seeds the global RNG right before every select
    return spec.select(ctx)


@pytest.mark.parametrize("spec", _adapter_specs(), ids=lambda s: f"{s.name}@{s.implementation}")
def test_adapter_strategy_returns_valid_deterministic_batch(spec):
    make_ctx = _context(binary=spec.binary_only)
    ctx = make_ctx()
    picked = _select(spec, ctx)
    assert picked.dtype == np.int64
    assert len(picked) == ctx.batch_size
    assert len(np.unique(picked)) == len(picked)
    assert picked.min() >= 0 and picked.max() < len(ctx.X_pool)
    again = _select(spec, make_ctx())
    assert np.array_equal(picked, again), "same experiment seed must give the same batch"


def test_batch_larger_than_pool_takes_every_position():
    spec = get_strategy("margin", "smalltext")
    ctx = _context(binary=False, batch_size=50, n_pool=12)()
    assert np.array_equal(np.sort(_select(spec, ctx)), np.arange(12))


def test_randomised_strategy_depends_on_seed():
    spec = get_strategy("random", "skactiveml")
    a = _select(spec, _context(binary=False, seed=1)())
    b = _select(spec, _context(binary=False, seed=2)())
    assert not np.array_equal(a, b)


def test_registry_metadata():
    specs = [s for s in all_strategies() if s.implementation in ADAPTERS]
    for spec in specs:
        assert spec.library == LIBRARIES[spec.implementation]
        assert spec.batch_mode in {"native", "top-k"}
        if spec.available:
            assert callable(spec.select)
        else:
            assert spec.select is None and spec.unavailable_reason
    names = {(s.name, s.implementation) for s in specs if s.available}
    for impl in ADAPTERS:  # the shared vocabulary lines up across libraries
        for name in ("least_confidence", "margin", "entropy"):
            assert (name, impl) in names
    for name in ("qbc_vote_entropy", "coreset", "discriminative", "contrastive", "random"):
        assert sum(n == name for n, _ in names) >= 2, f"{name} should line up across >= 2 libraries"
    eer = get_strategy("expected_error_reduction", "modal")
    assert not eer.available and "numpy 2" in eer.unavailable_reason
    assert not get_strategy("epistemic_uncertainty", "skactiveml").available


def test_adapter_modules_import_their_library_lazily():
    code = (
        "import sys, algrid.strategies.modal, algrid.strategies.smalltext, algrid.strategies.skactiveml\n"
        "import algrid.strategies.alipy\n"
        "print(sorted(m for m in ('modAL', 'small_text', 'skactiveml', 'alipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_library_error_propagates_with_library_message():
    # small-text's contrastive AL asks scikit-learn for 10 neighbours; 3 pool + 6 labelled rows have only 9.
    spec = get_strategy("contrastive", "smalltext")
    with pytest.raises(ValueError, match="n_neighbors"):
        _select(spec, _context(binary=True, batch_size=2, n_pool=3)())


def test_strategies_json_lists_adapter_pairs_with_versions():
    from importlib import metadata

    from algrid.cli import main

    result = CliRunner().invoke(main, ["strategies", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by_pair = {(r["strategy"], r["implementation"]): r for r in rows}
    row = by_pair[("margin", "modal")]
    assert row["library_version"] == metadata.version("modAL-python")
    assert by_pair[("margin", "skactiveml")]["library_version"] == metadata.version("scikit-activeml")
    eer = by_pair[("expected_error_reduction", "modal")]
    assert eer["available"] is False


def test_experiment_with_failing_library_query_is_recorded_as_failed(monkeypatch):
    from algrid.engine.loop import run_experiment

    def bad_method(ctx, k):  # the library itself rejects the call; its message must reach the runs table
        from skactiveml.pool import UncertaintySampling

        from algrid.strategies.skactiveml import _data, _wrap

        X, y = _data(ctx)
        strategy = UncertaintySampling(method="no_such_method")
        return strategy.query(X, y, clf=_wrap(ctx.model, ctx), fit_clf=False, batch_size=k)

    monkeypatch.setattr(get_strategy("margin", "skactiveml").select, "fn", bad_method)
    config = dict(
        dataset="iris",
        strategy="margin",
        implementation="skactiveml",
        batch_size=5,
        initial_pool="per_class:1",
        learner="gnb",
        split=0,
        start=0,
        seed=0,
    )
    settings = {"name": "t", "cycles": 2, "test_size": 0.4, "timeout_s": 60.0, "memory_mb": None}
    result = run_experiment(config, settings, cache=False)
    assert result.status == "failed"
    assert result.error.startswith("ValueError") and "no_such_method" in result.error


def test_experiment_with_adapter_is_deterministic():
    from algrid.engine.loop import run_experiment

    config = dict(
        dataset="iris",
        strategy="ranked_batch",
        implementation="modal",
        batch_size=3,
        initial_pool="per_class:1",
        learner="gnb",
        split=0,
        start=0,
        seed=0,
    )
    settings = {"name": "t", "cycles": 3, "test_size": 0.4, "timeout_s": 60.0, "memory_mb": None}
    a = run_experiment(config, settings, cache=False)
    b = run_experiment(config, settings, cache=False)
    assert a.status == "ok", a.error
    assert a.cycles_done == 3
    assert a.selected == b.selected
    assert all(len(s) == 3 for s in a.selected[1:])


def test_modal_scores_the_loops_pool_probabilities():
    """modAL gets ctx.proba_pool for the pool instead of a second predict_proba (the loop computes it once)."""
    ctx = _context(binary=False)()
    proba = np.full((len(ctx.X_pool), 3), [0.98, 0.01, 0.01])
    proba[[5, 17, 23, 31]] = [0.34, 0.33, 0.33]  # the only uncertain rows
    ctx.proba_pool = proba
    picked = _select(get_strategy("least_confidence", "modal"), ctx)
    assert sorted(picked.tolist()) == [5, 17, 23, 31]
