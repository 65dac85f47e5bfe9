"""`algrid query ...` and `algrid report`: thin wrappers over algrid.analysis (each query: --json or a table)."""

from __future__ import annotations

import json
from collections.abc import Callable

import click

from algrid.analysis import tables
from algrid.analysis.values import MISSING_POLICIES, SUMMARY_CHOICES
from algrid.results import DIMENSIONS


def _store_arg(f: Callable) -> Callable:
    """STORE: a result store directory or a bundle file (`algrid store bundle`), opened read-only."""
    return click.argument("store", type=click.Path())(f)


def _common(f: Callable) -> Callable:
    """--where, --metric, --summary, --missing, --json (every query takes them)."""
    for opt in reversed(
        [
            click.option(
                "--where",
                default=None,
                metavar="SQL",
                help="SQL condition on runs columns, e.g. \"dataset='iris' AND batch_size=5\".",
            ),
            click.option("--metric", default="f1_weighted", show_default=True, help="Metric to summarise."),
            click.option(
                "--summary",
                type=click.Choice(SUMMARY_CHOICES),
                default="aulc",
                show_default=True,
                help="Learning-curve summary (ramp_up/plateau split at random's cutoff; aulc_labels: area over n_labeled).",
            ),
            click.option(
                "--missing",
                type=click.Choice(MISSING_POLICIES),
                default="zero",
                show_default=True,
                help="Missing experiments (pending/failed/timeout): count as 0, drop, or worst-in-setting.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
        ]
    ):
        f = opt(f)
    return f


def _emit(result: dict, as_json: bool, render: Callable[[dict], str]) -> None:
    click.echo(json.dumps(result, indent=2) if as_json else render(result))


def _open(store: str, where: str | None):
    from algrid.analysis.source import open_store

    return open_store(store, where)


@click.group()
def query() -> None:
    """Ask a result store questions (leaderboard, impact, stability, compare, cd, runtime)."""


@query.command()
@_store_arg
@_common
def leaderboard(
    store: str, where: str | None, metric: str, summary: str, missing: str, as_json: bool
) -> None:
    """Rank strategies per dataset by the summary averaged over all other settings; mean rank over datasets."""
    from algrid.analysis.leaderboard import leaderboard as run

    with _open(store, where) as s:
        _emit(run(s, metric, summary, missing), as_json, tables.render_leaderboard)


@query.command()
@_store_arg
@click.option(
    "--param",
    default=None,
    help=f"Hyperparameter: one of {', '.join(d for d in DIMENSIONS if d != 'strategy')}.",
)
@click.option("--all", "all_params", is_flag=True, help="Rank every hyperparameter by influence.")
@click.option(
    "--jaccard-blocks",
    default=None,
    type=click.IntRange(min=0),
    help="Matched blocks sampled for the Jaccard overlap (default 200, 50 with --all; 0 = skip).",
)
@click.option("--exact", is_flag=True, help="Jaccard overlap over every matched block instead of a sample.")
@_common
def impact(
    store: str,
    param: str | None,
    all_params: bool,
    jaccard_blocks: int | None,
    exact: bool,
    where: str | None,
    metric: str,
    summary: str,
    missing: str,
    as_json: bool,
) -> None:
    """How much one hyperparameter (or every one, --all) changes results, selections and rankings.

    \b
    variance_share         share of the summary's variance explained by P alone (eta squared)
    variance_share_within  the same after removing the means of matched blocks (other settings fixed)
    kendall_tau            mean Kendall tau between leaderboards built from each value of P (1 = same ranking)
    tau_vs_all             mean Kendall tau of each value's leaderboard against the one of all data
    pearson                mean Pearson correlation of the summary between two values over matched experiments
    jaccard                mean overlap of the samples selected by matched experiments (1 = same samples)
    """
    from algrid.analysis.impact import check_param, impact_all
    from algrid.analysis.impact import impact as run

    if all_params == (param is not None):
        raise click.UsageError("give exactly one of --param P or --all")
    if param is not None:
        check_param(param)
    if exact and jaccard_blocks is not None:
        raise click.UsageError("give --exact or --jaccard-blocks, not both")
    with _open(store, where) as s:
        if all_params:
            res = impact_all(s, metric, summary, missing, jaccard_blocks=_blocks(exact, jaccard_blocks, 50))
            _emit(res, as_json, tables.render_impact_all)
        else:
            assert param is not None  # exactly one of --param / --all, checked above
            res = run(
                s,
                param,
                metric,
                summary,
                missing,
                jaccard_blocks=_blocks(exact, jaccard_blocks, 200),
            )
            _emit(res, as_json, tables.render_impact)


def _blocks(exact: bool, given: int | None, default: int) -> int | None:
    """Blocks sampled for the Jaccard overlap: None (all) with --exact."""
    if exact:
        return None
    return default if given is None else given


@query.command()
@_store_arg
@click.option(
    "--dimension", default=None, help="Sample values of this dimension instead of full combinations."
)
@click.option("--repeats", default=20, show_default=True, type=click.IntRange(min=1), help="Samples per k.")
@click.option("--target", default=0.9, show_default=True, type=click.FloatRange(-1, 1), help="Tau to reach.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the resampling.")
@_common
def stability(
    store: str,
    dimension: str | None,
    repeats: int,
    target: float,
    seed: int,
    where: str | None,
    metric: str,
    summary: str,
    missing: str,
    as_json: bool,
) -> None:
    """Kendall tau of leaderboards from k random combinations vs the full leaderboard, as a function of k."""
    from algrid.analysis.stability import stability as run

    with _open(store, where) as s:
        res = run(s, dimension, repeats, metric, summary, missing, target=target, seed=seed)
        _emit(res, as_json, tables.render_stability)


@query.command()
@_store_arg
@click.option("--a", "a", required=True, metavar="STRAT", help="name or name@implementation.")
@click.option("--b", "b", required=True, metavar="STRAT", help="name or name@implementation.")
@_common
def compare(
    store: str, a: str, b: str, where: str | None, metric: str, summary: str, missing: str, as_json: bool
) -> None:
    """Paired comparison of two strategies over matched experiments (win/tie/loss, Wilcoxon, effect size)."""
    from algrid.analysis.stats import compare as run

    with _open(store, where) as s:
        _emit(run(s, a, b, metric, summary, missing), as_json, tables.render_compare)


@query.command()
@_store_arg
@click.option("--alpha", default=0.05, show_default=True, type=float, help="Significance level.")
@_common
def cd(
    store: str, alpha: float, where: str | None, metric: str, summary: str, missing: str, as_json: bool
) -> None:
    """Friedman test and Nemenyi critical-difference ranking over datasets."""
    from algrid.analysis.stats import critical_difference

    with _open(store, where) as s:
        _emit(critical_difference(s, metric, summary, missing, alpha), as_json, tables.render_cd)


@query.command()
@_store_arg
@click.option("--where", default=None, metavar="SQL", help="SQL condition on runs columns.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def runtime(store: str, where: str | None, as_json: bool) -> None:
    """Fit and query time per strategy, learner and dataset size; timeouts and failures."""
    from algrid.analysis.runtime import runtime as run

    with _open(store, where) as s:
        _emit(run(s), as_json, tables.render_runtime)


@click.command()
@_store_arg
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--where", default=None, metavar="SQL", help="SQL condition on runs columns.")
@click.option("--metric", default="f1_weighted", show_default=True, help="Metric to summarise.")
@click.option("--summary", type=click.Choice(SUMMARY_CHOICES), default="aulc", show_default=True)
@click.option("--missing", type=click.Choice(MISSING_POLICIES), default="zero", show_default=True)
@click.option(
    "--static",
    "static",
    is_flag=True,
    help="Static page with PNG plots (for papers) instead of the interactive one.",
)
@click.option("--exact", is_flag=True, help="Compute sampled figures (Jaccard overlap) over every block.")
def report(
    store: str,
    out_dir: str,
    where: str | None,
    metric: str,
    summary: str,
    missing: str,
    static: bool,
    exact: bool,
) -> None:
    """Write DIR/index.html: one self-contained interactive page (no server, no network), or with --static a
    page of PNG plots. STORE may be a bundle from `algrid store bundle`."""
    with _open(store, where) as s:
        if static:
            from algrid.analysis.report import write_report

            path = write_report(s, out_dir, metric=metric, summary=summary, missing=missing, exact=exact)
        else:
            from algrid.analysis.report_page import write_interactive_report

            path = write_interactive_report(
                s, out_dir, metric=metric, summary=summary, missing=missing, source=store
            )
    click.echo(f"wrote {path}")
