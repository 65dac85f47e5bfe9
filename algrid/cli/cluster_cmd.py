"""`algrid slurm`: submit a grid's shards as one SLURM array job (thin layer over algrid.cluster.slurm)."""

from __future__ import annotations

from pathlib import Path

import click

from algrid.cluster import slurm as sl


@click.command("slurm")
@click.argument("grid_file", metavar="GRID", type=click.Path(dir_okay=False))
@click.option(
    "--shards",
    "n_shards",
    type=int,
    default=None,
    help="Number of shards = array tasks (with --resubmit-missing: default the last submission's).",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Result store directory on a filesystem the compute nodes share [results/<grid name>].",
)
@click.option("--partition", default=None, help="SLURM partition (or comma-separated list).")
@click.option(
    "--time", "time_limit", default=None, help="Time limit per task, HH:MM:SS (or D-HH:MM:SS, minutes)."
)
@click.option("--mem", default=None, help="Memory per task, e.g. 4G or 4000 (MB).")
@click.option(
    "--cpus-per-task",
    type=int,
    default=1,
    show_default=True,
    help="CPUs per task; each task runs `algrid run --jobs` this many workers.",
)
@click.option("--jobs", "jobs", type=int, default=None, help="Worker processes per task [--cpus-per-task].")
@click.option(
    "--max-parallel", type=int, default=None, help="At most K tasks run at once (#SBATCH --array=...%K)."
)
@click.option("--account", default=None, help="SLURM account to charge.")
@click.option(
    "--setup",
    multiple=True,
    help="Shell line run before algrid in every task, verbatim (e.g. 'module load python'); repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Print the sbatch script; submit nothing, write nothing.")
@click.option(
    "--resubmit-missing",
    is_flag=True,
    help="Submit only the shards that still have pending or failed experiments (failed ones are retried).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Block until the array has finished (polls squeue); exit 1 unless every task completed.",
)
def slurm(
    grid_file: str,
    n_shards: int | None,
    store_dir: str | None,
    partition: str | None,
    time_limit: str | None,
    mem: str | None,
    cpus_per_task: int,
    jobs: int | None,
    max_parallel: int | None,
    account: str | None,
    setup: tuple[str, ...],
    dry_run: bool,
    resubmit_missing: bool,
    wait: bool,
) -> None:
    """Submit GRID's shards to SLURM as one array job; prints the job id.

    Every task runs `algrid run GRID --shard $SLURM_ARRAY_TASK_ID/N --store DIR` with this Python; logs go to
    DIR/slurm/. Watch with `algrid status DIR`, complete with `--resubmit-missing`.
    """
    from algrid.grid.lazy import load_grid
    from algrid.store import default_store_dir

    grid = load_grid(grid_file)
    store = Path(store_dir) if store_dir else default_store_dir(grid)
    if n_shards is None:
        previous = sl.recorded_jobs(store) if resubmit_missing else []
        if not previous:
            raise click.UsageError(
                "--shards is required" + ("" if resubmit_missing else " (number of array tasks)")
            )
        n_shards = int(previous[-1]["n_shards"])
    options = sl.SlurmOptions(
        partition=partition,
        time=time_limit,
        mem=mem,
        cpus_per_task=cpus_per_task,
        max_parallel=max_parallel,
        account=account,
        setup=setup,
        jobs=jobs,
        retry_failed=resubmit_missing,
    )
    n_shards = sl.validate_positive("--shards", n_shards)
    if n_shards > len(grid):
        click.echo(
            f"warning: --shards {n_shards} exceeds the grid's {len(grid)} experiments; "
            f"{n_shards - len(grid)} tasks will have nothing to do",
            err=True,
        )

    tasks = None
    if resubmit_missing:
        tasks, busy = sl.shards_to_resubmit(grid, store, n_shards)
        if busy:
            click.echo(f"shards still queued or running, not resubmitted: {sl.array_spec(busy)}", err=True)
        if not tasks:
            click.echo(
                f"nothing to resubmit: no shard of {n_shards} has pending or failed experiments"
                + (" that is not already queued" if busy else ""),
                err=True,
            )
            return

    sub = sl.submit(grid, grid_file, store, n_shards, options, tasks=tasks, dry_run=dry_run)
    if dry_run:
        click.echo(sub.script, nl=False)
        return
    click.echo(sub.job_id)
    click.echo(
        f"submitted array job {sub.job_id}: {len(sub.tasks)} task(s) [{sl.array_spec(sub.tasks)}] of {n_shards} shards; "
        f"script {sub.script_path}; logs {sl.log_dir(store)}/",
        err=True,
    )
    if wait:
        assert sub.job_id is not None  # dry runs returned above; a real submission always has a job id
        sl.wait_for_job(sub.job_id)
        status = sl.array_status(store)
        if status is None:
            raise sl.SlurmError(
                f"job {sub.job_id} finished but SLURM no longer answers; see `algrid status {store}`"
            )
        click.echo(sl.format_array_status(status), err=True)
        job = next(j for j in status["jobs"] if j["job_id"] == sub.job_id)
        if set(job["states"]) != {"COMPLETED"}:
            raise sl.SlurmError(
                f"array job {sub.job_id} finished with {job['states']}; logs in {sl.log_dir(store)}/, "
                "then `algrid slurm ... --resubmit-missing`"
            )
