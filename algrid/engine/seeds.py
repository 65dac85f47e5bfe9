"""Every seed of an experiment, and why it depends on what it depends on.

Determinism: every random choice derives from a ``numpy.random.SeedSequence`` built from a blake2b hash of the
parts of the configuration that should influence it (never Python's ``hash``):

==================  ==========================================================  ============================
what                hashed parts                                                 why this set
==================  ==========================================================  ============================
train/test split    dataset, split, test_size                                    same split for every strategy
start set           dataset, split, test_size, initial_pool, start               same start for every strategy
learner seed        dataset, split, learner, seed                                identical labelled sets give
                                                                                 identical fits (exact cache)
pool order          dataset, split, test_size, seed                              position tie-breaks unbiased
strategy rng/seed   the setting (every dimension but strategy and                strategies that rank alike
                    implementation) + test_size + preprocessing + cycle          pick alike (fair randomness)
==================  ==========================================================  ============================

Fair randomness: the strategy's streams (``ctx.rng``, ``ctx.seed``, the global NumPy RNG seeded before each call)
never depend on the strategy's name or implementation, so two strategies that induce the same ranking break its
ties alike and a difference between them measures the strategy, not a random stream (see
``docs/implementations.md`` and :func:`strategy_setting`). The rule changed results of pairs that read those streams;
their exp_key carries :data:`algrid.strategies.seeding.SEEDING_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

import numpy as np

from algrid.results import key_dimensions

__all__ = [
    "canonical_json",
    "cycle_streams",
    "learner_seed_of",
    "seed_sequence",
    "seed_sequences",
    "strategy_setting",
]


_PLAIN = frozenset({str, int, float, bool})


def _canonical(value: Any) -> Any:
    """JSON-stable form of a configuration value (numpy ints and Python ints hash alike)."""
    if type(value) in _PLAIN:  # the common case, without the isinstance chain
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return str(value)


def canonical_json(parts: Any) -> str:
    """The canonical JSON of ``parts``: what a seed is hashed from, and so the key of every memo of seeded work
    (a tuple key would merge ``1``, ``1.0`` and ``True``, which hash to different seeds)."""
    return json.dumps([_canonical(p) for p in parts], separators=(",", ":"))


def seed_sequence(*parts: Any) -> np.random.SeedSequence:
    """A SeedSequence from a stable blake2b hash of ``parts`` (same parts -> same seed in any process)."""
    digest = hashlib.blake2b(canonical_json(parts).encode("utf-8"), digest_size=16).digest()
    return np.random.SeedSequence(int.from_bytes(digest, "little"))


def seed_sequences(parts: list[Any], counters: range) -> list[np.random.SeedSequence]:
    """``[seed_sequence(*parts, c) for c in counters]``, hashing the shared prefix once (one per cycle)."""
    return _seed_sequences(canonical_json(parts), counters)


def _seed_sequences(head: str, counters: range) -> list[np.random.SeedSequence]:
    prefix = hashlib.blake2b((head[:-1] + ("," if head != "[]" else "")).encode("utf-8"), digest_size=16)
    out = []
    for c in counters:
        h = prefix.copy()
        h.update(f"{int(c)}]".encode())
        out.append(np.random.SeedSequence(int.from_bytes(h.digest(), "little")))
    return out


@lru_cache(maxsize=256)
def cycle_streams(head: str, n_cycles: int) -> tuple[tuple[int, np.random.SeedSequence], ...]:
    """Per cycle 1..n_cycles: the strategy's int seed and the SeedSequence of its generator.

    They are ``seed_sequence("strategy", *setting, cycle).spawn(2)``'s two children, built directly
    (``SeedSequence(entropy, spawn_key=(i,))``, what spawn builds, without its bookkeeping). Memoised because every
    strategy of a setting gets the same streams (fair randomness) and a SeedSequence costs ~8 µs to build: three
    per cycle were a tenth of a small learner's cycle.
    """
    out = []
    for ss in _seed_sequences(head, range(1, n_cycles + 1)):
        seed_ss = np.random.SeedSequence(ss.entropy, spawn_key=(0,))
        out.append((_int_seed(seed_ss), np.random.SeedSequence(ss.entropy, spawn_key=(1,))))
    return tuple(out)


@lru_cache(maxsize=256)
def learner_seed_of(dataset: str, split: int, learner: str, seed: int) -> int:
    """The learner's seed: one per (dataset, split, learner, seed), so equal labelled sets give equal fits."""
    return _int_seed(seed_sequence("learner", dataset, split, learner, seed))


def strategy_setting(config: dict[str, Any], test_size: float, preprocessing: str) -> list[Any]:
    """What a strategy's random streams derive from (plus the cycle): the setting, never the strategy or its
    implementation, so strategies that rank alike break ties alike (docs/implementations.md, "Fair randomness")."""
    # an optional dimension (query_learner) counts only when set: unset, the streams are those from before it
    return [config[d] for d in key_dimensions(config) if d not in _NOT_IN_STRATEGY_SEED] + [
        test_size,
        preprocessing,
    ]


_NOT_IN_STRATEGY_SEED = frozenset({"strategy", "implementation"})


def _int_seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint32)[0])
