"""What SLURM says about the recorded array jobs: per-task states from scontrol (sacct once the controller forgot).

Why separate from the store's counts: the store knows which experiments are done, SLURM knows which tasks are
still queued or running and how the others ended. `algrid status` shows both side by side (the CLI merges them),
and `--resubmit-missing` needs the second to leave busy shards alone. Everything here degrades to None / UNKNOWN
when SLURM is absent or unreachable, so status works on a laptop holding a copy of the store.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from algrid.cluster.slurm.commands import run_command
from algrid.cluster.slurm.errors import SlurmError
from algrid.cluster.slurm.ledger import read_jobs
from algrid.cluster.slurm.script import parse_array_spec

#: Array-task states in which the task may still run (resubmit-missing leaves such shards alone).
ACTIVE_STATES = frozenset(
    {
        "PENDING",
        "RUNNING",
        "CONFIGURING",
        "COMPLETING",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESIZING",
        "SUSPENDED",
        "STAGE_OUT",
        "SIGNALING",
        "STOPPED",
    }
)

_FIELD_RE = {
    k: re.compile(rf"(?:^|\s){k}=(\S*)")
    for k in ("JobId", "ArrayJobId", "ArrayTaskId", "JobState", "ExitCode", "Reason")
}


def _parse_scontrol(text: str) -> list[dict[str, str]]:
    """`scontrol -o show job` lines -> dicts of the few fields we read (values before the free-text fields)."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        rec = {}
        for key, rx in _FIELD_RE.items():
            m = rx.search(line)
            if m:
                rec[key] = m.group(1)
        records.append(rec)
    return records


def _job_tasks(job_id: str) -> dict[int, dict[str, str]] | None:
    """State of every array task SLURM still knows for one array job; None if SLURM is unreachable."""
    if shutil.which("scontrol") is None:
        return None
    try:
        proc = run_command(["scontrol", "-o", "show", "job", str(job_id)], timeout=15.0)
    except SlurmError:
        return None
    if proc.returncode != 0:
        if "invalid job id" in proc.stderr.lower():
            return _sacct_tasks(job_id) or {}
        return None
    tasks: dict[int, dict[str, str]] = {}
    for rec in _parse_scontrol(proc.stdout):
        if rec.get("ArrayJobId") != str(job_id) or "ArrayTaskId" not in rec:
            continue
        state = rec.get("JobState", "UNKNOWN")
        try:
            ids = parse_array_spec(rec["ArrayTaskId"])
        except ValueError:  # a format this parser does not know: leave those tasks UNKNOWN
            continue
        for t in ids:
            tasks[t] = {"state": state, "exit_code": rec.get("ExitCode", ""), "reason": rec.get("Reason", "")}
    return tasks


def _sacct_tasks(job_id: str) -> dict[int, dict[str, str]]:
    """Finished tasks the controller has forgotten, from accounting when the cluster keeps it."""
    if shutil.which("sacct") is None:
        return {}
    try:
        proc = run_command(
            ["sacct", "-n", "-P", "-X", "-j", str(job_id), "-o", "JobID,State,ExitCode"], timeout=15.0
        )
    except SlurmError:
        return {}
    if proc.returncode != 0:
        return {}
    tasks: dict[int, dict[str, str]] = {}
    for line in proc.stdout.splitlines():
        parts = line.split("|")
        if len(parts) < 3 or "_" not in parts[0]:
            continue
        task = parts[0].split("_", 1)[1]
        state = parts[1].split()[0] if parts[1] else "UNKNOWN"
        for t in parse_array_spec(task.strip("[]")):
            tasks[t] = {"state": state, "exit_code": parts[2], "reason": ""}
    return tasks


def array_status(store_dir: str | Path) -> dict[str, Any] | None:
    """State of the recorded array tasks, or None when nothing was submitted or SLURM is unreachable.

    Keys: ``n_shards`` (of the latest submission), ``jobs`` (one entry per submission: job_id, n_shards, array,
    submitted_at, states = {STATE: count}), ``shards`` ({"<shard>": {job_id, state, exit_code}} for the latest
    submission covering each shard, among submissions with the latest n_shards), ``states`` ({STATE: count} over
    ``shards``) and ``active`` (number of shards whose task is pending or running). State UNKNOWN means SLURM lists no
    such task: cancelled before it started, or finished longer ago than the cluster's MinJobAge (without accounting);
    the store's counts tell whether its shard is complete.
    """
    jobs = read_jobs(store_dir)
    if not jobs:
        return None
    n_shards = int(jobs[-1]["n_shards"])
    out_jobs: list[dict[str, Any]] = []
    shards: dict[str, dict[str, str]] = {}
    for job in jobs:
        tasks = _job_tasks(job["job_id"])
        if tasks is None:
            return None
        submitted = parse_array_spec(job["array"])
        states: Counter[str] = Counter()
        for t in submitted:
            info = tasks.get(t, {"state": "UNKNOWN", "exit_code": "", "reason": ""})
            states[info["state"]] += 1
            if int(job["n_shards"]) == n_shards:
                shards[str(t)] = {
                    "job_id": job["job_id"],
                    "state": info["state"],
                    "exit_code": info["exit_code"],
                }
        out_jobs.append(
            {
                "job_id": job["job_id"],
                "n_shards": int(job["n_shards"]),
                "array": job["array"],
                "submitted_at": job.get("submitted_at"),
                "states": dict(sorted(states.items())),
            }
        )
    total: Counter[str] = Counter(s["state"] for s in shards.values())
    return {
        "n_shards": n_shards,
        "jobs": out_jobs,
        "shards": dict(sorted(shards.items(), key=lambda kv: int(kv[0]))),
        "states": dict(sorted(total.items())),
        "active": sum(n for state, n in total.items() if state in ACTIVE_STATES),
    }


def store_array_status(store_dir: str | Path) -> dict[str, Any] | None:
    """array_status for `algrid status`: None instead of an error when the state cannot be known.

    Status must answer wherever the store is readable (a laptop, a node without SLURM, a damaged jobs.json), so
    every failure here means "no SLURM section", never a failed `algrid status`.
    """
    try:
        return array_status(store_dir)
    except Exception:  # noqa: BLE001 - the store's counts must not depend on SLURM being reachable
        return None


def format_array_status(status: dict[str, Any]) -> str:
    """One line for humans, e.g. 'slurm: job 41 (8 shards): COMPLETED 6, RUNNING 2'."""
    ids = ",".join(j["job_id"] for j in status["jobs"])
    states = ", ".join(f"{k} {v}" for k, v in status["states"].items())
    return f"slurm: job{'s' if len(status['jobs']) > 1 else ''} {ids} ({status['n_shards']} shards): {states}"


def wait_for_job(job_id: str, *, poll_s: float = 0.25, timeout_s: float | None = None) -> None:
    """Block until SLURM no longer lists any task of ``job_id`` as queued or running (polls squeue)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        proc = run_command(["squeue", "-h", "-j", str(job_id), "-o", "%i"], timeout=15.0)
        if proc.returncode != 0 and "invalid job id" not in proc.stderr.lower():
            raise SlurmError(f"squeue -j {job_id} failed: {' '.join(proc.stderr.split())}")
        if not proc.stdout.strip():
            return
        if deadline is not None and time.monotonic() > deadline:
            raise SlurmError(f"job {job_id} still queued or running after {timeout_s:.0f} s")
        time.sleep(poll_s)


def slurm_reachable() -> str | None:
    """None when sbatch exists and a controller answers, else the reason it does not (for skips and errors)."""
    if shutil.which("sbatch") is None:
        return "sbatch not found on PATH"
    try:
        proc = run_command(["scontrol", "ping"], timeout=10.0)
    except SlurmError as exc:
        return str(exc)
    if proc.returncode != 0 or "UP" not in proc.stdout:
        return f"no SLURM controller answers (scontrol ping: {' '.join((proc.stdout + proc.stderr).split())})"
    return None
