"""One BLAS/OpenMP thread for every learner: parallelism is across experiments, and nested pools on a busy machine
made small k-means/kNN/L-BFGS calls 10-20x slower in measurements."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext

from threadpoolctl import ThreadpoolController

__all__ = ["hold_one_thread", "one_thread"]


_THREADPOOLS: ThreadpoolController | None = None
_MODULES_SEEN = -1  # len(sys.modules) when the controller was built


def _load_native_pools() -> None:
    """Load the BLAS and OpenMP runtimes learners use, so that the controller sees (and limits) them.

    Why: threadpoolctl only limits libraries already loaded. In a fresh process whose first call is
    run_experiment, SciPy (its own OpenBLAS, not NumPy's) and scikit-learn's OpenMP runtime are imported inside the
    loop, after the limit was set, and kept their default thread counts for the whole process.
    """
    import scipy.linalg  # noqa: F401 - SciPy's OpenBLAS
    from sklearn.utils import _openmp_helpers  # noqa: F401 - scikit-learn's OpenMP runtime


_HELD = False  # hold_one_thread() was called: the limit stays for the process's lifetime


def hold_one_thread() -> None:
    """Limit BLAS/OpenMP pools to one thread for the rest of this process.

    For algrid's own worker processes, which only run experiments: ``run_experiment`` then neither sets nor
    restores the limit around each experiment (~0.1 ms each, a few % of a small learner's experiment). Anywhere
    else (the Python API, a user's process) the limit is set per experiment and restored after it.
    """
    global _HELD
    _HELD = True
    one_thread()


def one_thread() -> AbstractContextManager:
    """Limit BLAS/OpenMP pools to one thread. The controller (a scan of every loaded library, ~2 ms) is built once
    per process and again only when modules were imported since (they may have loaded another runtime)."""
    global _THREADPOOLS, _MODULES_SEEN
    if _THREADPOOLS is None:
        _load_native_pools()
    if _THREADPOOLS is None or len(sys.modules) != _MODULES_SEEN:
        _THREADPOOLS = ThreadpoolController()
        _MODULES_SEEN = len(sys.modules)
        if _HELD:
            _THREADPOOLS.limit(limits=1)  # never restored: held for the process
    return nullcontext() if _HELD else _THREADPOOLS.limit(limits=1)
