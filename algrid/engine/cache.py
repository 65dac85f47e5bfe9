"""Per-process cache of fitted models, their test metrics and their pool probabilities.

Why: experiments in one shard that share dataset, split, start set and learner start from the same labelled
set, and different strategies (or the same strategy in different libraries) often pick identical batches for
several cycles. The loop fits on the labelled set in sorted row-id order with a learner seed that depends only
on (dataset, split, learner, seed), so the fitted model is a pure function of the cache key below and a hit is
exact: results are byte-identical with the cache on or off.

Key: (dataset, split, test_size, preprocessing, learner, seed, learner_seed, the bytes of the sorted labelled row ids).
The pool is the train split minus the labelled set, so the key also determines the pool and its probabilities.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from algrid import config

__all__ = ["CacheEntry", "ModelCache", "labeled_key", "process_cache"]

#: Default capacity: entries, and an approximate memory budget for models + pool probabilities.
DEFAULT_MAX_ENTRIES = 256
DEFAULT_MAX_MB = 1024


_SCALAR_TYPES = frozenset(
    {str, bytes, int, float, bool, type(None), np.float64, np.int64, np.int32, np.bool_}
)


def approx_nbytes(obj: Any, _depth: int = 0, _seen: set[int] | None = None) -> int:
    """Rough memory footprint of a fitted estimator: the numpy arrays reachable through its attributes
    (scikit-learn trees via ``tree_.value`` and their node arrays), each object counted once (a wrapper that
    fitted its estimator in place holds it twice). Cheap (no pickling); good enough to bound the cache, which
    would otherwise keep hundreds of late-cycle random forests."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if _depth > 6 or type(obj) in _SCALAR_TYPES:
        return 0
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if hasattr(obj, "node_count") and hasattr(obj, "value"):  # sklearn.tree._tree.Tree (no __dict__)
        return int(obj.value.nbytes + obj.node_count * 64)
    if _depth and hasattr(obj, "tree_"):  # a fitted tree inside an ensemble: its arrays are all that count
        return approx_nbytes(obj.tree_, _depth + 1, seen)
    if isinstance(obj, list | tuple):
        if obj and hasattr(obj[0], "tree_"):  # an ensemble's trees: only their node arrays count
            return sum(int(t.tree_.value.nbytes + t.tree_.node_count * 64) for t in obj)
        values: Iterable[Any] = obj
    elif isinstance(obj, dict):
        values = obj.values()
    else:
        attrs = getattr(obj, "__dict__", None)
        if not attrs:
            return 0
        if "_nbytes" in attrs:  # an estimator that sized itself (algrid.learners.fast_forest)
            return int(attrs["_nbytes"])
        values = attrs.values()
    total = 0
    for value in values:  # arrays and scalars inline: a fitted SVC has dozens of them
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif type(value) not in _SCALAR_TYPES:
            total += approx_nbytes(value, _depth + 1, seen)
    return total


def labeled_key(sorted_ids: np.ndarray) -> bytes:
    """The cache key of a labelled set given as sorted dataset row ids: their bytes.

    Why not a hash: the key lives only in this process's cache, where Python hashes it once (bytes cache their
    hash) and compares it exactly on a hit; a cryptographic digest cost ~3 µs a cycle for nothing.
    """
    return np.ascontiguousarray(sorted_ids, dtype="<i8").tobytes()


@dataclass
class CacheEntry:
    """A fitted model (never refitted: it may be shared) and what was computed from it."""

    model: Any
    metrics: dict[str, float]
    proba_pool: np.ndarray | None = None  # read-only, filled on first use
    extras: dict[str, Any] = field(default_factory=dict)
    nbytes: int = 0  # approximate footprint, maintained by ModelCache
    # fitted by the fast forest (True), scikit-learn's (False), or no forest (None): the run's version manifest
    forest: bool | None = None


class ModelCache:
    """An LRU map ``key -> CacheEntry`` bounded by entries and approximate bytes, with hit/miss counters."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_mb: float = DEFAULT_MAX_MB):
        self.max_entries = int(max_entries)
        self.max_bytes = int(max_mb * 2**20)
        self._data: OrderedDict[tuple, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: tuple, *, count: bool = True) -> CacheEntry | None:
        """The entry for ``key`` (marked most recently used), or None; counts a hit or a miss unless ``count``
        is False (oracle candidates: their lookups would drown the per-cycle hit rate)."""
        with self._lock:
            entry = self._data.get(key)
            if entry is not None:
                self._data.move_to_end(key)
            if count:
                if entry is None:
                    self.misses += 1
                else:
                    self.hits += 1
            return entry

    def put(self, key: tuple, entry: CacheEntry) -> None:
        """Store ``entry``, evicting the least recently used entries beyond capacity."""
        if self.max_entries <= 0:
            return
        size = approx_nbytes(entry.model) + (entry.proba_pool.nbytes if entry.proba_pool is not None else 0)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old.nbytes
            entry.nbytes = size
            self._data[key] = entry
            self.nbytes += size
            self._evict()

    def grew(self, key: tuple, nbytes: int) -> None:
        """Account ``nbytes`` more for the entry at ``key`` (its pool probabilities were just computed)."""
        with self._lock:
            entry = self._data.get(key)
            if entry is not None:
                entry.nbytes += nbytes
                self.nbytes += nbytes
                self._evict()

    def _evict(self) -> None:
        # keep at least the newest entry, even if it alone exceeds the byte budget
        while len(self._data) > 1 and (len(self._data) > self.max_entries or self.nbytes > self.max_bytes):
            _, old = self._data.popitem(last=False)
            self.nbytes -= old.nbytes
            self.evictions += 1

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._data.clear()
            self.nbytes = self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def stats(self) -> dict[str, float]:
        """Counters as a dict: hits, misses, evictions, entries, mb (approximate), hit_rate."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
            "entries": len(self._data),
            "mb": round(self.nbytes / 2**20, 1),
            "hit_rate": self.hit_rate,
        }


_PROCESS_CACHE: ModelCache | None = None


def process_cache() -> ModelCache | None:
    """The worker process's shared cache, or None when disabled with ``ALGRID_CACHE=0``.

    Capacity comes from ``ALGRID_CACHE_SIZE`` (entries, default 256) and ``ALGRID_CACHE_MB`` (approximate
    megabytes of models and pool probabilities, default 1024), read once per process by :mod:`algrid.config`.
    """
    global _PROCESS_CACHE
    cfg = config.current()
    if not cfg.model_cache:
        return None
    if _PROCESS_CACHE is None:
        _PROCESS_CACHE = ModelCache(cfg.model_cache_entries, cfg.model_cache_mb)
    return _PROCESS_CACHE
