"""Process configuration: every ``ALGRID_*`` environment variable is read here, once, into one typed object.

Why one place: settings read deep inside modules are invisible to users and easy to get wrong (``ALGRID_CACHE=0``
once turned the model cache off *and* moved the OpenML cache to ``./0/openml``). The CLI's flags and the grid file's
keys override these values (see the table in docs/ARCHITECTURE.md); worker processes inherit the environment, so
what the parent exports with :func:`export` is what every worker reads.

==========================  ==================================================  ================================
variable                    meaning (default)                                   CLI flag / grid key
==========================  ==================================================  ================================
ALGRID_CACHE                per-process model cache on/off (on); a path is      --no-cache (``algrid experiment``)
                            accepted for backwards compatibility and read as
                            ALGRID_CACHE_DIR
ALGRID_CACHE_SIZE           model cache capacity in entries (256)               -
ALGRID_CACHE_MB             model cache capacity in megabytes (1024)            -
ALGRID_CACHE_DIR            data cache root (~/.cache/algrid): OpenML copies    -
ALGRID_FAST_FOREST          0 = scikit-learn's own forest code for ``rf`` (1)   -
ALGRID_PLUGINS              comma-separated plugin modules or .py files         --plugins / ``plugins:``
ALGRID_NO_ZYGOTE            1 = start workers as fresh interpreters (0)         -
ALGRID_DUCKDB_THREADS       DuckDB threads for queries (min(2, CPUs))           -
ALGRID_DUCKDB_MEMORY        DuckDB memory limit for queries (4GB)               -
==========================  ==================================================  ================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from algrid.errors import AlgridError

__all__ = ["Config", "ConfigError", "available_cpus", "current", "export", "reload", "set_current"]

_FALSE = frozenset({"0", "false", "no", "off"})
_TRUE = frozenset({"1", "true", "yes", "on"})


class ConfigError(AlgridError):
    """An environment variable holds a value algrid cannot use (one line naming it)."""


@dataclass(frozen=True)
class Config:
    """Everything a process may be told from outside a grid file."""

    model_cache: bool = True
    model_cache_entries: int = 256
    model_cache_mb: float = 1024.0
    data_cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "algrid")
    fast_forest: bool = True
    plugins: tuple[str, ...] = ()
    zygote: bool = True
    duckdb_threads: int = 2
    duckdb_memory: str = "4GB"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Parse ``environ`` (default: ``os.environ``); a bad value raises ConfigError naming the variable."""
        env = os.environ if environ is None else environ
        cache_raw = env.get("ALGRID_CACHE", "").strip()
        model_cache = True
        data_dir = env.get("ALGRID_CACHE_DIR", "").strip()
        if cache_raw:
            if cache_raw.lower() in _FALSE | _TRUE:
                model_cache = cache_raw.lower() in _TRUE
            elif not data_dir:  # the old meaning of ALGRID_CACHE: a directory
                data_dir = cache_raw
        return cls(
            model_cache=model_cache,
            model_cache_entries=_int(env, "ALGRID_CACHE_SIZE", 256, minimum=0),
            model_cache_mb=_float(env, "ALGRID_CACHE_MB", 1024.0),
            data_cache_dir=Path(data_dir).expanduser() if data_dir else Path.home() / ".cache" / "algrid",
            fast_forest=_bool(env, "ALGRID_FAST_FOREST", True),
            plugins=tuple(p.strip() for p in env.get("ALGRID_PLUGINS", "").split(",") if p.strip()),
            zygote=not _bool(env, "ALGRID_NO_ZYGOTE", False),
            duckdb_threads=_int(env, "ALGRID_DUCKDB_THREADS", min(2, available_cpus()), minimum=1),
            duckdb_memory=env.get("ALGRID_DUCKDB_MEMORY", "4GB").strip() or "4GB",
        )

    def environ(self) -> dict[str, str]:
        """The environment variables that make a child process read this configuration."""
        out = {
            "ALGRID_CACHE": "1" if self.model_cache else "0",
            "ALGRID_CACHE_SIZE": str(self.model_cache_entries),
            "ALGRID_CACHE_MB": repr(self.model_cache_mb),
            "ALGRID_CACHE_DIR": str(self.data_cache_dir),
            "ALGRID_FAST_FOREST": "1" if self.fast_forest else "0",
            "ALGRID_PLUGINS": ",".join(self.plugins),
            "ALGRID_DUCKDB_THREADS": str(self.duckdb_threads),
            "ALGRID_DUCKDB_MEMORY": self.duckdb_memory,
        }
        if not self.zygote:
            out["ALGRID_NO_ZYGOTE"] = "1"
        return out

    def with_plugins(self, plugins: tuple[str, ...] | list[str]) -> Config:
        """This configuration plus more plugins (duplicates dropped, order kept)."""
        merged = tuple(dict.fromkeys([*self.plugins, *plugins]))
        return replace(self, plugins=merged)


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"environment: {name}: expected 0 or 1, got {raw[:40]!r}")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment: {name}: expected an integer, got {raw[:40]!r}") from None
    if value < minimum:
        raise ConfigError(f"environment: {name}: expected an integer >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"environment: {name}: expected a number, got {raw[:40]!r}") from None
    if not 0 <= value < float("inf"):
        raise ConfigError(f"environment: {name}: expected a finite number >= 0, got {raw[:40]!r}")
    return value


def available_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2/v1 CPU quota (a SLURM task's share).

    Why not ``os.cpu_count()``: on a cluster node it counts every core, while the task was given a few; running one
    worker per core of the node would oversubscribe the task's CPUs.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        n = min(n, max(1, int(quota + 0.5)))
    return max(1, n)


def _cgroup_cpu_quota() -> float | None:
    """CPU quota of this process's cgroup in CPUs (None when unlimited or unknown)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hier, controllers, rel = parts
        rel = rel.lstrip("/")
        if hier == "0":  # cgroup v2: cpu.max in this cgroup or an ancestor
            path = Path("/sys/fs/cgroup") / rel
            while True:
                quota = _read_cpu_max(path / "cpu.max")
                if quota is not None:
                    return quota
                if path == Path("/sys/fs/cgroup") or path.parent == path:
                    return None
                path = path.parent
        if "cpu" in controllers.split(","):  # cgroup v1
            base = Path("/sys/fs/cgroup/cpu,cpuacct")
            if not base.is_dir():
                base = Path("/sys/fs/cgroup/cpu")
            for d in (base / rel, base):
                try:
                    q = int((d / "cpu.cfs_quota_us").read_text())
                    p = int((d / "cpu.cfs_period_us").read_text())
                except (OSError, ValueError):
                    continue
                return q / p if q > 0 and p > 0 else None
    return None


def _read_cpu_max(path: Path) -> float | None:
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


_CURRENT: Config | None = None


def current() -> Config:
    """This process's configuration (parsed from the environment at first use, then kept)."""
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = Config.from_environ()
    return _CURRENT


def reload() -> Config:
    """Re-read the environment (tests that change variables call this; workers start with a fresh read)."""
    global _CURRENT
    _CURRENT = None
    return current()


def set_current(config: Config) -> None:
    """Make ``config`` this process's configuration (the CLI applies its flags this way)."""
    global _CURRENT
    _CURRENT = config


def export(config: Config | None = None) -> None:
    """Write ``config`` (default: the current one) to ``os.environ`` so child processes read the same."""
    cfg = config or current()
    for name in ("ALGRID_NO_ZYGOTE",):
        os.environ.pop(name, None)
    os.environ.update(cfg.environ())
    set_current(cfg)
