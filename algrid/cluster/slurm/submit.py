"""Submitting an array job, and planning a resubmission of the shards the store does not have yet.

Why they live together: both decide *which shards* go to sbatch. A first submission sends all N; `--resubmit-missing`
sends those with pending or failed experiments in the store, minus those whose task SLURM still runs. Each task is
`algrid run GRID --shard i/N --store DIR`, so everything the runner guarantees (resume, atomic parts, timeouts)
holds per task, and a task that dies loses only its experiments in flight.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from algrid.cluster.slurm.commands import run_command
from algrid.cluster.slurm.errors import SlurmError
from algrid.cluster.slurm.ledger import append_job, log_dir
from algrid.cluster.slurm.options import SlurmOptions, validate_positive
from algrid.cluster.slurm.script import array_spec, render_script
from algrid.cluster.slurm.state import ACTIVE_STATES, array_status

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid

#: Experiments decoded per step when looking for missing shards (bounds memory on grids of millions).
_BLOCK = 1_000_000


@dataclass
class Submission:
    """What `submit` did: the script it wrote (or would write) and the job id sbatch returned."""

    script: str
    tasks: list[int]
    n_shards: int
    job_id: str | None = None
    script_path: Path | None = None


def submit(
    grid: Grid,
    grid_path: str | Path,
    store_dir: str | Path,
    n_shards: int,
    options: SlurmOptions,
    *,
    tasks: list[int] | None = None,
    dry_run: bool = False,
) -> Submission:
    """Write the array script into ``<store>/slurm/`` and `sbatch --parsable` it (nothing is written on dry_run)."""
    n_shards = validate_positive("--shards", n_shards)
    tasks = list(range(n_shards)) if tasks is None else sorted(set(tasks))
    job_name = f"algrid-{grid.name}"
    script = render_script(grid_path, store_dir, n_shards, tasks, options, job_name=job_name)
    sub = Submission(script=script, tasks=tasks, n_shards=n_shards)
    if dry_run:
        return sub
    from algrid.store import Store

    store_abs = Path(store_dir).resolve()
    # create the store now: a grid that does not match it fails here, once, not in every array task
    Store.create_or_open(store_abs, grid)
    logs = log_dir(store_abs)
    logs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    script_path = logs / f"submit-{stamp}.sbatch"
    script_path.write_text(script, encoding="utf-8")
    sub.script_path = script_path
    if shutil.which("sbatch") is None:
        raise SlurmError(
            f"sbatch: command not found (script written to {script_path}; submit it on the cluster)"
        )
    proc = run_command(["sbatch", "--parsable", str(script_path)], timeout=60.0)
    if proc.returncode != 0:
        msg = " ".join(proc.stderr.split()) or f"exit code {proc.returncode}"
        hint = (
            " (the cluster's MaxArraySize limits array indices; use fewer --shards)"
            if "array" in msg.lower()
            else ""
        )
        raise SlurmError(f"sbatch {script_path} failed: {msg}{hint}")
    job_id = proc.stdout.strip().split(";", 1)[0]
    if not job_id.isdigit():
        raise SlurmError(f"sbatch returned an unexpected job id {proc.stdout.strip()!r}")
    sub.job_id = job_id
    append_job(
        store_abs,
        {
            "job_id": job_id,
            "n_shards": n_shards,
            "array": array_spec(tasks),
            "grid": str(Path(grid_path).resolve()),
            "script": str(script_path),
            "log_pattern": str(logs / f"{job_name}-{job_id}_%a.out"),
            "retry_failed": options.retry_failed,
            "submitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    return sub


def missing_shards(grid: Grid, store_dir: str | Path, n_shards: int) -> list[int]:
    """Shards of n that still have experiments to run: pending, failed or timeout (algrid.store.doneset with
    retry_failed, the rule the resubmitted tasks apply).

    Vectorised over the whole grid (uint64 keys, sorted search, ``sharding.shard_of``): a few seconds for millions
    of experiments, instead of decoding shard by shard.
    """
    import numpy as np

    from algrid.grid.sharding import shard_of

    n_shards = validate_positive("--shards", n_shards)
    from algrid.store.doneset import is_done

    statuses = _stored_statuses(
        Path(store_dir)
    )  # the store's one rule, as the resubmitted --retry-failed tasks use
    done = np.fromiter((int(k, 16) for k, s in statuses.items() if is_done(s, True)), dtype=np.uint64)
    done.sort()
    found: set[int] = set()
    for start in range(0, len(grid), _BLOCK):
        idx = np.arange(start, min(start + _BLOCK, len(grid)), dtype=np.int64)
        keys = grid.keys_from_codes(grid.codes(idx))
        pos = np.searchsorted(done, keys)
        key_done = (
            (pos < done.size) & (done[np.minimum(pos, max(done.size - 1, 0))] == keys) if done.size else False
        )
        pending = idx[~key_done] if done.size else idx
        if pending.size:
            found.update(int(s) for s in np.unique(shard_of(grid, pending, n_shards)))
    return sorted(found)


def _stored_statuses(store_dir: Path) -> dict[str, str]:
    """exp_key -> best status of every committed experiment ({} for a store not created yet)."""
    from algrid.store import Store
    from algrid.store.doneset import stored_statuses

    if not (Path(store_dir) / "meta.json").is_file():
        return {}
    return stored_statuses(Store.open(store_dir))


def shards_to_resubmit(grid: Grid, store_dir: str | Path, n_shards: int) -> tuple[list[int], list[int]]:
    """(shards to submit, missing shards left alone because their task is still queued or running)."""
    missing = missing_shards(grid, store_dir, n_shards)
    status = array_status(store_dir)
    if not status or status["n_shards"] != n_shards:
        return missing, []
    busy = {int(s) for s, info in status["shards"].items() if info["state"] in ACTIVE_STATES}
    return [s for s in missing if s not in busy], [s for s in missing if s in busy]
