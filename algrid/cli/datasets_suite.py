"""`algrid datasets --suite NAME` and `algrid datasets fetch --suite NAME`: a study's dataset table, and fetching
the part algrid does not ship from OpenML. Kept apart from datasets_cmd.py, which only wires the options."""

from __future__ import annotations

import json

import click

from algrid.datasets.registry import DatasetError
from algrid.errors import AlgridError

_COLUMNS = ("name", "openml_id", "shipped", "algrid_name")


class BadOption(AlgridError):
    """A bad option value: one line naming the option and value, exit code 2."""

    exit_code = 2


def _entries(suite_name: str, command: str = "datasets"):
    from algrid.datasets.suites import suite

    try:
        return suite(suite_name)
    except DatasetError as exc:
        raise BadOption(f"{command} --suite: {exc}") from None


def print_suite(suite_name: str, as_json: bool) -> None:
    """The suite's table (name, openml_id, shipped, algrid_name, reason), or the same as a JSON list."""
    entries = _entries(suite_name)
    rows = [e.to_dict() for e in entries]
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    cells = [{c: "-" if r[c] is None else str(r[c]).lower() if c == "shipped" else str(r[c]) for c in _COLUMNS}
             for r in rows]  # fmt: skip
    width = {c: max(len(c), *(len(x[c]) for x in cells)) for c in _COLUMNS}
    click.echo("  ".join(c.ljust(width[c]) for c in _COLUMNS) + "  reason")
    for r, x in zip(rows, cells, strict=True):
        click.echo(
            "  ".join(x[c].ljust(width[c]) for c in _COLUMNS) + "  " + (r["reason"] or r["match"] or "")
        )
    shipped = sum(e.shipped for e in entries)
    fetchable = sum(1 for e in entries if not e.shipped and e.openml_id is not None)
    click.echo(
        f"{len(entries)} datasets in suite {suite_name}: {shipped} shipped, {len(entries) - shipped} not "
        f"({fetchable} on OpenML: `algrid datasets fetch --suite {suite_name}`)",
        err=True,
    )


def fetch_suite(suite_name: str | None, names: tuple[str, ...], force: bool) -> None:
    """Fetch `names` plus every not-shipped OpenML dataset of the suite; a failing dataset does not stop the rest
    (exit 1 at the end), a network failure stops at once (exit 3, from NetworkError)."""
    from algrid.datasets import openml
    from algrid.datasets.suites import fetch_targets

    targets = list(names)
    labels = {}
    if suite_name is not None:
        labels = {e.openml_name: e.name for e in _entries(suite_name, "datasets fetch") if e.openml_name}
        targets += [t for t in fetch_targets(suite_name) if t not in targets]

    def report(outcome: openml.FetchOutcome) -> None:
        label = f"{outcome.name} ({labels[outcome.name]})" if outcome.name in labels else outcome.name
        if outcome.status == "failed":
            click.echo(f"{label}: FAILED: {outcome.error}", err=True)
            return
        from algrid.datasets import dataset_info

        meta = dataset_info(outcome.name)
        click.echo(
            f"{label}: {outcome.status}, {meta.rows} rows, {meta.features} features, {meta.classes} classes "
            f"(licence {meta.licence}) -> {outcome.folder}"
        )

    outcomes = openml.fetch_all(targets, force=force, report=report)
    failed = [o.name for o in outcomes if o.status == "failed"]
    done = {s: sum(o.status == s for o in outcomes) for s in ("fetched", "cached")}
    click.echo(
        f"{len(outcomes)} datasets: {done['fetched']} fetched, {done['cached']} already cached, "
        f"{len(failed)} failed",
        err=True,
    )
    if failed:
        raise click.exceptions.Exit(1)
