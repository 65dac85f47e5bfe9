"""The one way this package runs SLURM's tools (sbatch, scontrol, sacct, squeue).

A missing binary or a controller that does not answer becomes a SlurmError with a one-line reason, instead of a
FileNotFoundError or a hang: every caller (submit, state, wait) then decides whether that is fatal.
"""

from __future__ import annotations

import subprocess

from algrid.cluster.slurm.errors import SlurmError


def run_command(cmd: list[str], *, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` capturing text output; never raises on a non-zero exit (callers read ``returncode``)."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise SlurmError(f"{cmd[0]}: command not found (is SLURM installed and on PATH?)") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(
            f"{cmd[0]}: no answer within {timeout:.0f} s (is the SLURM controller up?)"
        ) from None
