"""Run a grid's shards as one SLURM array job, watch it, and resubmit what is missing.

Why an array: one `sbatch` for N shards keeps the scheduler's queue small and lets `--max-parallel` (`%K`) throttle
a campaign without a babysitter. Each array task is `algrid run GRID --shard $SLURM_ARRAY_TASK_ID/N --store DIR`,
so everything the runner guarantees (resume, atomic parts, timeouts) holds per task, and a task that dies loses
only its experiments in flight: `--resubmit-missing` later runs just the shards that are not complete.

Public API:
    SlurmOptions                          validated sbatch settings (time, mem, partition, ...)
    render_script(grid_path, store_dir, n_shards, tasks, options) -> str
    submit(grid, grid_path, store_dir, n_shards, options, *, tasks=None, dry_run=False) -> Submission
    missing_shards(grid, store_dir, n_shards) -> list[int]
    shards_to_resubmit(grid, store_dir, n_shards) -> (to submit, still queued)
    array_status(store_dir) -> dict | None     (used by `algrid status`)
    wait_for_job(job_id, poll_s=0.25, timeout_s=None)

Records: every submission is appended to ``<store>/slurm/jobs.json``; the scripts and per-task logs
(``<store>/slurm/<grid>-<jobid>_<task>.out``) live beside it.

Every value that reaches the script is validated here and shell-quoted (paths with spaces or ``;`` are data, never
code). The one exception is ``setup``: lines the user asks us to run (``module load ...``), copied verbatim.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from algrid.errors import AlgridError

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid

#: Subdirectory of the store holding scripts, logs and jobs.json.
SLURM_DIR = "slurm"
JOBS_FILE = "jobs.json"
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

_TIME_RE = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")
_MEM_RE = re.compile(r"^(\d+)(?:([KMGT])B?)?$", re.IGNORECASE)
_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,64}(?:,[A-Za-z0-9_.+-]{1,64})*$")


class SlurmError(AlgridError):
    """sbatch/squeue failed or SLURM is unreachable."""

    exit_code = 1  # the cluster failed (environment), not the input


class SlurmConfigError(SlurmError):
    """An sbatch setting (time, mem, names, counts, paths) is invalid: a usage error."""

    exit_code = 2


# ------------------------------------------------------------------------------------------------ validation
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
    if isinstance(value, bool):
        raise SlurmConfigError(f"{option}: must be a positive integer, got {value!r}")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise SlurmConfigError(f"{option}: must be a positive integer, got {value!r}") from None
    if n < 1 or str(n) != str(value).strip():
        raise SlurmConfigError(f"{option}: must be a positive integer, got {value!r}")
    return n


def _check_path(option: str, path: Path) -> str:
    """Paths reach the script shell-quoted; control characters (a newline ends a line) are refused outright."""
    text = str(path)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise SlurmConfigError(f"{option}: path {text!r} contains a newline or control character")
    return text


def _directive_path(option: str, directory: Path, filename: str) -> str:
    """``directory/filename`` for an #SBATCH directive, which sbatch parses itself: double quotes, and a literal %
    in the directory doubled (filename may use the %A/%a patterns)."""
    text = _check_path(option, directory)
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
        return self.jobs if self.jobs is not None else self.cpus_per_task


# ---------------------------------------------------------------------------------------------- the script
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
    """argv that runs this very algrid (same interpreter and install) on a compute node."""
    for module in ("algrid", "algrid.cli"):
        if importlib.util.find_spec(f"{module}.__main__") is not None:
            return [sys.executable, "-m", module]
    return [sys.executable, "-c", "from algrid.cli import main; main(prog_name='algrid')"]


def log_dir(store_dir: str | Path) -> Path:
    return Path(store_dir).resolve() / SLURM_DIR


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
    _check_path("GRID", grid_abs)
    output = _directive_path("--store", logs, f"{job_name}-%A_%a.out")

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


# ------------------------------------------------------------------------------------------------ submission
@dataclass
class Submission:
    """What `submit` did: the script it wrote (or would write) and the job id sbatch returned."""

    script: str
    tasks: list[int]
    n_shards: int
    job_id: str | None = None
    script_path: Path | None = None


def _run(cmd: list[str], *, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise SlurmError(f"{cmd[0]}: command not found (is SLURM installed and on PATH?)") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(
            f"{cmd[0]}: no answer within {timeout:.0f} s (is the SLURM controller up?)"
        ) from None


def _read_jobs(store_dir: Path) -> list[dict[str, Any]]:
    path = log_dir(store_dir) / JOBS_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SlurmError(f"{path}: unreadable job record ({exc})") from None
    return data.get("jobs", []) if isinstance(data, dict) else []


def _write_jobs(store_dir: Path, jobs: list[dict[str, Any]]) -> None:
    path = log_dir(store_dir) / JOBS_FILE
    tmp = path.with_name(f".{JOBS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"jobs": jobs}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _append_job(store_dir: Path, record: dict[str, Any]) -> None:
    """Append one submission to jobs.json under a lock (two submitters must not lose each other's record)."""
    import fcntl

    lock_path = log_dir(store_dir) / ".jobs.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _write_jobs(store_dir, [*_read_jobs(store_dir), record])
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def recorded_jobs(store_dir: str | Path) -> list[dict[str, Any]]:
    """Submissions recorded in ``<store>/slurm/jobs.json``, oldest first."""
    return _read_jobs(Path(store_dir))


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
    proc = _run(["sbatch", "--parsable", str(script_path)], timeout=60.0)
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
    _append_job(
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


# ------------------------------------------------------------------------------------------- array status
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
        proc = _run(["scontrol", "-o", "show", "job", str(job_id)], timeout=15.0)
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
        proc = _run(
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
    jobs = _read_jobs(Path(store_dir))
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


def format_array_status(status: dict[str, Any]) -> str:
    """One line for humans, e.g. 'slurm: job 41 (8 shards): COMPLETED 6, RUNNING 2'."""
    ids = ",".join(j["job_id"] for j in status["jobs"])
    states = ", ".join(f"{k} {v}" for k, v in status["states"].items())
    return f"slurm: job{'s' if len(status['jobs']) > 1 else ''} {ids} ({status['n_shards']} shards): {states}"


def wait_for_job(job_id: str, *, poll_s: float = 0.25, timeout_s: float | None = None) -> None:
    """Block until SLURM no longer lists any task of ``job_id`` as queued or running (polls squeue)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        proc = _run(["squeue", "-h", "-j", str(job_id), "-o", "%i"], timeout=15.0)
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
        proc = _run(["scontrol", "ping"], timeout=10.0)
    except SlurmError as exc:
        return str(exc)
    if proc.returncode != 0 or "UP" not in proc.stdout:
        return f"no SLURM controller answers (scontrol ping: {' '.join((proc.stdout + proc.stderr).split())})"
    return None


# -------------------------------------------------------------------------------------------- what is missing
#: Experiments decoded per step when looking for missing shards (bounds memory on grids of millions).
_BLOCK = 1_000_000


def missing_shards(grid: Grid, store_dir: str | Path, n_shards: int) -> list[int]:
    """Shards of n that still have pending (no run row) or failed experiments in the store.

    Vectorised over the whole grid (uint64 keys, sorted search, ``sharding.shard_of``): a few seconds for millions
    of experiments, instead of decoding shard by shard.
    """
    import numpy as np

    from algrid.grid.sharding import shard_of

    n_shards = validate_positive("--shards", n_shards)
    statuses = _stored_statuses(Path(store_dir))
    done = np.fromiter((int(k, 16) for k, s in statuses.items() if s != "failed"), dtype=np.uint64)
    done.sort()
    found: set[int] = set()
    for start in range(0, len(grid), _BLOCK):
        idx = np.arange(start, min(start + _BLOCK, len(grid)), dtype=np.int64)
        keys = grid.keys_from_codes(grid.codes(idx))
        pos = np.searchsorted(done, keys)
        is_done = (
            (pos < done.size) & (done[np.minimum(pos, max(done.size - 1, 0))] == keys) if done.size else False
        )
        pending = idx[~is_done] if done.size else idx
        if pending.size:
            found.update(int(s) for s in np.unique(shard_of(grid, pending, n_shards)))
    return sorted(found)


def _stored_statuses(store_dir: Path) -> dict[str, str]:
    """exp_key -> status of every committed experiment ({} for a store not created yet)."""
    from algrid.store import Store

    if not (Path(store_dir) / "meta.json").is_file():
        return {}
    table = Store.open(store_dir).status_table()
    out: dict[str, str] = {}
    for key, status in zip(table["exp_key"].to_pylist(), table["status"].to_pylist(), strict=True):
        if out.get(key) != "ok":
            out[key] = str(status)
    return out


def shards_to_resubmit(grid: Grid, store_dir: str | Path, n_shards: int) -> tuple[list[int], list[int]]:
    """(shards to submit, missing shards left alone because their task is still queued or running)."""
    missing = missing_shards(grid, store_dir, n_shards)
    status = array_status(store_dir)
    if not status or status["n_shards"] != n_shards:
        return missing, []
    busy = {int(s) for s, info in status["shards"].items() if info["state"] in ACTIVE_STATES}
    return [s for s in missing if s not in busy], [s for s in missing if s in busy]
