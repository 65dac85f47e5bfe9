"""The sbatch array script: one array task per shard, each running `algrid run GRID --shard $TASK/N`.

Why one array: one `sbatch` for N shards keeps the scheduler's queue small and lets `--max-parallel` (`%K`)
throttle a campaign without a babysitter. Every value in the script was validated by `options` and every path is
shell-quoted (paths with spaces or ``;`` are data, never code); the one exception is ``setup``: lines the user asks
us to run (``module load ...``), copied verbatim.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from algrid.cluster.slurm.errors import SlurmConfigError, SlurmError
from algrid.cluster.slurm.ledger import log_dir
from algrid.cluster.slurm.options import SlurmOptions, check_path, directive_path, validate_positive


def array_spec(tasks: list[int], max_parallel: int | None = None) -> str:
    """Compact SLURM array spec: [0..7] -> '0-7', [3, 7, 8, 9] -> '3,7-9'; '%K' throttles."""
    if not tasks:
        raise SlurmError("no array tasks to submit")
    ids = sorted(set(int(t) for t in tasks))
    if ids[0] < 0:
        raise SlurmError(f"array task ids must be >= 0, got {ids[0]}")
    ranges: list[str] = []
    start = prev = ids[0]
    for t in [*ids[1:], None]:
        if t is not None and t == prev + 1:
            prev = t
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if t is not None:
            start = prev = t
    spec = ",".join(ranges)
    return f"{spec}%{max_parallel}" if max_parallel else spec


def parse_array_spec(spec: str) -> list[int]:
    """Inverse of array_spec (also reads scontrol's ArrayTaskId, e.g. '3-7%2' or '1,4-5')."""
    body = spec.split("%", 1)[0]
    out: list[int] = []
    for part in body.split(","):
        part = part.strip()
        if not part:
            continue
        step = 1
        if ":" in part:
            part, step_text = part.split(":", 1)
            step = int(step_text)
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.extend(range(int(lo), int(hi) + 1, step))
        else:
            out.append(int(part))
    return out


def algrid_command() -> list[str]:
    """argv that runs this very algrid (same interpreter and install) on a compute node.

    ``python -m algrid`` (algrid/__main__.py) rather than an `algrid` script on PATH: the compute node's PATH is
    not the submitter's, the interpreter path is.
    """
    return [sys.executable, "-m", "algrid"]


def render_script(
    grid_path: str | Path,
    store_dir: str | Path,
    n_shards: int,
    tasks: list[int],
    options: SlurmOptions,
    *,
    job_name: str = "algrid",
) -> str:
    """The sbatch array script: one task per shard in ``tasks`` (each in [0, n_shards))."""
    n_shards = validate_positive("--shards", n_shards)
    if any(not 0 <= t < n_shards for t in tasks):
        raise SlurmConfigError(f"array tasks must be shard indices in [0, {n_shards})")
    if not re.match(r"^[A-Za-z0-9_.+-]{1,100}$", job_name):
        raise SlurmConfigError(f"invalid job name {job_name!r}")
    grid_abs = Path(grid_path).resolve()
    store_abs = Path(store_dir).resolve()
    logs = log_dir(store_abs)
    check_path("GRID", grid_abs)
    output = directive_path("--store", logs, f"{job_name}-%A_%a.out")

    directives = [
        f"--job-name={job_name}",
        f"--array={array_spec(tasks, options.max_parallel)}",
        f"--output={output}",
        "--ntasks=1",
        f"--cpus-per-task={options.cpus_per_task}",
    ]
    if options.time:
        directives.append(f"--time={options.time}")
    if options.mem:
        directives.append(f"--mem={options.mem}")
    if options.partition:
        directives.append(f"--partition={options.partition}")
    if options.account:
        directives.append(f"--account={options.account}")

    run = [
        *algrid_command(),
        "run",
        str(grid_abs),
        "--shard",
        f"$SLURM_ARRAY_TASK_ID/{n_shards}",
        "--store",
        str(store_abs),
        "--jobs",
        str(options.run_jobs),
    ]
    if options.retry_failed:
        run.append("--retry-failed")
    from algrid import plugins

    refs = [p.ref for p in plugins.loaded() if p.origin in ("module", "file")]
    if (
        refs
    ):  # tasks load the submitter's plugins (the grid's own `plugins:` are read again from the grid file)
        run += ["--plugins", ",".join(refs)]
    # the shard argument must expand (SLURM sets an integer; `set -u` stops a run outside SLURM), the rest is data
    quoted = " ".join(a if a.startswith("$SLURM_ARRAY_TASK_ID/") else shlex.quote(a) for a in run)

    lines = ["#!/bin/bash", *(f"#SBATCH {d}" for d in directives), ""]
    lines += [
        f"# algrid: {n_shards} shards of {shlex.quote(str(grid_abs))} -> store {shlex.quote(str(store_abs))}",
        "# each task runs one shard; the runner skips experiments the store already holds, so rerunning is safe.",
        "set -eo pipefail",
    ]
    if options.setup:  # before `set -u`: module and conda scripts often read unset variables
        lines += ["", "# --setup (verbatim)", *options.setup, ""]
    lines += [
        "set -u",
        'echo "algrid: shard ${SLURM_ARRAY_TASK_ID}/'
        + str(n_shards)
        + ' on $(hostname) job ${SLURM_JOB_ID}"',
        f"exec {quoted}",
        "",
    ]
    return "\n".join(lines)
