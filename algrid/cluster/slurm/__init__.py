"""Run a grid's shards as one SLURM array job, watch it, and resubmit what is missing.

One job per module, in the order a submission flows through them:

    errors    SlurmError (the cluster said no), SlurmConfigError (a usage error, exit code 2)
    options   validation of --time/--mem/names/counts/paths; SlurmOptions
    script    the array spec ('0-7%2') and the rendered sbatch script
    ledger    <store>/slurm/jobs.json, the record of every submission (read, write, append under a lock)
    commands  running sbatch/scontrol/sacct/squeue, with one-line errors
    state     per-task states from scontrol/sacct: array_status, format_array_status, wait_for_job, slurm_reachable
    submit    submit, and resubmission planning: missing_shards, shards_to_resubmit

This module re-exports the names the CLI (`algrid slurm`, `algrid status`) and the tests use, so callers import
``algrid.cluster.slurm`` and never depend on that split. Records: every submission is appended to
``<store>/slurm/jobs.json``; the scripts and per-task logs (``<store>/slurm/<grid>-<jobid>_<task>.out``) live beside
it. Layering: this package imports the store, grid and vocabulary layers, never the CLI; the store does not know
about SLURM (the CLI merges `store_array_status` into `algrid status`).
"""

from __future__ import annotations

from algrid.cluster.slurm.commands import run_command
from algrid.cluster.slurm.errors import SlurmConfigError, SlurmError
from algrid.cluster.slurm.ledger import JOBS_FILE, SLURM_DIR, log_dir, recorded_jobs
from algrid.cluster.slurm.options import (
    SlurmOptions,
    validate_mem,
    validate_name,
    validate_positive,
    validate_time,
)
from algrid.cluster.slurm.script import algrid_command, array_spec, parse_array_spec, render_script
from algrid.cluster.slurm.state import (
    ACTIVE_STATES,
    array_status,
    format_array_status,
    slurm_reachable,
    store_array_status,
    wait_for_job,
)
from algrid.cluster.slurm.submit import Submission, missing_shards, shards_to_resubmit, submit

__all__ = [
    "ACTIVE_STATES",
    "JOBS_FILE",
    "SLURM_DIR",
    "SlurmConfigError",
    "SlurmError",
    "SlurmOptions",
    "Submission",
    "algrid_command",
    "array_spec",
    "array_status",
    "format_array_status",
    "log_dir",
    "missing_shards",
    "parse_array_spec",
    "recorded_jobs",
    "render_script",
    "run_command",
    "shards_to_resubmit",
    "slurm_reachable",
    "store_array_status",
    "submit",
    "validate_mem",
    "validate_name",
    "validate_positive",
    "validate_time",
    "wait_for_job",
]
