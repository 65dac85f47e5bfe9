"""The `algrid` command: a thin layer over the Python API.

Each command group lives in its own module; this module only assembles them and turns user errors
(algrid.errors.AlgridError) into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import importlib
import sys

import click

from algrid import __version__
from algrid.errors import AlgridError

# (module, attribute) of every top-level command; a module owns its commands.
_COMMANDS: list[tuple[str, str]] = [
    ("algrid.cli.grid_cmd", "grid"),
    ("algrid.cli.datasets_cmd", "datasets"),
    ("algrid.cli.engine_cmd", "strategies"),
    ("algrid.cli.engine_cmd", "experiment"),
    ("algrid.cli.run_cmd", "run"),
    ("algrid.cli.run_cmd", "status"),
    ("algrid.cli.run_cmd", "store"),
    ("algrid.cli.cluster_cmd", "slurm"),
    ("algrid.cli.query_cmd", "query"),
    ("algrid.cli.query_cmd", "report"),
]


class _Main(click.Group):
    def invoke(self, ctx: click.Context):  # noqa: D401 - click hook
        try:
            return super().invoke(ctx)
        except AlgridError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="algrid")
def main() -> None:
    """algrid: active-learning benchmark grids, from grid file to hyperparameter impact."""


for _module, _attr in _COMMANDS:
    try:
        main.add_command(getattr(importlib.import_module(_module), _attr))
    except ModuleNotFoundError as _exc:  # a command module that does not exist yet
        if _exc.name != _module:
            raise
