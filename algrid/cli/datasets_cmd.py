"""`algrid datasets`: list the built-in datasets (table or --json), show one dataset, fetch OpenML datasets."""

from __future__ import annotations

import json

import click

from algrid.datasets import dataset_info, dataset_names
from algrid.datasets.registry import DatasetInfo

_NUMERIC = ("rows", "features", "classes")
_TABLE = ("name", "rows", "features", "classes", "kind", "licence", "source")


def _table(infos: list[DatasetInfo]) -> str:
    rows = [i.to_dict() for i in infos]
    cols = _TABLE[:-1]  # the source is free text: last column, unpadded
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}

    def fmt(r: dict) -> str:
        cells = [str(r[c]).rjust(width[c]) if c in _NUMERIC else str(r[c]).ljust(width[c]) for c in cols]
        return "  ".join(cells) + "  " + str(r["source"])

    return "\n".join([fmt({c: c for c in _TABLE}), *map(fmt, rows)])


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects instead of a table.")
@click.option(
    "--suite",
    "suite_name",
    metavar="NAME",
    help="List a dataset suite instead (paper: the published study's 92 datasets, whether algrid ships each, "
    "under which name, or why not).",
)
@click.pass_context
def datasets(ctx: click.Context, as_json: bool, suite_name: str | None) -> None:
    """List every built-in dataset: name, rows, features, classes, kind, licence, source.

    Rows/features/classes are after algrid's preprocessing. Besides these names, experiments accept
    openml:<id> (after `algrid datasets fetch openml:<id>`) and file:<path.csv|.parquet>#<label column>.
    """
    if ctx.invoked_subcommand is not None:
        return
    if suite_name is not None:
        from algrid.cli.datasets_suite import print_suite

        print_suite(suite_name, as_json)
        return
    infos = [dataset_info(n) for n in dataset_names()]
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in infos], indent=1))
    else:
        kinds = [i.kind for i in infos]
        click.echo(_table(infos))
        click.echo(
            f"{len(infos)} datasets ({kinds.count('multiclass')} multiclass, {kinds.count('binary')} binary)",
            err=True,
        )


@datasets.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def info_cmd(name: str, as_json: bool) -> None:
    """Show one dataset (built-in, openml:<id> from the cache, or file:<path>#<label>)."""
    meta = dataset_info(name)
    if as_json:
        click.echo(json.dumps(meta.to_dict(), indent=1))
    else:
        click.echo(_table([meta]))


@datasets.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Download again even when cached.")
@click.option(
    "--suite",
    "suite_name",
    metavar="NAME",
    help="Also fetch every dataset of this suite that algrid does not ship (e.g. paper); already cached ones "
    "are skipped, one that fails does not stop the others.",
)
def fetch_cmd(names: tuple[str, ...], force: bool, suite_name: str | None) -> None:
    """Download OpenML datasets (openml:<id> ...) into the cache ($ALGRID_CACHE or ~/.cache/algrid)."""
    from algrid.datasets import openml

    if suite_name is not None or not names:
        from algrid.cli.datasets_suite import BadOption, fetch_suite

        if suite_name is None:
            raise BadOption("datasets fetch: give openml:<id> names or --suite NAME (e.g. --suite paper)")

        fetch_suite(suite_name, tuple(f"openml:{openml.parse_id(n)}" for n in names), force)
        return
    for name in names:
        folder = openml.fetch(name, force=force)
        meta = dataset_info(f"openml:{openml.parse_id(name)}")
        click.echo(
            f"{meta.name}: {meta.rows} rows, {meta.features} features, {meta.classes} classes "
            f"({meta.source}; licence {meta.licence}) -> {folder}"
        )
