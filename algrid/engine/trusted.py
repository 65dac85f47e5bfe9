"""What scikit-learn need not check again when the loop fits and predicts.

scikit-learn validates an estimator's constructor parameters on every ``fit`` and scans its input for NaN and
infinity on every ``fit`` and ``predict``: 0.1-0.2 ms a cycle, 6-10 % of the CPU of a small learner's experiment
(benchmarks/BENCHMARKS.md, section 14). The loop makes both checks once instead:

* the parameters of algrid's built-in learners are constants, checked by scikit-learn in
  ``tests/test_trusted.py``; plugin and grid-defined learners keep scikit-learn's check on every fit, since their
  factories may build anything;
* a dataset's rows are scanned for NaN and infinity once per dataset and process. Preprocessing imputes and
  refuses infinities, but a plugin's source may return anything; a dataset that fails the scan keeps
  scikit-learn's check, and so its error message.

Skipping a check changes no computation, so results are byte-identical (``tests/test_learners_identity.py``).
The contexts cover only the loop's own learner calls: strategies call scikit-learn with its defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache, partial
from typing import Any

import numpy as np

from algrid.learners import BUILTIN_LEARNERS

__all__ = ["trusted_calls"]


@lru_cache(maxsize=128)
def _all_finite(dataset: str) -> bool:
    from algrid.datasets import load_dataset

    return bool(np.isfinite(load_dataset(dataset).X).all())


class _Skipped:
    """``sklearn.config_context(**options)`` without its generator machinery, at half its cost: the loop enters
    one or two per cycle."""

    __slots__ = ("get_config", "options", "saved", "set_config")

    def __init__(self, options: dict[str, bool], get_config: Callable, set_config: Callable) -> None:
        self.options, self.get_config, self.set_config = options, get_config, set_config
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        current = self.get_config()
        self.saved = {k: current[k] for k in self.options}
        self.set_config(**self.options)

    def __exit__(self, *exc: object) -> None:
        self.set_config(**self.saved)


def trusted_calls(learner: str, dataset: str) -> Callable[[], AbstractContextManager]:
    """A factory of the context the loop wraps its fit/predict calls of ``learner`` on ``dataset`` in."""
    options = {}
    if learner in BUILTIN_LEARNERS:
        options["skip_parameter_validation"] = True
    if _all_finite(dataset):
        options["assume_finite"] = True
    if not options:
        return nullcontext
    from sklearn import get_config, set_config

    return partial(_Skipped, options, get_config, set_config)
