"""The record of every submission, ``<store>/slurm/jobs.json``, beside the scripts and per-task logs.

Why a file in the store: SLURM forgets finished jobs (MinJobAge), and `algrid status` / `--resubmit-missing` run
later, maybe from another login node; the store is the one place every node sees. The file is rewritten atomically
(temporary file + rename) under an flock, so two submitters never lose each other's record and a reader never sees
half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from algrid.cluster.slurm.errors import SlurmError

#: Subdirectory of the store holding scripts, logs and jobs.json.
SLURM_DIR = "slurm"
JOBS_FILE = "jobs.json"


def log_dir(store_dir: str | Path) -> Path:
    """``<store>/slurm``, absolute: where scripts, task logs and the job record live."""
    return Path(store_dir).resolve() / SLURM_DIR


def read_jobs(store_dir: str | Path) -> list[dict[str, Any]]:
    """Submissions recorded for the store, oldest first ([] when nothing was submitted)."""
    path = log_dir(store_dir) / JOBS_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SlurmError(f"{path}: unreadable job record ({exc})") from None
    return data.get("jobs", []) if isinstance(data, dict) else []


def write_jobs(store_dir: str | Path, jobs: list[dict[str, Any]]) -> None:
    """Replace the record atomically (callers hold the lock: see append_job)."""
    path = log_dir(store_dir) / JOBS_FILE
    tmp = path.with_name(f".{JOBS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"jobs": jobs}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def append_job(store_dir: str | Path, record: dict[str, Any]) -> None:
    """Append one submission to jobs.json under a lock (two submitters must not lose each other's record)."""
    import fcntl

    lock_path = log_dir(store_dir) / ".jobs.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            write_jobs(store_dir, [*read_jobs(store_dir), record])
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def recorded_jobs(store_dir: str | Path) -> list[dict[str, Any]]:
    """Submissions recorded in ``<store>/slurm/jobs.json``, oldest first."""
    return read_jobs(store_dir)
