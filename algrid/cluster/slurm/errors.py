"""The two ways SLURM work fails: the cluster said no (SlurmError) or the user's settings are invalid (a usage error).

Kept apart from every step so options, script, ledger, state and submit can raise them without importing each
other; both are AlgridErrors, so the CLI prints one line instead of a traceback.
"""

from __future__ import annotations

from algrid.errors import AlgridError


class SlurmError(AlgridError):
    """sbatch/squeue failed or SLURM is unreachable."""

    exit_code = 1  # the cluster failed (environment), not the input


class SlurmConfigError(SlurmError):
    """An sbatch setting (time, mem, names, counts, paths) is invalid: a usage error."""

    exit_code = 2
