"""Which version of the strategy-seeding rule an experiment's result depends on (it enters ``exp_key``).

Fair randomness (docs/implementations.md): every random stream a strategy sees derives from the setting and the
cycle, never from the strategy's name or implementation (:func:`algrid.engine.seeds.strategy_setting`). Before
this rule the streams also hashed the (strategy, implementation) pair, so identical rankings (least confidence,
margin and entropy on binary data) broke their ties differently. The change altered the results of exactly the
pairs whose selections read those streams (``StrategySpec.uses_rng``); their ``implementation`` value is hashed
with :data:`SEEDING_VERSION`, so a store never mixes results of the two rules. Pairs that never read a stream
(the position-tie-broken scorers) give the same bytes under both rules and keep their keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SEEDING_VERSION", "implementation_version", "joined_version", "key_versions"]

#: Version of the strategy-seeding rule; bump it (e.g. "seeds-3") if the rule changes results again.
SEEDING_VERSION = "seeds-2"


def implementation_version(implementation: str, strategy: str) -> str | None:
    """The seeding version this experiment's result depends on (hashed with its ``implementation`` value in
    ``exp_key``), or None (the key it had before the rule). Only built-in pairs existed under the old rule, so
    pairs that plugins add carry none (their own versions identify them); a built-in implementation's pair that is
    no longer registered is treated as seeded."""
    from algrid.strategies import IMPLEMENTATIONS, _builtin, get_strategy

    if implementation not in IMPLEMENTATIONS:
        return None
    try:
        spec = get_strategy(str(strategy), str(implementation))
    except KeyError:
        return SEEDING_VERSION
    if not _builtin(spec):
        return None
    return SEEDING_VERSION if spec.uses_rng else None


def joined_version(*versions: str | None) -> str | None:
    """Several versions of one value as one string ("a+b"), None when there are none."""
    present = [v for v in versions if v]
    return "+".join(present) if present else None


def key_versions(
    config: Mapping[str, Any], versions: Mapping[str, str | None] | None = None
) -> dict[str, str | None]:
    """``versions`` (per dimension, e.g. :func:`algrid.provenance.versions_of`) with this experiment's seeding
    version folded into its ``implementation`` entry: the ``versions`` argument of :func:`algrid.identity.exp_key`."""
    out = dict(versions or {})
    out["implementation"] = joined_version(
        out.get("implementation"), implementation_version(config["implementation"], config["strategy"])
    )
    return out
