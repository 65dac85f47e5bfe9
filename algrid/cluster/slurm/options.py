"""Validated sbatch settings: every value that reaches an sbatch script is checked here first.

Why validate instead of passing values through: the script is shell, and `#SBATCH` lines are parsed by sbatch
itself, so a `--mem` of ``4G\\n#SBATCH --exclusive`` or a partition of ``$(id)`` would be code. Checking the
SLURM formats up front also turns a typo into one usage error naming the option (exit code 2) before anything is
written, rather than 1000 failed array tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from algrid.cluster.slurm.errors import SlurmConfigError

_TIME_RE = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")
_MEM_RE = re.compile(r"^(\d+)(?:([KMGT])B?)?$", re.IGNORECASE)
_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,64}(?:,[A-Za-z0-9_.+-]{1,64})*$")


def validate_time(value: str) -> str:
    """SLURM time limit: HH:MM:SS, MM:SS, MM, D-HH, D-HH:MM, D-HH:MM:SS (minutes/seconds < 60) or UNLIMITED."""
    text = str(value).strip()
    if text.lower() in ("unlimited", "infinite"):
        return text.upper()
    m = _TIME_RE.match(text)
    bad = SlurmConfigError(
        f"--time: invalid SLURM time limit {value!r} (use HH:MM:SS, MM:SS, minutes, or D-HH[:MM[:SS]])"
    )
    if not m:
        raise bad
    days, a, b, c = m.groups()
    parts = [int(x) for x in (a, b, c) if x is not None]
    if days is None:
        # MM | MM:SS | HH:MM:SS : every field after the first is < 60
        if any(p >= 60 for p in parts[1:]):
            raise bad
    else:
        # D-HH | D-HH:MM | D-HH:MM:SS : hours < 24, minutes/seconds < 60
        if parts[0] >= 24 or any(p >= 60 for p in parts[1:]):
            raise bad
    if not any(int(x) for x in (days or "0", a, b or "0", c or "0")):
        raise SlurmConfigError(f"--time: time limit {value!r} is zero")
    return text


def validate_mem(value: str) -> str:
    """SLURM memory per node: an integer with an optional K/M/G/T (or KB/MB/GB/TB) suffix; default unit MB."""
    text = str(value).strip()
    m = _MEM_RE.match(text)
    if not m:
        raise SlurmConfigError(
            f"--mem: invalid memory {value!r} (an integer with optional K, M, G or T suffix, e.g. 4G)"
        )
    return f"{int(m.group(1))}{(m.group(2) or '').upper()}"


def validate_name(option: str, value: str) -> str:
    """Partition/account names: letters, digits, '_', '.', '+', '-' (a comma-separated list for partitions)."""
    text = str(value).strip()
    if not _NAME_RE.match(text) or (option == "--account" and "," in text):
        raise SlurmConfigError(f"{option}: invalid name {value!r} (letters, digits, '_', '.', '+', '-')")
    return text


def validate_positive(option: str, value: Any) -> int:
    """A count (shards, CPUs, workers): an integer >= 1 written as one, so ``True`` or ``"2.0"`` are refused."""
    if isinstance(value, bool):
        raise SlurmConfigError(f"{option}: must be a positive integer, got {value!r}")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise SlurmConfigError(f"{option}: must be a positive integer, got {value!r}") from None
    if n < 1 or str(n) != str(value).strip():
        raise SlurmConfigError(f"{option}: must be a positive integer, got {value!r}")
    return n


def check_path(option: str, path: Path) -> str:
    """Paths reach the script shell-quoted; control characters (a newline ends a line) are refused outright."""
    text = str(path)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise SlurmConfigError(f"{option}: path {text!r} contains a newline or control character")
    return text


def directive_path(option: str, directory: Path, filename: str) -> str:
    """``directory/filename`` for an #SBATCH directive, which sbatch parses itself: double quotes, and a literal %
    in the directory doubled (filename may use the %A/%a patterns)."""
    text = check_path(option, directory)
    if '"' in text or "\\" in text:
        raise SlurmConfigError(
            f"{option}: path {text!r} contains a double quote or backslash, which #SBATCH cannot hold"
        )
    return '"' + text.replace("%", "%%") + "/" + filename + '"'


@dataclass(frozen=True)
class SlurmOptions:
    """Validated sbatch settings for one array job (None = the cluster's default)."""

    partition: str | None = None
    time: str | None = None
    mem: str | None = None
    cpus_per_task: int = 1
    max_parallel: int | None = None
    account: str | None = None
    setup: tuple[str, ...] = ()
    jobs: int | None = None  # `algrid run --jobs`; default cpus_per_task
    retry_failed: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.partition is not None:
            set_(self, "partition", validate_name("--partition", self.partition))
        if self.account is not None:
            set_(self, "account", validate_name("--account", self.account))
        if self.time is not None:
            set_(self, "time", validate_time(self.time))
        if self.mem is not None:
            set_(self, "mem", validate_mem(self.mem))
        set_(self, "cpus_per_task", validate_positive("--cpus-per-task", self.cpus_per_task))
        if self.max_parallel is not None:
            set_(self, "max_parallel", validate_positive("--max-parallel", self.max_parallel))
        if self.jobs is not None:
            set_(self, "jobs", validate_positive("--jobs", self.jobs))
        setup = (self.setup,) if isinstance(self.setup, str) else tuple(self.setup)
        for line in setup:
            if "\0" in line:
                raise SlurmConfigError("--setup: contains a NUL byte")
        set_(self, "setup", setup)

    @property
    def run_jobs(self) -> int:
        """Worker processes per task: ``--jobs``, else one per CPU SLURM gives the task."""
        return self.jobs if self.jobs is not None else self.cpus_per_task
