"""modAL (distribution ``modAL-python``) query strategies, called on the loop's fitted estimator.

modAL's ``ActiveLearner.teach`` breaks on scikit-learn >= 1.8, so the loop stays ours and only modAL's query
functions run: the fitted model is wrapped in an ``ActiveLearner`` constructed *without* training data (nothing is
refitted), and ``X_training``/``y_training`` are set to the labelled set for the strategies that read them. Its
``predict_proba`` on the pool array returns the loop's ``ctx.proba_pool`` (computed once per cycle).

Per strategy (``batch_mode``):

- ``least_confidence`` / ``margin`` / ``entropy`` — ``uncertainty_sampling`` / ``margin_sampling`` /
  ``entropy_sampling`` with ``n_instances=k``: modAL has no batch mode for them, its answer is the top-k of the
  scores (``multi_argmax``, library default ``random_tie_break=False``: ties go to ``np.argpartition``'s order).
- ``ranked_batch`` — ``modAL.batch.uncertainty_batch_sampling`` (Cardoso et al. ranked batch mode): a real batch
  mode that trades least-confidence against distance to the labelled set and to rows already picked.
- ``qbc_vote_entropy`` / ``qbc_consensus_entropy`` / ``qbc_max_disagreement`` — ``modAL.disagreement`` samplers on a
  ``modAL.models.Committee`` of ``COMMITTEE_SIZE`` fresh learners of the experiment's kind, each fit on a
  class-complete bootstrap of the labelled set (the same committee scikit-activeml's QBC scores); top-k.
- ``density_weighted`` — modAL's information density recipe (Settles & Craven): ``classifier_entropy`` times
  ``modAL.density.information_density(X_pool, "euclidean")`` (mean similarity 1/(1+d) to the pool), top-k with
  ``multi_argmax``. Memory is O(n_pool^2) (modAL builds the full similarity matrix).
- ``expected_error_reduction`` — listed, unavailable: ``modAL.expected_error`` uses ``np.float`` and fails to import
  on numpy 2.

modAL reads the global NumPy RNG only for ``random_tie_break=True`` and its own bootstrap (neither is used); the
loop seeds it before every call anyway.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algrid.strategies._adapter_common import Adapter, PoolProba, fit_committee
from algrid.strategies.base import QueryContext, StrategySpec

LIBRARY = "modAL-python"


def _learner(ctx: QueryContext) -> Any:
    """An ``ActiveLearner`` around the already fitted model (no refit: the constructor fits only if given data);
    its ``predict_proba`` on the pool returns the loop's ``ctx.proba_pool``."""
    from modAL.models import ActiveLearner

    learner = ActiveLearner(estimator=PoolProba(ctx.model, ctx.X_pool, ctx.proba_pool))
    learner.X_training = ctx.X_labeled
    learner.y_training = ctx.y_labeled
    return learner


def _committee(ctx: QueryContext) -> Any:
    from modAL.models import ActiveLearner, Committee

    return Committee(learner_list=[ActiveLearner(estimator=m) for m in fit_committee(ctx)])


def _least_confidence(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.uncertainty import uncertainty_sampling

    return uncertainty_sampling(_learner(ctx), ctx.X_pool, n_instances=k)[0]


def _margin(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.uncertainty import margin_sampling

    return margin_sampling(_learner(ctx), ctx.X_pool, n_instances=k)[0]


def _entropy(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.uncertainty import entropy_sampling

    return entropy_sampling(_learner(ctx), ctx.X_pool, n_instances=k)[0]


def _ranked_batch(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.batch import uncertainty_batch_sampling

    return uncertainty_batch_sampling(_learner(ctx), ctx.X_pool, n_instances=k)[0]


def _vote_entropy(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.disagreement import vote_entropy_sampling

    return vote_entropy_sampling(_committee(ctx), ctx.X_pool, n_instances=k)[0]


def _consensus_entropy(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.disagreement import consensus_entropy_sampling

    return consensus_entropy_sampling(_committee(ctx), ctx.X_pool, n_instances=k)[0]


def _max_disagreement(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.disagreement import max_disagreement_sampling

    return max_disagreement_sampling(_committee(ctx), ctx.X_pool, n_instances=k)[0]


def _density_weighted(ctx: QueryContext, k: int) -> np.ndarray:
    from modAL.density import information_density
    from modAL.uncertainty import classifier_entropy
    from modAL.utils.selection import multi_argmax

    scores = classifier_entropy(_learner(ctx), ctx.X_pool) * information_density(ctx.X_pool, "euclidean")
    return multi_argmax(scores, n_instances=k)[0]


#: Strategies that read no random stream (no committee; random_tie_break stays off), see algrid.strategies.seeding.
_SEED_FREE = frozenset({"least_confidence", "margin", "entropy", "ranked_batch", "density_weighted"})


def _spec(name: str, fn: Any, batch_mode: str, description: str) -> StrategySpec:
    return StrategySpec(
        name=name,
        implementation="modal",
        select=Adapter(f"modal.{name}", fn),
        batch_mode=batch_mode,
        description=description,
        library=LIBRARY,
        uses_rng=name not in _SEED_FREE,
    )


STRATEGIES: list[StrategySpec] = [
    _spec("least_confidence", _least_confidence, "top-k", "modAL uncertainty_sampling (1 - max proba)"),
    _spec("margin", _margin, "top-k", "modAL margin_sampling (smallest top-2 margin)"),
    _spec("entropy", _entropy, "top-k", "modAL entropy_sampling (prediction entropy)"),
    _spec("ranked_batch", _ranked_batch, "native", "modAL uncertainty_batch_sampling (ranked batch mode)"),
    _spec("qbc_vote_entropy", _vote_entropy, "top-k", "modAL vote_entropy_sampling on a bagged committee"),
    _spec(
        "qbc_consensus_entropy",
        _consensus_entropy,
        "top-k",
        "modAL consensus_entropy_sampling on a bagged committee",
    ),
    _spec(
        "qbc_max_disagreement",
        _max_disagreement,
        "top-k",
        "modAL max_disagreement_sampling (max KL to consensus)",
    ),
    _spec("density_weighted", _density_weighted, "top-k", "modAL information_density x classifier_entropy"),
    StrategySpec(
        name="expected_error_reduction",
        implementation="modal",
        select=None,
        description="modAL expected_error_reduction",
        available=False,
        unavailable_reason="modAL.expected_error uses np.float, which numpy 2 removed (the module fails to import)",
        library=LIBRARY,
    ),
]
