"""ALiPy (distribution ``alipy``) query strategies, called on the loop's fitted estimator.

The published study drew seven of its strategies from ALiPy 1.2.5 (random, least confidence, margin, entropy, graph
density, greedy coreset, density weighted) plus QBC, expected error reduction and the binary-only BMDR, SPAL and
LAL. Every strategy here runs ALiPy's own ``QueryInstance*.select(label_index, unlabel_index, ...)``:

- ALiPy indexes one data matrix: ``X`` is the pool followed by the labelled rows, so ``unlabel_index = 0..n_pool-1``
  are exactly our pool positions and ``label_index`` the rows after them. ALiPy also wants a label for every row
  (several strategies call ``np.unique(y)`` or check the class count on it): pool rows carry the dataset's class
  codes in turn (``0, 1, .., k-1, 0, ..``), never their true labels; no strategy reads a pool row's label.
- ``model`` is the loop's fitted model behind a plain scikit-learn face (``library_view``): ALiPy never refits it;
  QBC and EER fit clones of it (fresh learners of the experiment's kind), which is what they do with any model.
- ALiPy draws from the global NumPy RNG (random sampling, QBC's bagging): :func:`_seeded` seeds it from ``ctx.seed``
  right before every call, whatever ran before in the process.

Per strategy (``batch_mode``):

- ``least_confidence`` / ``margin`` / ``entropy`` — ``QueryInstanceUncertainty`` (measure ``least_confident`` /
  ``margin`` / ``entropy``) scoring the loop's ``ctx.proba_pool`` (``select_by_prediction_mat``): top-k by
  ``np.argsort`` (ALiPy's ``nlargestarg``; ties are not broken by position, and entropy adds 1e-9 inside the log).
- ``random`` — ``QueryInstanceRandom`` (global NumPy RNG).
- ``graph_density`` — ``QueryInstanceGraphDensity`` (10-NN graph, manhattan, Ebert et al. 2012) on the whole train
  split (pool + labelled, the same rows every cycle): native batch. ALiPy keeps the density reductions of earlier
  picks in the object across calls; the loop builds the object per query, so only this cycle's picks reduce it
  (labelled rows are excluded either way).
- ``coreset`` — ``QueryInstanceCoresetGreedy`` (greedy k-center, euclidean): native batch.
- ``density_weighted`` — ``QueryInstanceDensityWeighted`` (entropy x mean euclidean distance to the pool): top-k.
- ``qbc_vote_entropy`` — ``QueryInstanceQBC`` (query by bagging with scikit-learn's ``BaggingClassifier``, 10
  members, vote entropy): top-k. The committee is ALiPy's own bagging, not algrid's shared committee.
- ``expected_error_reduction`` — ``QueryExpectedErrorReduction`` (log loss) on ``max(EER_CANDIDATES, k)``
  candidates drawn from ``ctx.rng``; the expected loss is measured on the other candidates (ALiPy refits a clone
  per (candidate, class) and predicts every other unlabelled row: on a full pool that is hours per cycle).
- ``quire`` — ``QueryInstanceQUIRE`` (RBF kernel) on the labelled rows plus ``max(QUIRE_CANDIDATES, k)`` pool
  candidates (its kernel inverse is cubic in the rows). ALiPy's QUIRE returns one row per call; a batch is k calls,
  each without the rows already picked.
- ``bmdr`` / ``spal`` — ``QueryInstanceBMDR`` / ``QueryInstanceSPAL`` (quadratic programs solved by cvxpy with
  ECOS, from the ``algrid[alipy]`` extra) on ``max(QP_CANDIDATES, k)`` candidates: native batch, binary only.
- ``lal`` — listed, unavailable: ``QueryInstanceLAL`` must download its regression data from GitHub at run time
  (the package ships none), and algrid never downloads at run time; binary only.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

import numpy as np

from algrid.strategies._adapter_common import Adapter, library_view
from algrid.strategies.base import QueryContext, StrategySpec

LIBRARY = "alipy"
#: Candidates scored per query by expected error reduction (each costs one refit per class).
EER_CANDIDATES = 10
#: Pool candidates QUIRE sees per query (it inverts a kernel matrix over them plus the labelled rows).
QUIRE_CANDIDATES = 300
#: Pool candidates BMDR and SPAL see per query (one variable each in their quadratic programs).
QP_CANDIDATES = 200


@lru_cache(maxsize=1)
def _query_labels() -> Any:
    """ALiPy's query-strategy module, imported on first use with its one compatibility step.

    ALiPy 1.2.5 checks arguments with ``isinstance(x, collections.Iterable)``, an alias Python 3.10 removed (it
    lives in ``collections.abc``); the check runs at call time, so the import succeeds and every ``select`` fails.
    Why an alias and not a patched copy of ALiPy: the alias is exactly the object ALiPy was written against, is set
    only when missing (Python < 3.10 keeps its own), and adds a name nobody else reads, so the other
    implementations behave as before. It happens here, lazily, so processes that never run an ALiPy strategy
    never see it.
    """
    import collections
    import collections.abc

    if not hasattr(collections, "Iterable"):
        collections.Iterable = collections.abc.Iterable  # type: ignore[attr-defined]
    import alipy.query_strategy.query_labels as query_labels

    return query_labels


def _seeded(ctx: QueryContext) -> None:
    """ALiPy reads the global NumPy RNG: seed it from the experiment's cycle seed right before the call."""
    np.random.seed(int(ctx.seed) % (2**32))


def _data(ctx: QueryContext, pool: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, label_index) for ALiPy: the pool rows (or the ``pool`` positions of them) then the labelled rows."""
    X_pool = ctx.X_pool if pool is None else ctx.X_pool[pool]
    n_pool, n_lab = len(X_pool), len(ctx.X_labeled)
    X = np.vstack([X_pool, ctx.X_labeled])
    placeholder = np.resize(np.asarray(ctx.classes, dtype=np.int64), n_pool)  # never the true labels
    y = np.concatenate([placeholder, np.asarray(ctx.y_labeled, dtype=np.int64)])
    return X, y, np.arange(n_pool, n_pool + n_lab)


def _model(ctx: QueryContext) -> Any:
    """The fitted model, answering predictions of the pool with the loop's probabilities; fits clone it."""
    return library_view(ctx.model, fitted_on=ctx.X_pool, pool=ctx)


@lru_cache(maxsize=1)
def _unweighted_view_class() -> type:
    """The library view without a ``sample_weight`` argument to ``fit``.

    scikit-learn's ``BaggingClassifier`` (ALiPy's QBC committee) draws its bootstrap as sample weights when the
    estimator's ``fit`` takes them, and as row indices otherwise; the loop's learners take no weights (the
    all-classes wrapper), so the committee must see a ``fit(X, y)`` to bootstrap rows.
    """
    base: Any = type(library_view(None))  # a class known only at run time: mypy cannot check subclassing it

    class UnweightedView(base):
        def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
            return super().fit(X, y)

    return UnweightedView


def _candidates(ctx: QueryContext, size: int) -> np.ndarray:
    """Sorted pool positions of a random subsample (all of the pool when it is small), drawn from ``ctx.rng``."""
    n_pool = len(ctx.X_pool)
    if n_pool <= size:
        return np.arange(n_pool)
    return np.sort(ctx.rng.choice(n_pool, size=size, replace=False))


def _uncertainty(measure: str) -> Any:
    def fn(ctx: QueryContext, k: int) -> np.ndarray:
        ql = _query_labels()
        strategy = ql.QueryInstanceUncertainty(measure=measure)
        proba = np.array(ctx.proba_pool, dtype=np.float64)  # ALiPy writes into it (entropy clips zeros)
        _seeded(ctx)
        return strategy.select_by_prediction_mat(np.arange(len(ctx.X_pool)), proba, batch_size=k)

    return fn


def _random(ctx: QueryContext, k: int) -> np.ndarray:
    from alipy.index import IndexCollection

    ql = _query_labels()
    _seeded(ctx)
    return ql.QueryInstanceRandom().select(None, IndexCollection(list(range(len(ctx.X_pool)))), batch_size=k)


def _graph_density(ctx: QueryContext, k: int) -> np.ndarray:
    ql = _query_labels()
    X, y, lab = _data(ctx)
    strategy = ql.QueryInstanceGraphDensity(X, y, train_idx=np.arange(len(X)))
    _seeded(ctx)
    return strategy.select(lab, np.arange(len(ctx.X_pool)), batch_size=k)


def _coreset(ctx: QueryContext, k: int) -> np.ndarray:
    ql = _query_labels()
    X, y, lab = _data(ctx)
    strategy = ql.QueryInstanceCoresetGreedy(X, y, train_idx=np.arange(len(X)))
    _seeded(ctx)
    return strategy.select(lab, np.arange(len(ctx.X_pool)), batch_size=k)


def _density_weighted(ctx: QueryContext, k: int) -> np.ndarray:
    ql = _query_labels()
    X, y, lab = _data(ctx)
    strategy = ql.QueryInstanceDensityWeighted(X, y, uncertainty_meansure="entropy", distance="euclidean")
    proba = np.array(ctx.proba_pool, dtype=np.float64)
    _seeded(ctx)
    return strategy.select(lab, np.arange(len(ctx.X_pool)), batch_size=k, proba_prediction=proba)


def _qbc(ctx: QueryContext, k: int) -> np.ndarray:
    ql = _query_labels()
    X, y, lab = _data(ctx)
    strategy = ql.QueryInstanceQBC(X, y, method="query_by_bagging", disagreement="vote_entropy")
    from sklearn.base import clone

    committee_template = _unweighted_view_class()(clone(ctx.model))
    _seeded(ctx)
    return strategy.select(lab, np.arange(len(ctx.X_pool)), model=committee_template, batch_size=k)


def _eer(ctx: QueryContext, k: int) -> np.ndarray:
    ql = _query_labels()
    cand = _candidates(ctx, max(EER_CANDIDATES, k))
    X, y, lab = _data(ctx, cand)
    strategy = ql.QueryExpectedErrorReduction(X, y)
    _seeded(ctx)
    picked = strategy.select(lab, np.arange(len(cand)), model=_model(ctx), batch_size=k)
    return cand[np.asarray(picked, dtype=np.int64)]


def _quire(ctx: QueryContext, k: int) -> np.ndarray:
    ql = _query_labels()
    cand = _candidates(ctx, max(QUIRE_CANDIDATES, k))
    X, y, lab = _data(ctx, cand)
    strategy = ql.QueryInstanceQUIRE(X, y, train_idx=np.arange(len(X)))
    left = list(range(len(cand)))
    picks: list[int] = []
    for _ in range(k):
        _seeded(ctx)
        one = int(np.asarray(strategy.select(lab, left)).reshape(-1)[0])
        picks.append(one)
        left.remove(one)
    return cand[np.asarray(picks, dtype=np.int64)]


def _qp(kind: str) -> Any:
    def fn(ctx: QueryContext, k: int) -> np.ndarray:
        ql = _query_labels()
        cand = _candidates(ctx, max(QP_CANDIDATES, k))
        X, y, lab = _data(ctx, cand)
        cls = ql.QueryInstanceBMDR if kind == "bmdr" else ql.QueryInstanceSPAL
        strategy = cls(X, y, kernel="rbf")
        _seeded(ctx)
        picked = strategy.select(lab, np.arange(len(cand)), batch_size=k, qp_solver="ECOS")
        return cand[np.asarray(picked, dtype=np.int64)]

    return fn


_MODEL_FREE = {"random", "graph_density", "coreset", "quire", "bmdr", "spal"}
#: Deterministic given the model and pool (they read no random stream): no seeding version in their exp_key.
_SEED_FREE = {"least_confidence", "margin", "entropy", "density_weighted", "coreset", "graph_density"}


def _spec(
    name: str, fn: Any, batch_mode: str, description: str, *, binary_only: bool = False
) -> StrategySpec:
    return StrategySpec(
        name=name,
        implementation="alipy",
        select=Adapter(f"alipy.{name}", fn),
        batch_mode=batch_mode,
        binary_only=binary_only,
        needs_proba=name not in _MODEL_FREE,
        description=description,
        library=LIBRARY,
        uses_rng=name not in _SEED_FREE,
    )


def _needs_cvxpy(name: str, fn: Any, description: str) -> StrategySpec:
    """BMDR and SPAL solve quadratic programs with cvxpy (the ``algrid[alipy]`` extra, ECOS solver)."""
    missing = [m for m in ("cvxpy", "ecos") if importlib.util.find_spec(m) is None]
    if missing:
        return StrategySpec(
            name=name,
            implementation="alipy",
            select=None,
            binary_only=True,
            description=description,
            available=False,
            unavailable_reason=f"needs {' and '.join(missing)}: pip install 'algrid[alipy]'",
            library=LIBRARY,
        )
    return _spec(name, fn, "native", description, binary_only=True)


STRATEGIES: list[StrategySpec] = [
    _spec("random", _random, "native", "ALiPy QueryInstanceRandom"),
    _spec(
        "least_confidence",
        _uncertainty("least_confident"),
        "top-k",
        "ALiPy QueryInstanceUncertainty(least_confident)",
    ),
    _spec("margin", _uncertainty("margin"), "top-k", "ALiPy QueryInstanceUncertainty(margin)"),
    _spec("entropy", _uncertainty("entropy"), "top-k", "ALiPy QueryInstanceUncertainty(entropy)"),
    _spec(
        "graph_density",
        _graph_density,
        "native",
        "ALiPy QueryInstanceGraphDensity (10-NN graph, manhattan)",
    ),
    _spec("coreset", _coreset, "native", "ALiPy QueryInstanceCoresetGreedy (greedy k-center, euclidean)"),
    _spec(
        "density_weighted",
        _density_weighted,
        "top-k",
        "ALiPy QueryInstanceDensityWeighted (entropy x mean distance)",
    ),
    _spec("qbc_vote_entropy", _qbc, "top-k", "ALiPy QueryInstanceQBC (query by bagging, vote entropy)"),
    _spec(
        "expected_error_reduction",
        _eer,
        "top-k",
        f"ALiPy QueryExpectedErrorReduction on {EER_CANDIDATES} sub-sampled candidates",
    ),
    _spec("quire", _quire, "native", f"ALiPy QueryInstanceQUIRE on {QUIRE_CANDIDATES} candidates"),
    _needs_cvxpy("bmdr", _qp("bmdr"), f"ALiPy QueryInstanceBMDR on {QP_CANDIDATES} candidates"),
    _needs_cvxpy("spal", _qp("spal"), f"ALiPy QueryInstanceSPAL on {QP_CANDIDATES} candidates"),
    StrategySpec(
        name="lal",
        implementation="alipy",
        select=None,
        binary_only=True,
        description="ALiPy QueryInstanceLAL (learning active learning)",
        available=False,
        unavailable_reason=(
            "QueryInstanceLAL downloads its regression data from GitHub at run time (the package ships none); "
            "algrid never downloads at run time"
        ),
        library=LIBRARY,
    ),
]
