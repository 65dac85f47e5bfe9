"""Which *version* of a named thing an experiment used: the part of ``exp_key`` that names alone cannot give.

Why: a name is not an identity. ``file:data.csv#y`` with shuffled labels, a plugin strategy after an edit, or two
grids that define learner ``et`` differently would otherwise get the same key, and a resumed run would silently
reuse results of the old version. Built-in names have no version (their keys never change); everything else does:

=================  ==========================================================================
dimension value    version
=================  ==========================================================================
plugin strategy    the plugin's version (distribution version, or a hash of its source)
plugin impl.       the versions of every plugin that registered it or pairs in it
plugin learner     the plugin's version
grid learner       ``def-<hash>`` of its class path and parameters (``learners:`` section)
plugin dataset     the plugin's version
``file:`` dataset  ``sha-<hash>`` of the file's bytes
``openml:<id>``    ``v<version>-<md5>`` from the cached OpenML description
=================  ==========================================================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from algrid import plugins

__all__ = ["file_content_hash", "plugins_of", "value_version", "versions_of"]


def versions_of(
    config: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> dict[str, str | None]:
    """The version of every dimension value of one configuration (for the scalar exp_key)."""
    return {d: value_version(d, v, settings) for d, v in config.items()}


def value_version(dim: str, value: Any, settings: Mapping[str, Any] | None = None) -> str | None:
    """The version of ``value`` in dimension ``dim`` (None: a built-in, unversioned value)."""
    if dim == "strategy":
        return _joined(p.version for p in _owners_of_strategy(str(value)))
    if dim == "implementation":
        return _implementation_version(str(value))
    if dim in ("learner", "query_learner"):  # a query learner is versioned like the learner it names
        defined = (settings or {}).get("learners") or {}
        if value in defined:
            from algrid.learners.defined import definition_version

            return definition_version(defined[value])
        owner = plugins.owner_of("learner", str(value))
        return owner.version if owner else None
    if dim == "dataset":
        return _dataset_version(str(value))
    return None


def plugins_of(config: Mapping[str, Any]) -> list[plugins.Plugin]:
    """The plugins that registered a value ``config`` uses (its strategy pair, implementation, learners, dataset),
    in a stable order: what a run's version manifest names."""
    strategy, impl = str(config.get("strategy")), str(config.get("implementation"))
    wanted = [
        ("strategy", f"{strategy}@{impl}"),
        ("implementation", impl),
        ("learner", str(config.get("learner"))),
        ("learner", str(config.get("query_learner"))),
        ("dataset", str(config.get("dataset"))),
    ]
    found = {id(p): p for kind, name in wanted if (p := plugins.owner_of(kind, name)) is not None}
    return sorted(found.values(), key=lambda p: (p.distribution or p.module, p.version))


def _joined(versions: Any) -> str | None:
    unique = sorted(set(versions))
    return "+".join(unique) if unique else None


def _owners_of_strategy(name: str) -> list[plugins.Plugin]:
    from algrid.strategies import builtin_strategy_names

    if name in builtin_strategy_names():
        return []
    return [p for (kind, n), p in plugins._OWNERS.items() if kind == "strategy" and n.split("@")[0] == name]


def _implementation_version(impl: str) -> str | None:
    from algrid.strategies import IMPLEMENTATIONS

    if impl in IMPLEMENTATIONS:
        return None
    owners = [p for (kind, n), p in plugins._OWNERS.items() if (kind, n) == ("implementation", impl)]
    owners += [p for (kind, n), p in plugins._OWNERS.items() if kind == "strategy" and n.endswith(f"@{impl}")]
    return _joined(p.version for p in owners)


def _dataset_version(name: str) -> str | None:
    if name.startswith("file:"):
        from algrid.datasets.userfile import parse

        path, _ = parse(name)
        return "sha-" + file_content_hash(path)
    if name.startswith("openml:"):
        return _openml_version(name)
    owner = plugins.owner_of("dataset", name)
    return owner.version if owner else None


def file_content_hash(path: str | Path) -> str:
    """16-hex blake2b of a file's bytes, cached by (path, size, mtime) so a grid of thousands hashes it once."""
    p = Path(path).expanduser().resolve()
    st = p.stat()
    return _hash_file(str(p), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _hash_file(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _openml_version(name: str) -> str | None:
    from algrid.datasets import openml

    try:
        folder = openml.cache_dir(name)
        desc = openml._description(folder)
    except (OSError, ValueError, KeyError):
        return None
    version = desc.get("version", "?")
    md5 = str(desc.get("md5_checksum") or "")[:12]
    if not md5:
        data = folder / "data.parquet"
        if not data.is_file():
            data = folder / "data.arff"
        md5 = file_content_hash(data)[:12] if data.is_file() else "nochecksum"
    return f"v{version}-{md5}"
