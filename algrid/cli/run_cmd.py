"""`algrid run`, `algrid status`, `algrid store verify|compact|export`: thin wrappers over algrid.execute.runner / algrid.store
(and algrid.cluster.slurm for the array-task states `algrid status` shows beside the store's counts)."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal, cast

import click

#: `algrid run` exit code when experiments were left undone because another runner holds them (sysexits.h
#: EX_TEMPFAIL: "try again later").
EXIT_HELD = 75


def _emit_json(obj: object) -> None:
    click.echo(json.dumps(obj, indent=2, default=str))


@click.command()
@click.argument("grid_file", metavar="GRID", type=click.Path(dir_okay=False))
@click.option("--shard", metavar="i/N", help="Run only shard i of N (0-based), e.g. 3/100.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: one per CPU available to this process (affinity and cgroup quota)].",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False),
    help="Result store [default: results/<grid name>].",
)
@click.option("--retry-failed", is_flag=True, help="Also rerun experiments recorded as failed or timeout.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option(
    "--scheduler", metavar="ADDR", help="Dask scheduler address (tcp://host:port); none: a LocalCluster."
)
@click.option(
    "--memory-mb", type=click.IntRange(min=64), help="Per-worker memory cap in MiB (default: grid memory_mb)."
)
@click.option(
    "--in-process",
    is_flag=True,
    help="Run experiments in this process (no worker processes; soft time limit).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--flush-every",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Commit after this many experiments.",
)
@click.option(
    "--flush-seconds",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="...or after this many seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON instead of a table.")
def run(
    grid_file: str,
    shard: str | None,
    jobs: int | None,
    store_dir: str | None,
    retry_failed: bool,
    backend: str,
    scheduler: str | None,
    memory_mb: int | None,
    in_process: bool,
    no_progress: bool,
    flush_every: int,
    flush_seconds: float,
    as_json: bool,
) -> None:
    """Run a grid (or one shard of it) into its result store; resumes where it left off."""
    from algrid.api import run as run_grid

    if scheduler and backend != "dask":
        raise click.UsageError("--scheduler needs --backend dask")
    # flush settings exist only for the local backend (RunSession), so they are passed only there
    local_only: dict[str, Any] = (
        {"flush_every": flush_every, "flush_seconds": flush_seconds} if backend == "local" else {}
    )
    summary = run_grid(
        grid_file,
        store_dir,
        shard=shard,
        jobs=jobs,
        retry_failed=retry_failed,
        backend=cast(Literal["local", "dask"], backend),  # click.Choice checked it
        scheduler=scheduler,
        in_process=in_process,
        memory_mb=memory_mb,
        progress=not no_progress,
        **local_only,
    )
    if as_json:
        _emit_json(summary.to_json())
    else:
        click.echo(summary.table())
    if summary.held_elsewhere:  # not done: say so, and exit non-zero so that scripts and SLURM see it
        click.echo(
            f"error: {summary.held_elsewhere} experiment(s) left undone: claimed by another runner (claims/ in "
            f"{summary.store}); rerun when it has finished, or `algrid store verify --repair` if none is alive",
            err=True,
        )
        sys.exit(EXIT_HELD)


@click.command()
@click.argument("store_dir", metavar="STORE", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    help="Per-shard counts for N shards [default: N the runs recorded].",
)
@click.option(
    "--grid",
    "grid_file",
    type=click.Path(dir_okay=False),
    help="Count against this grid [default: the store's current grid].",
)
def status(store_dir: str, as_json: bool, shards: int | None, grid_file: str | None) -> None:
    """How many experiments of the store's grid are ok, failed, timeout or pending (overall, per shard, per value)."""
    from algrid.cluster.slurm import format_array_status, store_array_status
    from algrid.store.status import format_status, store_status

    st = store_status(store_dir, grid_path=grid_file, shards=shards)
    # the store knows the experiments, the cluster layer the array tasks: merged here, the layer above both
    slurm = store_array_status(store_dir)
    if slurm is not None:
        st["slurm"] = slurm
    if as_json:
        click.echo(json.dumps(st, indent=2, default=str))
    else:
        text = format_status(st)
        click.echo(text if slurm is None else f"{text}\n{format_array_status(slurm)}")


@click.group()
def store() -> None:
    """Check, repair, compact, export and bundle result stores."""


@store.command()
@click.argument("store_dir", metavar="STORE", type=click.Path())
@click.option(
    "--repair",
    is_flag=True,
    help="Quarantine unreadable parts, drop duplicated/incomplete rows (they become pending).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify(store_dir: str, repair: bool, as_json: bool) -> None:
    """Exit 0 only if every part is readable, no experiment is stored twice and every run row has its curves.

    STORE may be a bundle (`store bundle`): then every file's checksum is checked against its manifest."""
    from pathlib import Path

    if Path(store_dir).is_file():
        from algrid.analysis.bundle import verify_bundle

        check = verify_bundle(store_dir)
        if as_json:
            _emit_json(check.to_json())
        else:
            click.echo(check.line(), err=not check.ok)
        sys.exit(0 if check.ok else 1)
    from algrid.store.verify import verify as do_verify

    report = do_verify(store_dir, repair=repair)
    if as_json:
        _emit_json(report.to_json())
    else:
        for line in report.repaired:
            click.echo(f"repaired: {line}")
        for line in report.notes:
            click.echo(f"note: {line}")
        for line in report.warnings:
            click.echo(line, err=True)
        for line in report.problems:
            click.echo(f"problem: {line}", err=True)
        verdict = "OK" if report.ok else "FAILED"
        click.echo(
            f"{verdict}: {report.store}: {report.parts} parts, {report.experiments} experiments, {len(report.problems)} problem(s)"
        )
    if not report.ok:
        sys.exit(1)


@store.command()
@click.argument("store_dir", metavar="STORE", type=click.Path(file_okay=False))
@click.option(
    "--min-age",
    type=float,
    default=300.0,
    show_default=True,
    help="Only delete orphans/temp files older than this (s).",
)
@click.option("--json", "as_json", is_flag=True)
def compact(store_dir: str, min_age: float, as_json: bool) -> None:
    """Merge small parts into large sorted ones (atomically) and drop uncommitted leftovers."""
    from algrid.store.compact import compact as do_compact

    res = do_compact(store_dir, min_age_s=min_age)
    if as_json:
        _emit_json(res)
    else:
        click.echo(
            f"compacted {res['merged_parts']} parts into {res['new_parts']} ({res['parts_before']} -> {res['parts_after']} parts); "
            f"removed {res['orphans_removed']} orphan and {res['tmp_removed']} temporary files"
        )
        for skip in res.get("skipped", []):
            click.echo(
                f"skipped {len(skip['parts'])} part(s) ({', '.join(skip['parts'][:3])}): {skip['reason']}"
            )
        for name in res.get("untrusted_journals", []):
            click.echo(f"ignored untrusted journal/{name}: `algrid store verify --repair` quarantines it")


@store.command()
@click.argument("store_dir", metavar="STORE", type=click.Path(file_okay=False))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Bundle file: .tar, .tar.gz, .tgz or .zip.",
)
@click.option("--no-report", is_flag=True, help="Leave the interactive report out of the bundle.")
@click.option("--json", "as_json", is_flag=True, help="Print the bundle's manifest summary as JSON.")
def bundle(store_dir: str, out: str, no_report: bool, as_json: bool) -> None:
    """Write one shareable archive: a compacted copy of the store, its grids, a version manifest, a checksum per
    file and the interactive report. The store itself is not modified; `query`, `report` and `store verify` open
    the bundle directly."""
    from algrid.analysis.bundle_write import write_bundle

    res = write_bundle(store_dir, out, report=not no_report)
    if as_json:
        _emit_json(res)
    else:
        note = f"; {res['report_note']}" if res.get("report_note") else ""
        click.echo(f"wrote {res['bundle']}: {res['n_files']} files, {res['bytes'] / 2**20:.1f} MiB{note}")


@store.command()
@click.argument("store_dir", metavar="STORE", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), required=True)
@click.option(
    "--out",
    type=click.Path(),
    help="Output directory [default: the working directory], or a file name ending in .csv/.parquet.",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    type=click.Choice(["runs", "curves", "queries"]),
    help="Only these tables (repeatable).",
)
def export(store_dir: str, fmt: str, out: str | None, tables: tuple[str, ...]) -> None:
    """Write the committed runs, curves and queries as plain CSV or Parquet files."""
    from algrid.store.compact import export as do_export

    for path in do_export(store_dir, fmt, out, tables or ("runs", "curves", "queries")):
        click.echo(str(path))
