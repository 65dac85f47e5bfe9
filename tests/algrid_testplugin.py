"""Test-only strategies, registered when ALGRID_PLUGINS=algrid_testplugin (and tests/ is on PYTHONPATH).

The runner imports ALGRID_PLUGINS modules in the parent and in every worker process, so these strategies exist
wherever an experiment runs. They let tests provoke the runner's failure paths with real AL loops:
t_sleep sleeps past any time limit, t_boom raises, t_hog allocates memory beyond a cap.
"""

from __future__ import annotations

import os
import time

import numpy as np

from algrid.strategies import _registry
from algrid.strategies.base import QueryContext, StrategySpec


def _sleep(ctx: QueryContext) -> np.ndarray:
    time.sleep(float(os.environ.get("ALGRID_TEST_SLEEP", "1000")))
    return np.arange(ctx.batch_size)


def _boom(ctx: QueryContext) -> np.ndarray:
    raise ValueError("boom from the test plugin")


def _hog(ctx: QueryContext) -> np.ndarray:
    block = np.ones(
        int(os.environ.get("ALGRID_TEST_HOG_MB", "1500")) * 2**20 // 8
    )  # touched: really resident
    time.sleep(float(os.environ.get("ALGRID_TEST_SLEEP", "30")))
    return np.arange(ctx.batch_size) + int(block[0]) - 1


for _name, _fn in (("t_sleep", _sleep), ("t_boom", _boom), ("t_hog", _hog)):
    _registry()[(_name, "native")] = StrategySpec(
        name=_name, implementation="native", select=_fn, needs_proba=False
    )
