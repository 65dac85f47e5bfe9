"""The version manifest of a run: which Python, libraries, plugins and forest code produced its results.

Why: an ``exp_key`` names *what* was computed, not *with what*. A scikit-activeml fix once changed which samples
Badge picks for the same seed, and a failing fast-forest self-check silently switched to scikit-learn's forest.
Recording the software of every run (in the process that ran it: a Dask worker or a SLURM node may differ from
the machine that writes the store) lets ``status`` and ``store verify`` say when a store mixes versions, and lets
every query separate them (``--where "sklearn_version = '1.8.0'"``).
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import metadata
from typing import Any

from algrid.results import MANIFEST_COLUMNS

__all__ = ["MANIFEST_COLUMNS", "forest_code", "process_versions", "run_manifest"]


@lru_cache(maxsize=1)
def process_versions() -> dict[str, str]:
    """Python, NumPy, SciPy and scikit-learn versions of this process (fixed for its lifetime)."""
    import numpy
    import scipy
    import sklearn

    return {
        "python_version": platform.python_version(),
        "numpy_version": numpy.__version__,
        "scipy_version": scipy.__version__,
        "sklearn_version": sklearn.__version__,
    }


@lru_cache(maxsize=64)
def _distribution_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _library_version(library: str) -> str | None:
    if library == "algrid":
        from algrid import __version__

        return __version__
    return _distribution_version(library)


def _library_of(config: Mapping[str, Any]) -> str | None:
    """The distribution behind the run's implementation (None: algrid's own code)."""
    from algrid.strategies import get_strategy, implementation_library

    impl = str(config.get("implementation"))
    try:
        library = get_strategy(str(config.get("strategy")), impl).library
    except (KeyError, ValueError):
        library = ""
    return library or implementation_library(impl) or None


def forest_code(fast_flags: Iterable[bool]) -> str | None:
    """``fast``/``stock`` (or ``fast+stock``) from the per-fit flags of the run's forests; None: no forest."""
    seen = set(fast_flags)
    if not seen:
        return None
    return "+".join(name for flag, name in ((True, "fast"), (False, "stock")) if flag in seen)


def run_manifest(config: Mapping[str, Any], forest: str | None = None) -> dict[str, str | None]:
    """The MANIFEST_COLUMNS of one run of ``config`` in this process."""
    from algrid.provenance import plugins_of

    library = _library_of(config)
    plugins = plugins_of(config)
    manifest: dict[str, str | None] = {
        **process_versions(),
        "al_library": library,
        "al_library_version": _library_version(library) if library else None,
        "plugin_versions": ";".join(f"{p.distribution or p.module}=={p.version}" for p in plugins) or None,
        "forest": forest,
    }
    return {c: manifest[c] for c in MANIFEST_COLUMNS}
