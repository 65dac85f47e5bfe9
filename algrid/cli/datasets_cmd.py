"""`algrid datasets`: list the built-in datasets (table or --json), show one dataset, fetch OpenML datasets."""

from __future__ import annotations

import json

import click

from algrid.cli.listing import DEFAULT_WIDTH, Column, render, width_option
from algrid.datasets import dataset_info, dataset_names
from algrid.datasets.registry import DatasetInfo

_NUMERIC = ("rows", "features", "classes")
_TABLE = ("name", "rows", "features", "classes", "kind", "licence", "source")


def _table(infos: list[DatasetInfo], width: int = DEFAULT_WIDTH) -> str:
    """Name, sizes and kind in full; licence and source truncated to fit ``width`` (0 = no limit)."""
    columns = [
        Column(c, c, right=c in _NUMERIC, shrink=c in ("licence", "source"), min_width=12) for c in _TABLE
    ]
    return render([i.to_dict() for i in infos], columns, width)


def filter_datasets(
    infos: list[DatasetInfo],
    kind: str | None = None,
    min_rows: int | None = None,
    max_rows: int | None = None,
    min_features: int | None = None,
    max_features: int | None = None,
    min_classes: int | None = None,
    max_classes: int | None = None,
    search: str | None = None,
) -> list[DatasetInfo]:
    """The datasets passing every given filter (bounds inclusive)."""

    def within(v: int, lo: int | None, hi: int | None) -> bool:
        return (lo is None or v >= lo) and (hi is None or v <= hi)

    return [
        i
        for i in infos
        if (kind is None or i.kind == kind)
        and within(i.rows, min_rows, max_rows)
        and within(i.features, min_features, max_features)
        and within(i.classes, min_classes, max_classes)
        and (not search or search.lower() in f"{i.name} {i.source}".lower())
    ]


def _bound(name: str, help_text: str):
    return click.option(name, type=click.IntRange(min=0), default=None, help=help_text)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects instead of a table.")
@click.option(
    "--suite",
    "suite_name",
    metavar="NAME",
    help="List a dataset suite instead (paper: the published study's 92 datasets, whether algrid ships each, "
    "under which name, or why not).",
)
@click.option("--binary", "kind", flag_value="binary", default=None, help="Only two-class datasets.")
@click.option(
    "--multiclass", "kind", flag_value="multiclass", help="Only datasets with more than two classes."
)
@_bound("--min-rows", "Only datasets with at least this many rows.")
@_bound("--max-rows", "Only datasets with at most this many rows.")
@_bound("--min-features", "Only datasets with at least this many features.")
@_bound("--max-features", "Only datasets with at most this many features.")
@_bound("--min-classes", "Only datasets with at least this many classes.")
@_bound("--max-classes", "Only datasets with at most this many classes.")
@click.option("--search", metavar="TEXT", help="Only names or sources containing TEXT.")
@width_option
@click.pass_context
def datasets(
    ctx: click.Context,
    as_json: bool,
    suite_name: str | None,
    kind: str | None,
    min_rows: int | None,
    max_rows: int | None,
    min_features: int | None,
    max_features: int | None,
    min_classes: int | None,
    max_classes: int | None,
    search: str | None,
    width: int,
) -> None:
    """List every built-in dataset: name, rows, features, classes, kind, licence, source (filters apply to
    --json too).

    Rows/features/classes are after algrid's preprocessing. Besides these names, experiments accept
    openml:<id> (after `algrid datasets fetch openml:<id>`) and file:<path.csv|.parquet>#<label column>.
    """
    if ctx.invoked_subcommand is not None:
        return
    if suite_name is not None:
        from algrid.cli.datasets_suite import print_suite

        print_suite(suite_name, as_json)
        return
    infos = filter_datasets(
        [dataset_info(n) for n in dataset_names()],
        kind,
        min_rows,
        max_rows,
        min_features,
        max_features,
        min_classes,
        max_classes,
        search,
    )
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in infos], indent=1))
        return
    if not infos:
        click.echo("no dataset matches these filters", err=True)
        return
    kinds = [i.kind for i in infos]
    click.echo(_table(infos, width))
    click.echo(
        f"{len(infos)} datasets ({kinds.count('multiclass')} multiclass, {kinds.count('binary')} binary)",
        err=True,
    )


@datasets.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@width_option
def info_cmd(name: str, as_json: bool, width: int) -> None:
    """Show one dataset (built-in, openml:<id> from the cache, or file:<path>#<label>)."""
    meta = dataset_info(name)
    if as_json:
        click.echo(json.dumps(meta.to_dict(), indent=1))
    else:
        click.echo(_table([meta], width))


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
