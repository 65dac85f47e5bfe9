"""small-text (distribution ``small-text``) query strategies, called on the loop's fitted estimator.

Every strategy runs small-text's own ``QueryStrategy.query(clf, dataset, indices_unlabeled, indices_labeled, y, n)``:

- ``dataset`` is a ``small_text.SklearnDataset`` of the pool followed by the labelled rows (pool rows carry
  small-text's ``LABEL_UNLABELED``), so ``indices_unlabeled = 0..n_pool-1`` are exactly our pool positions.
- ``clf`` is a ``small_text.SklearnClassifier`` around the already fitted model (never refitted) that also
  implements ``embed``: for tabular data the embedding of a row is its preprocessed feature vector (there is no
  encoder to take a hidden layer from), returned with the model's ``predict_proba`` when asked (``return_proba``).

Per strategy (``batch_mode``):

- ``least_confidence`` / ``entropy`` / ``margin`` — ``LeastConfidence`` / ``PredictionEntropy`` / ``BreakingTies``:
  small-text has no batch mode for them; its answer is the top-k of the scores (``np.argpartition``).
- ``random`` — ``RandomSampling`` (global NumPy RNG, seeded by the loop).
- ``embedding_kmeans`` — ``EmbeddingKMeans`` (k-means with k = batch size on L2-normalised features, nearest row to
  each centre; ``KMeans`` draws from the global RNG): native batch.
- ``coreset`` — ``GreedyCoreset`` (greedy k-center, euclidean on L2-normalised features): native batch.
- ``lightweight_coreset`` — ``LightweightCoreset`` (sampling proportional to distance from the mean): native batch.
- ``contrastive`` — ``ContrastiveActiveLearning`` (mean KL divergence to the 10 nearest neighbours): top-k.
- ``discriminative`` — ``DiscriminativeActiveLearning`` with a discriminator that is a fresh learner of the
  experiment's kind, ``min(k, 10)`` sub-batches and small-text's default ``unlabeled_factor=10``: native batch.
- ``bald`` — unavailable (needs a classifier with Monte-Carlo dropout ``predict_proba``).
- ``seals`` / ``anchoral`` — unavailable (pool-subsampling wrappers that need the optional ``hnswlib``).
Multi-label strategies (``CategoryVectorInconsistencyAndRanking``) are out of scope (single-label datasets only).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np

from algrid.strategies._adapter_common import Adapter, binary_learner, library_view, unavailable_spec
from algrid.strategies.base import QueryContext, StrategySpec

LIBRARY = "small-text"
#: Upper bound on DiscriminativeActiveLearning's sub-batches (each one fits a discriminator).
DAL_ITERATIONS = 10


@lru_cache(maxsize=1)
def _classifier_class() -> type:
    from small_text.classifiers import SklearnClassifier
    from small_text.classifiers.classification import EmbeddingMixin

    class FittedClassifier(SklearnClassifier, EmbeddingMixin):
        """small-text classifier around an already fitted estimator; embeddings are the feature vectors."""

        def embed(self, data_set: Any, return_proba: bool = False, pbar: Any = None, **_: Any) -> Any:
            x = np.asarray(data_set.x)
            if return_proba:
                return x, self.model.predict_proba(x)
            return x

    return FittedClassifier


def _inputs(ctx: QueryContext) -> tuple[Any, Any, np.ndarray, np.ndarray, np.ndarray]:
    """(clf, dataset, indices_unlabeled, indices_labeled, y) for small-text's ``query``."""
    from small_text import LABEL_UNLABELED, SklearnDataset

    n_pool, n_lab = len(ctx.X_pool), len(ctx.X_labeled)
    x = np.vstack([ctx.X_pool, ctx.X_labeled])
    y_lab = np.asarray(ctx.y_labeled, dtype=np.int64)
    y = np.concatenate([np.full(n_pool, LABEL_UNLABELED, dtype=np.int64), y_lab])
    dataset = SklearnDataset(x, y, target_labels=np.asarray(ctx.classes, dtype=np.int64))
    clf = _classifier_class()(ctx.model, num_classes=len(ctx.classes))
    return clf, dataset, np.arange(n_pool), np.arange(n_pool, n_pool + n_lab), y_lab


def _run(strategy: Any, ctx: QueryContext, k: int) -> np.ndarray:
    clf, dataset, unl, lab, y = _inputs(ctx)
    return strategy.query(clf, dataset, unl, lab, y, n=k)


def _least_confidence(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import LeastConfidence

    return _run(LeastConfidence(), ctx, k)


def _entropy(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import PredictionEntropy

    return _run(PredictionEntropy(), ctx, k)


def _margin(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import BreakingTies

    return _run(BreakingTies(), ctx, k)


def _random(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import RandomSampling

    return _run(RandomSampling(), ctx, k)


def _embedding_kmeans(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import EmbeddingKMeans

    return _run(EmbeddingKMeans(), ctx, k)


def _coreset(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import GreedyCoreset

    with warnings.catch_warnings():  # "default metric changed to euclidean" notice on every construction
        warnings.simplefilter("ignore", UserWarning)
        strategy = GreedyCoreset(distance_metric="euclidean")
    return _run(strategy, ctx, k)


def _lightweight_coreset(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import LightweightCoreset

    return _run(LightweightCoreset(), ctx, k)


def _contrastive(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import ContrastiveActiveLearning

    return _run(ContrastiveActiveLearning(pbar=None), ctx, k)


@lru_cache(maxsize=1)
def _factory_class() -> type:
    from small_text.classifiers import SklearnClassifier
    from small_text.classifiers.factories import AbstractClassifierFactory

    class LearnerFactory(AbstractClassifierFactory):
        """Fresh learners of the experiment's kind as small-text classifiers (the DAL discriminator)."""

        def __init__(self, ctx: QueryContext) -> None:
            self.ctx = ctx

        def new(self) -> Any:
            return SklearnClassifier(library_view(binary_learner(self.ctx, self.ctx.seed)), num_classes=2)

    return LearnerFactory


def _discriminative(ctx: QueryContext, k: int) -> np.ndarray:
    from small_text.query_strategies import DiscriminativeActiveLearning

    factory = _factory_class()(ctx)
    strategy = DiscriminativeActiveLearning(factory, num_iterations=min(k, DAL_ITERATIONS), pbar=None)
    return _run(strategy, ctx, k)


#: Strategies that read no random stream (see algrid.strategies.seeding); random, the k-means and sampling
#: strategies read the global NumPy RNG, discriminative fits a learner seeded with ctx.seed.
_SEED_FREE = frozenset({"least_confidence", "entropy", "margin", "coreset", "contrastive"})


def _spec(name: str, fn: Any, batch_mode: str, description: str) -> StrategySpec:
    return StrategySpec(
        name=name,
        implementation="smalltext",
        select=Adapter(f"smalltext.{name}", fn),
        batch_mode=batch_mode,
        needs_proba=name
        not in {"random", "embedding_kmeans", "coreset", "lightweight_coreset", "discriminative"},
        description=description,
        library=LIBRARY,
        uses_rng=name not in _SEED_FREE,
    )


def _unavailable(name: str, description: str, reason: str) -> StrategySpec:
    return unavailable_spec(name, "smalltext", LIBRARY, description, reason)


STRATEGIES: list[StrategySpec] = [
    _spec("least_confidence", _least_confidence, "top-k", "small-text LeastConfidence"),
    _spec("entropy", _entropy, "top-k", "small-text PredictionEntropy"),
    _spec("margin", _margin, "top-k", "small-text BreakingTies (smallest top-2 margin)"),
    _spec("random", _random, "native", "small-text RandomSampling"),
    _spec(
        "embedding_kmeans", _embedding_kmeans, "native", "small-text EmbeddingKMeans on the feature vectors"
    ),
    _spec("coreset", _coreset, "native", "small-text GreedyCoreset (greedy k-center, normalised euclidean)"),
    _spec("lightweight_coreset", _lightweight_coreset, "native", "small-text LightweightCoreset"),
    _spec("contrastive", _contrastive, "top-k", "small-text ContrastiveActiveLearning (k=10 neighbours)"),
    _spec("discriminative", _discriminative, "native", "small-text DiscriminativeActiveLearning"),
    _unavailable("bald", "small-text BALD", "needs a classifier with Monte-Carlo dropout predict_proba"),
    _unavailable("seals", "small-text SEALS", "pool-subsampling wrapper that needs the optional hnswlib"),
    _unavailable(
        "anchoral", "small-text AnchorSubsampling", "pool-subsampling wrapper that needs the optional hnswlib"
    ),
]
