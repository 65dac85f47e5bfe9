"""`algrid grid ...`: inspect, validate, list and shard a grid file without running anything."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np
import pyarrow as pa

from algrid.errors import AlgridError
from algrid.grid.lazy import Grid, load_grid


def parse_shard(spec: str | None, total: int | None = None) -> tuple[int, int] | None:
    """'i/N' -> (i, N), 0-based; one-line errors for anything else."""
    if spec is None:
        return None
    head, sep, tail = spec.partition("/")
    if not sep or not head.strip().isdigit() or not tail.strip().isdigit():
        raise click.BadParameter(f"expected i/N with 0 <= i < N, got {spec!r}", param_hint="--shard")
    i, n = int(head), int(tail)
    if n < 1 or i >= n:
        raise click.BadParameter(f"expected i/N with 0 <= i < N, got {spec!r}", param_hint="--shard")
    return i, n


def _emit_json(obj: object) -> None:
    click.echo(json.dumps(obj, indent=2, default=_json_default))


def _json_default(o: object) -> object:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _grid(path: str) -> Grid:
    return load_grid(path)


@click.group()
def grid() -> None:
    """Inspect, validate, list and shard grid files."""


@grid.command()
@click.argument("grid_file", metavar="GRID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info(grid_file: str, as_json: bool) -> None:
    """How many experiments, per dimension, and what was left out and why."""
    g = _grid(grid_file)
    data = g.info()
    if as_json:
        _emit_json(data)
        return
    click.echo(f"grid        {data['name']}  ({grid_file})")
    click.echo(f"experiments {data['total']:,}")
    click.echo(f"fingerprint {data['fingerprint']}")
    click.echo(
        f"settings    {_length_text(g.settings, '=')} test_size={g.settings['test_size']} "
        f"timeout_s={g.settings['timeout_s']:g} preprocessing={g.settings['preprocessing']}"
    )
    click.echo("dimensions:")
    for dim, n in data["dimensions"].items():
        values = g.values[dim]
        shown = ", ".join(map(str, values[:8])) + (", ..." if len(values) > 8 else "")
        click.echo(f"  {dim:<15}{n:>5}  {shown}")
    click.echo(f"excluded    {data['excluded']:,}")
    for reason, n in _collapse_reasons(data["excluded_by_reason"]):
        click.echo(f"  {n:>12,}  {reason}")


def _collapse_reasons(reasons: dict[str, int]) -> list[tuple[str, int]]:
    """'modal lacks x', 'modal lacks y' -> 'modal lacks 2 strategies (x, y)', for a readable table."""
    lacks: dict[str, list[tuple[str, int]]] = {}
    rows: list[tuple[str, int]] = []
    for reason, n in reasons.items():
        impl, sep, strategy = reason.partition(" lacks ")
        if sep:
            lacks.setdefault(impl, []).append((strategy, n))
        else:
            rows.append((reason, n))
    for impl, items in lacks.items():
        if len(items) == 1:
            rows.append((f"{impl} lacks {items[0][0]}", items[0][1]))
            continue
        names = ", ".join(s for s, _ in items[:6]) + (", ..." if len(items) > 6 else "")
        rows.append((f"{impl} lacks {len(items)} strategies ({names})", sum(n for _, n in items)))
    return sorted(rows, key=lambda r: -r[1])


@grid.command()
@click.argument("grid_file", metavar="GRID")
@click.argument("index", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(grid_file: str, index: int, as_json: bool) -> None:
    """The configuration of experiment INDEX (0-based), with its exp_index and exp_key."""
    g = _grid(grid_file)
    if not 0 <= index < len(g):
        raise AlgridError(f"{grid_file}: INDEX {index} out of range [0, {len(g)})")
    row = g.configs([index])[0]
    if as_json:
        _emit_json(row)
        return
    for k in ("exp_index", "exp_key", *[d for d in row if d not in ("exp_index", "exp_key")]):
        click.echo(f"{k:<15}{row[k]}")


@grid.command()
@click.argument("grid_file", metavar="GRID")
@click.option(
    "--shards",
    "n_shards",
    type=click.IntRange(min=1, max=10_000_000),
    required=True,
    help="Number of shards N.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def shard(grid_file: str, n_shards: int, as_json: bool) -> None:
    """How the grid splits into N shards (sizes differ by at most one experiment)."""
    g = _grid(grid_file)
    sizes = g.shard_sizes(n_shards)
    rows = [{"shard": i, "size": int(s)} for i, s in enumerate(sizes)]
    if as_json:
        _emit_json(rows)
        return
    click.echo(f"{len(g):,} experiments in {n_shards} shards: min {sizes.min():,}, max {sizes.max():,}")
    for r in rows[:50]:
        click.echo(f"  shard {r['shard']:>6}  {r['size']:>10,}")
    if len(rows) > 50:
        click.echo(f"  ... ({len(rows) - 50} more; use --json)")


@grid.command(name="list")
@click.argument("grid_file", metavar="GRID")
@click.option("--shard", "shard_spec", default=None, help="Only shard i of N, as i/N (0-based).")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most M rows.")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv", "parquet"]), default="table")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout."
)
def list_(grid_file: str, shard_spec: str | None, limit: int | None, fmt: str, out: str | None) -> None:
    """One row per experiment: exp_index, exp_key and every dimension."""
    g = _grid(grid_file)
    sh = parse_shard(shard_spec)
    if sh is None:
        stop = len(g) if limit is None else min(limit, len(g))
        indices = np.arange(stop, dtype=np.int64)
    else:
        indices = g.shard(*sh)
        if limit is not None:
            indices = indices[:limit]
    if fmt == "parquet" and out is None:
        raise AlgridError("--format parquet needs --out FILE")
    write_table(g, indices, fmt, out)


def write_table(g: Grid, indices: np.ndarray, fmt: str, out: str | None, chunk: int = 250_000) -> None:
    """Stream decoded rows in chunks, so listing millions of experiments never holds them all in memory."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
    sink = open(out, "wb") if out is not None else sys.stdout.buffer  # noqa: SIM115 - closed below
    writer = None
    try:
        for start in range(0, max(len(indices), 1), chunk):
            part = indices[start : start + chunk]
            if part.size == 0 and start > 0:
                break
            table = g.decode(part)
            if fmt == "parquet":
                writer = writer or pq.ParquetWriter(sink, table.schema, compression="zstd")
                writer.write_table(table)
            elif fmt == "csv":
                plain = pa.table(
                    {
                        n: c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c
                        for n, c in zip(table.column_names, table.columns, strict=True)
                    }
                )
                pacsv.write_csv(plain, sink, pacsv.WriteOptions(include_header=start == 0))
            elif fmt == "jsonl":
                for row in table.to_pylist():
                    sink.write((json.dumps(row) + "\n").encode())
            else:
                rows = table.to_pylist()
                cols = table.column_names
                widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in cols}
                if start == 0:
                    sink.write(("  ".join(c.ljust(widths[c]) for c in cols) + "\n").encode())
                for r in rows:
                    sink.write(("  ".join(str(r[c]).ljust(widths[c]) for c in cols) + "\n").encode())
    finally:
        if writer is not None:
            writer.close()
        if out is not None:
            sink.close()
        else:
            sink.flush()


@grid.command()
@click.argument("grid_file", metavar="GRID")
def validate(grid_file: str) -> None:
    """Check a grid file; exit 0 if it is valid, 2 with a one-line error otherwise."""
    g = _grid(grid_file)
    click.echo(
        f"{grid_file}: ok ({len(g):,} experiments, {g.excluded:,} excluded, fingerprint {g.fingerprint})"
    )


def cpu_time(hours: float) -> str:
    """CPU time in the unit that suits its size: '45 s', '12.5 min', '3.2 h', '1,234 h' (never '0.0 h')."""
    seconds = hours * 3600.0
    if seconds < 90:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{hours:,.1f} h" if hours < 1000 else f"{hours:,.0f} h"


@grid.command()
@click.argument("grid_file", metavar="GRID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--calibration",
    "calibration",
    default=None,
    metavar="FILE",
    help="Cost-model JSON (default: the shipped one), or a result store directory to re-scale it from.",
)
@click.option("--top", type=click.IntRange(min=1), default=15, help="Rows per breakdown in the table output.")
@click.option(
    "--cycle-limit",
    "cycle_limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Per-cycle time cap: a run ends (as timeout) at its first query cycle longer than this "
    "(default: the grid's cycle_limit_s, if any).",
)
def estimate(
    grid_file: str, as_json: bool, calibration: str | None, top: int, cycle_limit: float | None
) -> None:
    """Projected CPU hours of a grid, per dataset, learner and strategy, from measured per-cycle costs."""
    from algrid.api import load_calibration
    from algrid.cost.estimate import estimate_grid

    g = _grid(grid_file)
    data = estimate_grid(g, load_calibration(calibration), cycle_limit_s=cycle_limit)
    if as_json:
        _emit_json(data)
        return
    total = data["cpu_hours"]
    click.echo(f"grid        {data['grid']}  ({grid_file})")
    click.echo(f"experiments {data['experiments']:,}  {_length_text(data, ' ')}")
    per_exp = data["cpu_minutes_per_experiment"] / 60.0
    click.echo(f"cpu time    {cpu_time(total)}  ({total:,.4g} cpu hours; {cpu_time(per_exp)} per experiment)")
    click.echo(f"calibration {data['calibration']['source']}")
    if data["cycle_limit_s"]:
        click.echo(
            f"cycle limit {data['cycle_limit_s']:g} s: {data['capped_by_cycle_limit']['experiments']:,} "
            "experiments stop early (timeout)"
        )
    for key in ("per_dataset", "per_learner", "per_strategy", "per_implementation", "per_batch_size"):
        rows = list(data[key].items())
        click.echo(f"{key.removeprefix('per_')}:")
        for name, row in rows[:top]:
            share = row["cpu_hours"] / total if total else 0.0
            click.echo(
                f"  {name:<28}{row['experiments']:>12,}  {cpu_time(row['cpu_hours']):>14}  {share:>6.1%}"
            )
        if len(rows) > top:
            click.echo(f"  ... ({len(rows) - top} more; use --json)")
    if data["uncalibrated_pairs"]:
        shown = ", ".join(data["uncalibrated_pairs"][:6]) + (
            ", ..." if len(data["uncalibrated_pairs"]) > 6 else ""
        )
        click.echo(f"uncalibrated (default cost used): {shown}")


def _length_text(settings: dict, sep: str) -> str:
    """``cycles=10`` or ``budget=50`` (labels to reach), whichever the grid sets."""
    if settings.get("budget") is not None:
        return f"budget{sep}{settings['budget']}"
    return f"cycles{sep}{settings['cycles']}"
