"""`algrid datasets`: list the built-in datasets (table or --json); `fetch` caches OpenML datasets."""

from __future__ import annotations

import json

import click

from algrid.datasets import dataset_info, dataset_names

_COLUMNS = ("name", "rows", "features", "classes", "kind", "source", "licence")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects instead of a table.")
@click.pass_context
def datasets(ctx: click.Context, as_json: bool) -> None:
    """List every built-in dataset with rows, features, classes, kind, source and licence."""
    if ctx.invoked_subcommand is not None:
        return
    rows = [dataset_info(n).to_dict() for n in dataset_names()]
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in _COLUMNS[:5]}
    header = "  ".join(c.ljust(widths[c]) for c in _COLUMNS[:5]) + "  source / licence"
    click.echo(header)
    for r in rows:
        left = "  ".join(
            str(r[c]).rjust(widths[c]) if c in ("rows", "features", "classes") else str(r[c]).ljust(widths[c])
            for c in _COLUMNS[:5]
        )
        click.echo(f"{left}  {r['source']} / {r['licence']}")
