"""algrid's own query strategies (``implementation: native``): vectorised, batch-aware, deterministic.

Every scorer works on whole arrays (no Python loop over pool samples); the only loops run over the batch, a
committee, k-means centroids or a documented candidate subsample. Ranking uses :func:`top_k`: highest score
first, ties broken by pool position (a fixed pseudo-random order, see algrid.engine.split.pool_order), with scores rounded to 12 decimals so that
equivalent formulas (e.g. least confidence, margin and entropy on a binary problem) rank identically despite
floating-point noise. Names follow the vocabulary shared with the modal/smalltext/skactiveml adapters.
"""

from __future__ import annotations

import numpy as np

from algrid.strategies.base import QueryContext, StrategySpec
from algrid.strategies.native_quire import quire_scores

__all__ = ["STRATEGIES", "top_k"]

COMMITTEE_SIZE = 5  # bagging committee members for qbc_*
EER_CANDIDATES = 10  # expected_error_reduction scores max(10, batch) random pool candidates ...
EER_EVAL_SAMPLES = 200  # ... and estimates the error on this many random pool rows
ORACLE_K = 10  # oracle_greedy_k: candidate batches judged with the true labels
CLUSTER_MARGIN_FACTOR = 10  # cluster_margin clusters the top 10 x batch margin candidates
TYPICLUST_MAX_CLUSTERS = 500
TYPICLUST_NEIGHBOURS = 20
DAL_ROUNDS = 10  # discriminative: at most this many sub-batches, retraining the discriminator between them


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores; ties (after rounding to 12 decimals) go to the lower position."""
    rounded = np.round(np.asarray(scores, dtype=np.float64), 12)
    return np.argsort(-rounded, kind="stable")[:k].astype(np.int64)


def quire(ctx: QueryContext) -> np.ndarray:
    """QUIRE (Huang et al. 2010): informative and representative rows by the min-max kernel objective, exact on
    the whole pool in closed form (linear in the pool; RBF kernel, lambda = 1, as scikit-activeml)."""
    scores = quire_scores(ctx.X_pool, ctx.X_labeled, ctx.y_labeled, ctx.classes)
    return top_k(-scores, ctx.batch_size)


def xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y) with 0 * log(0) = 0 (scipy.special.xlogy without importing scipy when the registry loads)."""
    from scipy.special import xlogy as _xlogy

    return _xlogy(x, y)


def _entropy(p: np.ndarray) -> np.ndarray:
    return -xlogy(p, p).sum(axis=-1)


def _margin(p: np.ndarray) -> np.ndarray:
    part = np.partition(p, -2, axis=1)
    return part[:, -1] - part[:, -2]


def _nearest_distinct(centers: np.ndarray, X: np.ndarray) -> np.ndarray:
    """For each centre in turn, the nearest row of X not yet taken (one pass per centre)."""
    from sklearn.metrics import pairwise_distances

    dist = pairwise_distances(centers, X)
    taken = np.zeros(len(X), dtype=bool)
    picks = np.empty(len(centers), dtype=np.int64)
    for i, row in enumerate(dist):
        j = int(np.argmin(np.where(taken, np.inf, row)))
        taken[j] = True
        picks[i] = j
    return picks


def _child_seed(ctx: QueryContext) -> int:
    return int(ctx.rng.integers(0, 2**32 - 1))


def _proba(ctx: QueryContext) -> np.ndarray:
    """``ctx.proba_pool``, which the loop always fills for strategies registered with ``needs_proba``."""
    if ctx.proba_pool is None:
        raise ValueError("this strategy needs ctx.proba_pool (register it with needs_proba=True)")
    return ctx.proba_pool


# ---------------------------------------------------------------------------------------------- scorers


def random_sampling(ctx: QueryContext) -> np.ndarray:
    """Uniform random batch (the baseline every strategy is compared with)."""
    return ctx.rng.choice(len(ctx.X_pool), size=ctx.batch_size, replace=False).astype(np.int64)


def least_confidence(ctx: QueryContext) -> np.ndarray:
    """Lowest top-class probability first."""
    return top_k(1.0 - _proba(ctx).max(axis=1), ctx.batch_size)


def margin(ctx: QueryContext) -> np.ndarray:
    """Smallest gap between the two most probable classes first."""
    return top_k(-_margin(_proba(ctx)), ctx.batch_size)


def entropy(ctx: QueryContext) -> np.ndarray:
    """Highest predictive entropy first."""
    return top_k(_entropy(_proba(ctx)), ctx.batch_size)


def _committee_proba(ctx: QueryContext) -> np.ndarray:
    """(members, pool, classes) probabilities of a bagging committee fitted on bootstrap samples."""
    n = len(ctx.y_labeled)
    out = np.empty((COMMITTEE_SIZE, len(ctx.X_pool), len(ctx.classes)))
    for m in range(COMMITTEE_SIZE):
        boot = ctx.rng.integers(0, n, size=n)
        member = ctx.make_learner(_child_seed(ctx)).fit(ctx.X_labeled[boot], ctx.y_labeled[boot])
        out[m] = member.predict_proba(ctx.X_pool)
    return out


def qbc_vote_entropy(ctx: QueryContext) -> np.ndarray:
    """Query by committee: entropy of the committee's hard votes (5 bagged members)."""
    proba = _committee_proba(ctx)
    k = len(ctx.classes)
    votes = np.eye(k)[proba.argmax(axis=2)].mean(axis=0)  # (pool, classes) vote fractions
    return top_k(_entropy(votes), ctx.batch_size)


def qbc_kl(ctx: QueryContext) -> np.ndarray:
    """Query by committee: mean KL divergence of members from the consensus (McCallum & Nigam)."""
    proba = _committee_proba(ctx)
    consensus = proba.mean(axis=0, keepdims=True)
    kl = (xlogy(proba, proba) - xlogy(proba, np.broadcast_to(consensus, proba.shape))).sum(axis=2)
    return top_k(kl.mean(axis=0), ctx.batch_size)


def density_weighted(ctx: QueryContext) -> np.ndarray:
    """Information density (Settles & Craven): entropy x mean (1 + cosine similarity) / 2 to the pool.

    The mean cosine similarity to all pool rows equals the dot product with the mean unit vector, so the
    density costs O(pool x features) instead of the usual O(pool^2) similarity matrix.
    """
    X = ctx.X_pool
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    unit = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    density = (1.0 + unit @ unit.mean(axis=0)) / 2.0
    return top_k(_entropy(_proba(ctx)) * density, ctx.batch_size)


def coreset(ctx: QueryContext) -> np.ndarray:
    """k-center greedy (Sener & Savarese) in feature space: repeatedly take the row farthest from the labelled set."""
    from sklearn.metrics import pairwise_distances_argmin_min

    X = ctx.X_pool
    _, mind = pairwise_distances_argmin_min(X, ctx.X_labeled)
    picks = np.empty(ctx.batch_size, dtype=np.int64)
    for i in range(ctx.batch_size):
        j = int(np.argmax(mind))
        picks[i] = j
        mind = np.minimum(mind, np.sqrt(((X - X[j]) ** 2).sum(axis=1)))
        mind[picks[: i + 1]] = -np.inf
    return picks


def kmeans_diversity(ctx: QueryContext) -> np.ndarray:
    """k-means with batch_size clusters on the pool; the row nearest each centroid."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=ctx.batch_size, n_init=1, random_state=ctx.seed).fit(ctx.X_pool)
    return _nearest_distinct(km.cluster_centers_, ctx.X_pool)


def cluster_margin(ctx: QueryContext) -> np.ndarray:
    """Margin pre-filter + diversity (Zhdanov 2019 style, a light Cluster-Margin).

    Takes the 10 x batch smallest-margin rows, clusters them with uncertainty-weighted k-means into batch
    clusters and returns the candidate nearest each centroid.
    """
    from sklearn.cluster import KMeans

    b = ctx.batch_size
    m = _margin(_proba(ctx))
    cand = top_k(-m, min(len(m), CLUSTER_MARGIN_FACTOR * b))
    if len(cand) <= b:
        return cand[:b]
    Xc = ctx.X_pool[cand]
    km = KMeans(n_clusters=b, n_init=1, random_state=ctx.seed).fit(Xc, sample_weight=1.0 - m[cand] + 1e-9)
    return cand[_nearest_distinct(km.cluster_centers_, Xc)]


def typiclust(ctx: QueryContext) -> np.ndarray:
    """TypiClust (Hacohen et al. 2022): k-means into |L| + batch clusters (at most 500); from the least-covered,
    largest clusters take the most typical pool row (inverse mean distance to its 20 nearest neighbours)."""
    from sklearn.cluster import KMeans
    from sklearn.neighbors import NearestNeighbors

    b, n_lab = ctx.batch_size, len(ctx.X_labeled)
    X_all = np.vstack([ctx.X_labeled, ctx.X_pool])
    n_clusters = min(n_lab + b, TYPICLUST_MAX_CLUSTERS, len(X_all))
    labels = KMeans(n_clusters=n_clusters, n_init=1, random_state=ctx.seed).fit_predict(X_all)
    pool_labels = labels[n_lab:]
    covered = np.bincount(labels[:n_lab], minlength=n_clusters)
    available = np.ones(len(ctx.X_pool), dtype=bool)
    picks = np.empty(b, dtype=np.int64)
    for i in range(b):
        size = np.bincount(pool_labels[available], minlength=n_clusters)
        eligible = np.flatnonzero(size > 0)
        # least covered first, then largest, then lowest cluster id
        c = eligible[np.lexsort((eligible, -size[eligible], covered[eligible]))[0]]
        members = np.flatnonzero((pool_labels == c) & available)
        if len(members) == 1:
            j = members[0]
        else:
            k = min(TYPICLUST_NEIGHBOURS, len(members) - 1)
            dist, _ = NearestNeighbors(n_neighbors=k).fit(ctx.X_pool[members]).kneighbors()  # excludes self
            typicality = 1.0 / (dist.mean(axis=1) + 1e-12)
            j = members[top_k(typicality, 1)[0]]
        picks[i] = j
        available[j] = False
        covered[c] += 1
    return picks


def discriminative(ctx: QueryContext) -> np.ndarray:
    """Discriminative AL (Gissin & Shalev-Shwartz 2019): a logistic regression separates labelled from pool rows;
    take the rows it finds most 'unlabelled-looking', in up to 10 sub-batches, retraining in between."""
    from sklearn.linear_model import LogisticRegression

    b = ctx.batch_size
    X = ctx.X_pool
    taken = np.zeros(len(X), dtype=bool)
    picks: list[np.ndarray] = []
    for size in (len(s) for s in np.array_split(np.arange(b), min(b, DAL_ROUNDS))):
        X_fit = np.vstack([ctx.X_labeled, X[taken], X[~taken]])
        n_known = len(ctx.X_labeled) + int(taken.sum())
        target = np.r_[np.zeros(n_known, dtype=np.int64), np.ones(int((~taken).sum()), dtype=np.int64)]
        clf = LogisticRegression(max_iter=1000, class_weight="balanced").fit(X_fit, target)
        score = np.where(taken, -np.inf, clf.predict_proba(X)[:, 1])
        chosen = top_k(score, size)
        taken[chosen] = True
        picks.append(chosen)
    return np.concatenate(picks)


def expected_error_reduction(ctx: QueryContext) -> np.ndarray:
    """Expected error reduction (Roy & McCallum 2001) on a subsample.

    Scores max(10, batch) random pool candidates: for each candidate and each class with non-zero predicted
    probability, refit on labelled + (candidate, class) and estimate the expected 0/1 error (1 - max proba) on
    200 random pool rows; take the candidates with the lowest probability-weighted error. Cost per cycle:
    candidates x classes fits, which is why the subsample is small.
    """
    n_pool, b = len(ctx.X_pool), ctx.batch_size
    cand = np.sort(ctx.rng.choice(n_pool, size=min(n_pool, max(EER_CANDIDATES, b)), replace=False))
    evals = np.sort(ctx.rng.choice(n_pool, size=min(n_pool, EER_EVAL_SAMPLES), replace=False))
    X_eval = ctx.X_pool[evals]
    p_cand = _proba(ctx)[cand]
    risk = np.zeros(len(cand))
    X_fit = np.vstack([ctx.X_labeled, ctx.X_pool[:1]])
    y_fit = np.r_[ctx.y_labeled, ctx.classes[:1]]
    for i, j in enumerate(cand):
        X_fit[-1] = ctx.X_pool[j]
        for c in np.flatnonzero(p_cand[i] > 0):
            y_fit[-1] = ctx.classes[c]
            model = ctx.make_learner(ctx.seed).fit(X_fit, y_fit)
            risk[i] += p_cand[i, c] * (1.0 - model.predict_proba(X_eval).max(axis=1)).sum()
    return cand[top_k(-risk, b)]


def oracle_greedy_k(ctx: QueryContext) -> np.ndarray:
    """Upper-bound baseline: the best of 10 random candidate batches by test accuracy with the true labels
    (the prior study's 'greedy optimal'). First best wins ties."""
    n_pool, b = len(ctx.X_pool), ctx.batch_size
    if n_pool <= b:
        return np.arange(n_pool, dtype=np.int64)
    evaluate = ctx.evaluate
    if evaluate is None:
        raise ValueError("oracle_greedy_k needs ctx.evaluate (the loop sets it for uses_oracle strategies)")
    candidates = [ctx.rng.choice(n_pool, size=b, replace=False).astype(np.int64) for _ in range(ORACLE_K)]
    scores = np.array([evaluate(c) for c in candidates])
    return candidates[int(np.argmax(scores))]


#: Scorers that never read ctx.rng / ctx.seed: ties go to pool position (see algrid.strategies.seeding).
_SEED_FREE = frozenset(
    {"least_confidence", "margin", "entropy", "density_weighted", "coreset", "discriminative"}
)


def _spec(name: str, fn, *, needs_proba: bool, batch_mode: str, uses_oracle: bool = False) -> StrategySpec:
    return StrategySpec(
        name=name,
        implementation="native",
        select=fn,
        needs_proba=needs_proba,
        uses_oracle=uses_oracle,
        batch_mode=batch_mode,
        description=(fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
        library="algrid",
        uses_rng=name not in _SEED_FREE,
    )


STRATEGIES: list[StrategySpec] = [
    _spec("random", random_sampling, needs_proba=False, batch_mode="native"),
    _spec("least_confidence", least_confidence, needs_proba=True, batch_mode="top-k"),
    _spec("margin", margin, needs_proba=True, batch_mode="top-k"),
    _spec("entropy", entropy, needs_proba=True, batch_mode="top-k"),
    _spec("qbc_vote_entropy", qbc_vote_entropy, needs_proba=False, batch_mode="top-k"),
    _spec("qbc_kl", qbc_kl, needs_proba=False, batch_mode="top-k"),
    _spec("density_weighted", density_weighted, needs_proba=True, batch_mode="top-k"),
    _spec("coreset", coreset, needs_proba=False, batch_mode="native"),
    _spec("kmeans", kmeans_diversity, needs_proba=False, batch_mode="native"),
    _spec("cluster_margin", cluster_margin, needs_proba=True, batch_mode="native"),
    _spec("typiclust", typiclust, needs_proba=False, batch_mode="native"),
    _spec("discriminative", discriminative, needs_proba=False, batch_mode="native"),
    _spec("expected_error_reduction", expected_error_reduction, needs_proba=True, batch_mode="top-k"),
    _spec("oracle_greedy_k", oracle_greedy_k, needs_proba=False, batch_mode="native", uses_oracle=True),
    _spec("quire", quire, needs_proba=False, batch_mode="top-k"),
]
