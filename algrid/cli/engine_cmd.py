"""`algrid strategies` (the registry) and `algrid experiment GRID INDEX` (one AL loop, in-process)."""

from __future__ import annotations

import json
import math
from importlib import metadata
from typing import Any

import click

from algrid.cli.listing import width_option
from algrid.errors import GridError


def _library_version(library: str) -> str | None:
    if not library:
        return None
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return None


def strategy_rows() -> list[dict[str, Any]]:
    """One dict per registered (strategy, implementation) pair, as `algrid strategies --json` prints them."""
    from algrid import plugins
    from algrid.strategies import all_strategies

    rows = []
    for spec in all_strategies():
        owner = plugins.owner_of("strategy", f"{spec.name}@{spec.implementation}")
        version = _library_version(spec.library)
        available, reason = spec.available, spec.unavailable_reason
        if available and spec.library and version is None:
            available, reason = False, f"library {spec.library} is not installed"
        rows.append(
            {
                "strategy": spec.name,
                "implementation": spec.implementation,
                "binary_only": spec.binary_only,
                "needs_proba": spec.needs_proba,
                "uses_oracle": spec.uses_oracle,
                "available": available,
                "reason": reason,
                "library": spec.library,
                "library_version": version,
                "batch_mode": spec.batch_mode,
                "description": spec.description,
                "source": owner.ref if owner else "algrid",
                "plugin_version": owner.version if owner else None,
            }
        )
    return rows


def filter_strategies(
    rows: list[dict[str, Any]],
    implementation: tuple[str, ...] = (),
    available: bool | None = None,
    multiclass: bool = False,
    binary_only: bool = False,
    search: str | None = None,
) -> list[dict[str, Any]]:
    """The rows of `strategy_rows` that pass every given filter (see `algrid strategies --help`)."""
    impls = {i.lower() for i in implementation}
    out = []
    for r in rows:
        if impls and r["implementation"].lower() not in impls:
            continue
        if available is not None and bool(r["available"]) != available:
            continue
        if multiclass and r["binary_only"]:
            continue
        if binary_only and not r["binary_only"]:
            continue
        if search and search.lower() not in f"{r['strategy']} {r['description'] or ''}".lower():
            continue
        out.append(r)
    return out


@click.command("strategies")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.option(
    "--implementation",
    "implementation",
    multiple=True,
    metavar="NAME",
    help="Only this implementation (native, modal, smalltext, skactiveml, ...; repeatable).",
)
@click.option(
    "--available/--unavailable", "available", default=None, help="Only usable (or only unusable) pairs."
)
@click.option("--multiclass", is_flag=True, help="Only strategies that work on multiclass data.")
@click.option("--binary-only", is_flag=True, help="Only strategies restricted to binary data.")
@click.option("--search", metavar="TEXT", help="Only names or descriptions containing TEXT.")
@width_option
def strategies(
    as_json: bool,
    implementation: tuple[str, ...],
    available: bool | None,
    multiclass: bool,
    binary_only: bool,
    search: str | None,
    width: int,
) -> None:
    """List every (strategy, implementation) pair of the registry (filters apply to --json too)."""
    from algrid.cli.listing import Column, render

    rows = filter_strategies(strategy_rows(), implementation, available, multiclass, binary_only, search)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = [
        {
            "strategy": r["strategy"],
            "implementation": r["implementation"],
            "binary": "yes" if r["binary_only"] else "no",
            "proba": "yes" if r["needs_proba"] else "no",
            "available": "yes" if r["available"] else "no",
            "batch": r["batch_mode"],
            "note": r["reason"] if not r["available"] else r["description"],
        }
        for r in rows
    ]
    columns = [
        Column("strategy", "strategy", shrink=True, min_width=16),
        Column("implementation", "implementation"),
        Column("binary", "binary"),
        Column("proba", "proba"),
        Column("available", "avail"),
        Column("batch", "batch"),
        Column("note", "description or why unavailable", shrink=True, min_width=12),
    ]
    if not table:
        click.echo("no strategy matches these filters", err=True)
        return
    click.echo(render(table, columns, width))
    click.echo(f"{len(rows)} pairs ({sum(r['available'] for r in rows)} available)", err=True)


def _json_safe(value: Any) -> Any:
    """NaN/inf -> None so the output is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


@click.command("experiment")
@click.argument("grid_path", metavar="GRID", type=click.Path(dir_okay=False))
@click.argument("index", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option("--no-cache", is_flag=True, help="Do not use the fitted-model cache (results are identical).")
def experiment(grid_path: str, index: int, as_json: bool, no_cache: bool) -> None:
    """Run experiment INDEX of GRID in this process and print its curve and selections."""
    from algrid.engine.loop import run_experiment
    from algrid.grid.lazy import load_grid

    grid = load_grid(grid_path)
    if not 0 <= index < len(grid):
        raise GridError(
            f"{grid_path}: experiment index {index} out of range (grid has {len(grid)} experiments)"
        )
    config = grid[index]
    result = run_experiment(
        config, grid.settings, exp_key=grid.exp_key(config), cache=False if no_cache else None
    )
    result.exp_index = index
    if as_json:
        click.echo(json.dumps(_json_safe(result.to_json()), indent=2))
        return
    _print_human(result)


def _print_human(result: Any) -> None:
    from algrid.results import CURVE_METRICS

    click.echo(f"exp_key   {result.exp_key}   (index {result.exp_index})")
    click.echo("config    " + "  ".join(f"{k}={v}" for k, v in result.config.items()))
    status = result.status + (f"  {result.error}" if result.error else "")
    click.echo(f"status    {status}   cycles_done={result.cycles_done}   wall={result.wall_s:.2f}s")
    names = ("cycle", "n_labeled", *CURVE_METRICS, "fit_s", "query_s", "selected")
    short = {"balanced_accuracy": "bal_acc", "precision_macro": "prec_macro", "recall_macro": "rec_macro"}
    header = [short.get(n, n) for n in names]
    rows = []
    for c, (row, sel) in enumerate(zip(result.curve, result.selected, strict=False)):
        shown = sel if len(sel) <= 6 else [*sel[:5], "..."]
        cells = [str(c), str(row["n_labeled"])]
        cells += [f"{row[m]:.4f}" for m in CURVE_METRICS]
        cells += [f"{row['fit_s']:.3f}", f"{row['query_s']:.3f}", ",".join(map(str, shown))]
        rows.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    click.echo("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        click.echo("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    if result.summary:
        keys = [k for k in result.summary if k.startswith(("accuracy_", "f1_macro_"))]
        click.echo("summary   " + "  ".join(f"{k}={result.summary[k]:.4f}" for k in keys))
