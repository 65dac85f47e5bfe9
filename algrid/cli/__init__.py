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
    """Loads a command's module only when that command runs, so `algrid grid info` never imports
    matplotlib, DuckDB or the AL libraries."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for _, name in _COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for module, attr in _COMMANDS:
            if attr == cmd_name:
                try:
                    return getattr(importlib.import_module(module), attr)
                except ModuleNotFoundError as exc:  # a command module that is not installed
                    if exc.name != module:
                        raise
                    return None
        return None

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
