"""The fitted cost laws of ``algrid grid estimate`` (shipped in ``algrid/cost/calibration.json``, measured by
``benchmarks/calibrate.py``) and the correction factors a result store adds to them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from algrid.errors import AlgridError

__all__ = ["CALIBRATION_FILE", "DEFAULT_STRATEGY", "Calibration"]


CALIBRATION_FILE = "calibration.json"
#: A conservative stand-in for strategy pairs without measurements (an uncertainty sampler's cost).
DEFAULT_STRATEGY: dict[str, float] = {"a": 2e-4, "b": 5e-8, "p": 1.0, "batch": 0.0, "d": 0.0, "k": 1.0}


@dataclass
class Calibration:
    """Fitted cost laws (CPU seconds) plus correction factors from a store, if any."""

    learners: dict[str, dict[str, Any]]
    strategies: dict[str, dict[str, Any]]
    overhead: dict[str, float] = field(default_factory=lambda: {"per_cycle": 5e-4, "per_experiment": 0.01})
    scale: float = 1.0
    learner_scale: dict[str, float] = field(default_factory=dict)
    strategy_scale: dict[str, float] = field(default_factory=dict)
    source: str = "shipped"
    machine: dict[str, Any] = field(default_factory=dict)
    default_strategy: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STRATEGY))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str) -> Calibration:
        try:
            return cls(
                learners=dict(doc["learners"]),
                strategies=dict(doc.get("strategies", {})),
                overhead=dict(doc.get("overhead", {"per_cycle": 5e-4, "per_experiment": 0.01})),
                scale=float(doc.get("scale", 1.0)),
                learner_scale={k: float(v) for k, v in doc.get("learner_scale", {}).items()},
                strategy_scale={k: float(v) for k, v in doc.get("strategy_scale", {}).items()},
                source=source,
                machine=dict(doc.get("machine", {})),
                default_strategy=dict(doc.get("default_strategy", DEFAULT_STRATEGY)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AlgridError(
                f"{source}: not an algrid calibration file ({type(exc).__name__}: {exc})"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "learners": self.learners,
            "strategies": self.strategies,
            "overhead": self.overhead,
            "scale": self.scale,
            "learner_scale": self.learner_scale,
            "strategy_scale": self.strategy_scale,
            "machine": self.machine,
            "default_strategy": self.default_strategy,
        }

    # ------------------------------------------------------------------------------------------- cost laws
    def _learner(self, name: str) -> dict[str, Any]:
        if name in self.learners:
            return self.learners[name]
        scaled = _scaled_from_lr(self.learners, name)
        if scaled is not None:  # a plugin or grid-defined learner: lr's law times its relative cost
            return scaled
        try:
            return self.learners[name]
        except KeyError:
            raise AlgridError(
                f"calibration {self.source}: no cost model for learner {name!r} "
                f"(known: {', '.join(sorted(self.learners))}); run benchmarks/calibrate.py --learners {name}"
            ) from None

    def fit_s(self, learner: str, n: np.ndarray, d: float, k: float) -> np.ndarray:
        """CPU seconds to fit ``learner`` on n labelled rows."""
        law = self._learner(learner)["fit"]
        n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
        return law["a"] + law["b"] * n ** law["n"] * d ** law["d"] * k ** law["k"]

    def predict_s(self, learner: str, m: np.ndarray | float, n: np.ndarray, d: float) -> np.ndarray:
        """CPU seconds to predict m rows with a model fitted on n rows."""
        law = self._learner(learner)["predict"]
        n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
        per_row = law["a"] + law["b"] * n ** law["n"] * d ** law["d"]
        return law.get("call", 0.0) + np.asarray(m, dtype=np.float64) * per_row

    def strategy(self, pair: str) -> tuple[dict[str, Any], bool]:
        """(law, calibrated?) of a ``strategy@implementation`` pair."""
        if pair in self.strategies:
            return self.strategies[pair], True
        return self.default_strategy, False

    def query_s(
        self,
        pair: str,
        pool: np.ndarray,
        batch: np.ndarray,
        d: float,
        k: float,
        labeled: np.ndarray | None = None,
    ) -> np.ndarray:
        """CPU seconds of the strategy's own scoring (without model fits/predictions it makes)."""
        law, _ = self.strategy(pair)
        pool = np.maximum(np.asarray(pool, dtype=np.float64), 1.0)
        if law.get("pool_max"):  # the implementation scores a sub-sample of at most pool_max rows
            pool = np.minimum(pool, float(law["pool_max"]))
        if law.get("labeled_in_pool") and labeled is not None:  # it also works on every labelled row
            pool = pool + np.asarray(labeled, dtype=np.float64)
        batch = np.maximum(np.asarray(batch, dtype=np.float64), 1.0)
        return law["a"] + law["b"] * pool ** law["p"] * batch ** law["batch"] * d ** law["d"] * k ** law.get(
            "k", 0.0
        )


def _shipped() -> dict[str, Any]:
    text = resources.files("algrid.cost").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _scaled_from_lr(laws: dict[str, Any], name: str) -> dict[str, Any] | None:
    """An uncalibrated learner's cost law: ``lr``'s fit and predict laws scaled by its relative cost."""
    from algrid.learners import BUILTIN_LEARNERS, relative_cost

    factor = relative_cost(name)
    if name in BUILTIN_LEARNERS or factor is None or "lr" not in laws:  # built-in learners must be calibrated
        return None
    out: dict[str, Any] = {}
    for part, law in laws["lr"].items():
        if isinstance(law, dict):
            out[part] = {k: (v * factor if k in ("a", "b", "call") else v) for k, v in law.items()}
        else:
            out[part] = law
    return out
