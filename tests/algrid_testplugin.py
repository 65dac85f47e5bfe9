"""Test-only strategies, registered when ALGRID_PLUGINS=algrid_testplugin (and tests/ is on PYTHONPATH).

The runner imports ALGRID_PLUGINS modules in the parent and in every worker process, so these strategies exist
wherever an experiment runs. They let tests provoke the runner's failure paths with real AL loops:
t_sleep sleeps past any time limit, t_boom raises, t_hog allocates memory beyond a cap; for the worker-process tests:
t_exit calls os._exit(3), t_segv dereferences NULL, t_sysexit raises SystemExit(5), t_bigerr raises a 5 MB message,
t_spawn starts a child process and hangs, t_grow allocates 8 MiB blocks until it hits the memory cap.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time

import numpy as np

from algrid.strategies import _registry
from algrid.strategies.base import QueryContext, StrategySpec


def _note(var: str, text: str) -> None:
    """Append a line to the file named by environment variable ``var`` (if set): how tests see inside a worker."""
    path = os.environ.get(var)
    if path:
        with open(path, "a") as fh:
            fh.write(text + "\n")


def _sleep(ctx: QueryContext) -> np.ndarray:
    _note("ALGRID_TEST_SLEEP_MARK", str(os.getpid()))
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


def _exit(ctx: QueryContext) -> np.ndarray:
    os._exit(3)


def _segv(ctx: QueryContext) -> np.ndarray:
    ctypes.string_at(0)
    return np.arange(ctx.batch_size)


def _sysexit(ctx: QueryContext) -> np.ndarray:
    sys.exit(5)


def _bigerr(ctx: QueryContext) -> np.ndarray:
    raise ValueError("x" * 5_000_000)


def _spawn(ctx: QueryContext) -> np.ndarray:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
    _note("ALGRID_TEST_PIDFILE", str(child.pid))
    time.sleep(1000)
    return np.arange(ctx.batch_size)


def _grow(ctx: QueryContext) -> np.ndarray:
    blocks = []
    while True:  # until the memory cap stops it with MemoryError
        blocks.append(np.ones(2**20, dtype=np.float64))  # 8 MiB, touched
        _note("ALGRID_TEST_GROW_FILE", str(8 * len(blocks)))


for _name, _fn in (
    ("t_sleep", _sleep),
    ("t_boom", _boom),
    ("t_hog", _hog),
    ("t_exit", _exit),
    ("t_segv", _segv),
    ("t_sysexit", _sysexit),
    ("t_bigerr", _bigerr),
    ("t_spawn", _spawn),
    ("t_grow", _grow),
):
    _registry()[(_name, "native")] = StrategySpec(
        name=_name, implementation="native", select=_fn, needs_proba=False
    )
