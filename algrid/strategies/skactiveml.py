"""scikit-activeml (distribution ``scikit-activeml``) query strategies, called on the loop's fitted estimator.

Every strategy runs the library's own ``query(X, y, ..., batch_size=k)``:

- ``X`` is the pool followed by the labelled rows, ``y`` is NaN (``MISSING_LABEL``) for the pool and the labels for
  the labelled rows, so the returned indices (< n_pool) are our pool positions.
- ``random_state`` is the experiment's ``ctx.seed`` for the strategy and every wrapper.
- Model-based strategies get ``clf=SklearnClassifier(<our fitted model>, classes=all classes)`` with
  ``fit_clf=False`` (scikit-activeml accepts an already fitted estimator and never refits it).
  The expected-error strategies must refit per (candidate, label) and refuse a model fitted elsewhere
  (``fit_clf=False`` raises NotFittedError on ``partial_fit``), so they get an unfitted clone of our model with
  ``fit_clf=True``; a seeded learner refitted on the same labelled rows is the same model.
- Committees (QBC, BALD) are lists of ``COMMITTEE_SIZE`` fitted ``SklearnClassifier`` members with
  ``fit_ensemble=False``: fresh learners of the experiment's kind on class-complete bootstraps of the labelled set,
  the same committee modAL's QBC scores.

Batch mode: scikit-activeml returns a batch for every strategy. ``batch_mode="top-k"`` marks the strategies whose
batch is the top-k of per-sample utilities (the library's ``simple_batch``: uncertainty, QBC, EER, QUIRE, ProbAL,
cost embedding, contrastive, greedy BALD); the rest are genuine batch methods.

Cost control (the library's own ``SubSamplingWrapper`` with ``exclude_non_subsample=True``): expected error
reduction (3 variants) scores ``max(EER_CANDIDATES, k)`` random candidates and evaluates the risk on those plus the
labelled rows; QUIRE works on ``max(QUIRE_CANDIDATES, k)`` candidates (its kernel inverse is cubic in the pool).

Not offered: ``xpal`` (scikit-activeml 1.0 ships no xPAL class; ``probal`` is its ProbAL), ``four_ds`` (needs the
library's own MixtureModelClassifier, not the experiment's learner); regression-only strategies are not listed.
Listed but unavailable because they are impractical at benchmark pool sizes: ``expected_average_precision``
(pure-Python scoring, cubic in the pool size) and ``epistemic_uncertainty`` (binary LogisticRegression only, one
SLSQP optimisation per pool row).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algrid.strategies._adapter_common import (
    Adapter,
    binary_learner,
    fit_committee,
    library_view,
    unavailable_spec,
)
from algrid.strategies.base import QueryContext, StrategySpec

LIBRARY = "scikit-activeml"
#: Candidates scored per query by the expected-error-reduction strategies (each costs one refit per class).
EER_CANDIDATES = 10
#: Candidates (and unlabelled rows) QUIRE sees per query.
QUIRE_CANDIDATES = 500


def _data(ctx: QueryContext) -> tuple[np.ndarray, np.ndarray]:
    X = np.vstack([ctx.X_pool, ctx.X_labeled])
    y = np.concatenate([np.full(len(ctx.X_pool), np.nan), np.asarray(ctx.y_labeled, dtype=float)])
    return X, y


def _wrap(model: Any, ctx: QueryContext) -> Any:
    """A fitted ``SklearnClassifier`` around ``model`` (predict_proba columns = all dataset classes)."""
    from skactiveml.classifier import SklearnClassifier
    from sklearn.utils.validation import check_is_fitted

    view = library_view(model, fitted_on=ctx.X_pool, pool=ctx if model is ctx.model else None)
    clf = SklearnClassifier(view, classes=np.asarray(ctx.classes), random_state=ctx.seed)
    check_is_fitted(clf)  # adopts the fitted model (sets estimator_) instead of fitting
    return clf


def _unfitted(ctx: QueryContext) -> Any:
    from skactiveml.classifier import SklearnClassifier
    from sklearn.base import clone

    view = library_view(clone(ctx.model))
    return SklearnClassifier(view, classes=np.asarray(ctx.classes), random_state=ctx.seed)


def _subsampled(strategy: Any, ctx: QueryContext, candidates: int, k: int) -> Any:
    from skactiveml.pool import SubSamplingWrapper

    return SubSamplingWrapper(
        strategy, max_candidates=max(candidates, k), exclude_non_subsample=True, random_state=ctx.seed
    )


def _query(strategy: Any, ctx: QueryContext, k: int, **kwargs: Any) -> np.ndarray:
    X, y = _data(ctx)
    return np.asarray(strategy.query(X, y, batch_size=k, **kwargs))


def _model_query(make: Any) -> Any:
    """Strategy built by ``make(ctx)`` queried with our fitted model (``clf=..., fit_clf=False``)."""

    def fn(ctx: QueryContext, k: int) -> np.ndarray:
        return _query(make(ctx), ctx, k, clf=_wrap(ctx.model, ctx), fit_clf=False)

    return fn


def _uncertainty(method: str) -> Any:
    def make(ctx: QueryContext) -> Any:
        from skactiveml.pool import UncertaintySampling

        return UncertaintySampling(method=method, random_state=ctx.seed)

    return _model_query(make)


def _probal(ctx: QueryContext) -> Any:
    from skactiveml.pool import ProbabilisticAL

    # ProbAL needs label frequencies; for a plain scikit-learn model they come from an RBF kernel density of the
    # labelled rows (the library's `metric` option), the class posterior from our model.
    return ProbabilisticAL(metric="rbf", random_state=ctx.seed)


def _badge(ctx: QueryContext) -> Any:
    from skactiveml.pool import Badge

    return Badge(random_state=ctx.seed)


def _contrastive(ctx: QueryContext) -> Any:
    from skactiveml.pool import ContrastiveAL

    return ContrastiveAL(random_state=ctx.seed)


def _falcun(ctx: QueryContext) -> Any:
    from skactiveml.pool import Falcun

    return Falcun(random_state=ctx.seed)


def _drop_query(ctx: QueryContext) -> Any:
    from skactiveml.pool import DropQuery

    return DropQuery(random_state=ctx.seed)


def _clue(ctx: QueryContext, k: int) -> np.ndarray:
    from skactiveml.pool import Clue

    return _query(Clue(random_state=ctx.seed), ctx, k, estimator=_wrap(ctx.model, ctx), fit_estimator=False)


def _model_free(make: Any) -> Any:
    """Strategy that looks only at X and the labelled mask."""

    def fn(ctx: QueryContext, k: int) -> np.ndarray:
        return _query(make(ctx), ctx, k)

    return fn


def _random(ctx: QueryContext) -> Any:
    from skactiveml.pool import RandomSampling

    return RandomSampling(random_state=ctx.seed)


def _coreset(ctx: QueryContext) -> Any:
    from skactiveml.pool import CoreSet

    return CoreSet(random_state=ctx.seed)


def _typiclust(ctx: QueryContext) -> Any:
    from skactiveml.pool import TypiClust

    return TypiClust(random_state=ctx.seed)


def _probcover(ctx: QueryContext) -> Any:
    from skactiveml.pool import ProbCover

    return ProbCover(random_state=ctx.seed)


def _max_herding(ctx: QueryContext) -> Any:
    from skactiveml.pool import MaxHerding

    return MaxHerding(random_state=ctx.seed)


def _greedy_x(ctx: QueryContext) -> Any:
    from skactiveml.pool import GreedySamplingX

    return GreedySamplingX(random_state=ctx.seed)


def _cost_embedding(ctx: QueryContext) -> Any:
    from skactiveml.pool import CostEmbeddingAL

    return CostEmbeddingAL(classes=np.asarray(ctx.classes), random_state=ctx.seed)


def _quire(ctx: QueryContext, k: int) -> np.ndarray:
    from skactiveml.pool import Quire

    strategy = Quire(classes=np.asarray(ctx.classes), random_state=ctx.seed)
    return _query(_subsampled(strategy, ctx, QUIRE_CANDIDATES, k), ctx, k)


def _discriminative(ctx: QueryContext, k: int) -> np.ndarray:
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import DiscriminativeAL

    discriminator = SklearnClassifier(library_view(binary_learner(ctx, ctx.seed)), random_state=ctx.seed)
    return _query(DiscriminativeAL(random_state=ctx.seed), ctx, k, discriminator=discriminator)


def _eer(kind: str) -> Any:
    def fn(ctx: QueryContext, k: int) -> np.ndarray:
        from skactiveml.pool import MonteCarloEER, ValueOfInformationEER

        if kind == "voi":
            strategy = ValueOfInformationEER(random_state=ctx.seed)
        else:
            strategy = MonteCarloEER(method=kind, random_state=ctx.seed)
        wrapped = _subsampled(strategy, ctx, EER_CANDIDATES, k)
        return _query(wrapped, ctx, k, clf=_unfitted(ctx), fit_clf=True)

    return fn


def _committee_query(method: str) -> Any:
    def fn(ctx: QueryContext, k: int) -> np.ndarray:
        from skactiveml.pool import BatchBALD, GreedyBALD, QueryByCommittee

        ensemble = [_wrap(member, ctx) for member in fit_committee(ctx)]
        if method == "batch_bald":
            strategy = BatchBALD(random_state=ctx.seed)
        elif method == "greedy_bald":
            strategy = GreedyBALD(random_state=ctx.seed)
        else:
            strategy = QueryByCommittee(method=method, random_state=ctx.seed)
        return _query(strategy, ctx, k, ensemble=ensemble, fit_ensemble=False)

    return fn


_MODEL_FREE = {"random", "coreset", "typiclust", "probcover", "max_herding", "greedy_sampling_x", "quire"}
_MODEL_FREE |= {"cost_embedding", "discriminative"}


def _spec(name: str, fn: Any, batch_mode: str, description: str, binary_only: bool = False) -> StrategySpec:
    return StrategySpec(
        name=name,
        implementation="skactiveml",
        select=Adapter(f"skactiveml.{name}", fn),
        batch_mode=batch_mode,
        binary_only=binary_only,
        needs_proba=name not in _MODEL_FREE,
        description=description,
        library=LIBRARY,
    )


def _unavailable(name: str, description: str, reason: str) -> StrategySpec:
    return unavailable_spec(name, "skactiveml", LIBRARY, description, reason)


STRATEGIES: list[StrategySpec] = [
    _spec("random", _model_free(_random), "native", "scikit-activeml RandomSampling"),
    _spec(
        "least_confidence", _uncertainty("least_confident"), "top-k", "UncertaintySampling(least_confident)"
    ),
    _spec("margin", _uncertainty("margin_sampling"), "top-k", "UncertaintySampling(margin_sampling)"),
    _spec("entropy", _uncertainty("entropy"), "top-k", "UncertaintySampling(entropy)"),
    _spec(
        "qbc_kl",
        _committee_query("KL_divergence"),
        "top-k",
        "QueryByCommittee(KL_divergence), bagged committee",
    ),
    _spec("qbc_vote_entropy", _committee_query("vote_entropy"), "top-k", "QueryByCommittee(vote_entropy)"),
    _spec(
        "qbc_variation_ratios",
        _committee_query("variation_ratios"),
        "top-k",
        "QueryByCommittee(variation_ratios)",
    ),
    _spec("batch_bald", _committee_query("batch_bald"), "native", "BatchBALD over the bagged committee"),
    _spec("greedy_bald", _committee_query("greedy_bald"), "top-k", "GreedyBALD over the bagged committee"),
    _spec(
        "expected_error_reduction",
        _eer("misclassification_loss"),
        "top-k",
        f"MonteCarloEER(misclassification_loss) on {EER_CANDIDATES} sub-sampled candidates",
    ),
    _spec(
        "eer_log_loss", _eer("log_loss"), "top-k", f"MonteCarloEER(log_loss) on {EER_CANDIDATES} candidates"
    ),
    _spec(
        "eer_value_of_information",
        _eer("voi"),
        "top-k",
        f"ValueOfInformationEER on {EER_CANDIDATES} candidates",
    ),
    _spec("quire", _quire, "top-k", f"Quire on {QUIRE_CANDIDATES} sub-sampled candidates"),
    _spec("probal", _model_query(_probal), "top-k", "ProbabilisticAL (RBF kernel frequencies)"),
    _spec("cost_embedding", _model_free(_cost_embedding), "top-k", "CostEmbeddingAL (ALCE)"),
    _spec("coreset", _model_free(_coreset), "native", "CoreSet (greedy k-center, euclidean)"),
    _spec("typiclust", _model_free(_typiclust), "native", "TypiClust"),
    _spec("probcover", _model_free(_probcover), "native", "ProbCover"),
    _spec("max_herding", _model_free(_max_herding), "native", "MaxHerding"),
    _spec("greedy_sampling_x", _model_free(_greedy_x), "native", "GreedySamplingX (input-space diversity)"),
    _spec(
        "discriminative",
        _discriminative,
        "native",
        "DiscriminativeAL with a learner of the experiment's kind",
    ),
    _spec("badge", _model_query(_badge), "native", "Badge (gradient embedding of the input features)"),
    _spec("contrastive", _model_query(_contrastive), "top-k", "ContrastiveAL"),
    _spec("falcun", _model_query(_falcun), "native", "Falcun"),
    _spec("drop_query", _model_query(_drop_query), "native", "DropQuery"),
    _spec("clue", _clue, "native", "Clue (uncertainty-weighted k-means)"),
    _unavailable("xpal", "xPAL", "scikit-activeml 1.0 ships no xPAL class (probal is its ProbAL)"),
    _unavailable(
        "expected_average_precision",
        "UncertaintySampling(expected_average_precision)",
        "pure-Python O(n_pool^3) scoring (~15 s for a 160-row pool); unusable at benchmark pool sizes",
    ),
    _unavailable(
        "epistemic_uncertainty",
        "EpistemicUncertaintySampling",
        "binary LogisticRegression only, and it solves one SLSQP problem per pool row (> 40 s for 10 rows of "
        "breast_cancer); impractical at benchmark pool sizes",
    ),
    _unavailable(
        "four_ds", "FourDs", "needs scikit-activeml's MixtureModelClassifier, not the experiment's learner"
    ),
]
