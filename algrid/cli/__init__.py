"""The `algrid` command: a thin layer over the Python API.

Each command group lives in its own module; this module only assembles them and turns user errors
(algrid.errors.AlgridError) into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from algrid import __version__
from algrid.errors import AlgridError

# (module, attribute) of every top-level command; a module owns its commands.
_COMMANDS: list[tuple[str, str]] = [
    ("algrid.cli.grid_cmd", "grid"),
    ("algrid.cli.datasets_cmd", "datasets"),
    ("algrid.cli.engine_cmd", "strategies"),
    ("algrid.cli.plugins_cmd", "learners"),
    ("algrid.cli.plugins_cmd", "plugins"),
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

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:  # noqa: D401 - click hook
        """``--plugins X`` is accepted anywhere on the command line, for every command."""
        argv = list(sys.argv[1:] if args is None else args)
        self.cli_plugins, argv = extract_plugins(argv)
        return super().main(argv, *a, **kw)

    def invoke(self, ctx: click.Context):  # noqa: D401 - click hook
        try:
            _load_plugins(getattr(self, "cli_plugins", []))  # every command sees the plugins
            return super().invoke(ctx)
        except AlgridError as exc:
            message = " ".join(str(exc).split())
            click.echo(f"error: {message[:2000]}", err=True)
            sys.exit(exc.exit_code)


def extract_plugins(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``--plugins A,B`` / ``--plugins=A`` (repeatable, any position before ``--``) out of ``argv``."""
    refs: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--plugins":
            if i + 1 >= len(argv):
                raise click.UsageError("--plugins needs a value: module names or .py paths, comma-separated")
            refs.extend(r for r in argv[i + 1].split(",") if r.strip())
            i += 2
            continue
        if arg.startswith("--plugins="):
            refs.extend(r for r in arg.split("=", 1)[1].split(",") if r.strip())
        else:
            rest.append(arg)
        i += 1
    return refs, rest


def _load_plugins(cli_refs: list[str]) -> None:
    """Entry points, ALGRID_PLUGINS and --plugins, then exported so that worker processes load the same."""
    from algrid import plugins

    plugins.load_configured()
    plugins.load(cli_refs, where="--plugins")
    plugins.export_for_children()


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="algrid")
def main() -> None:
    """algrid: active-learning benchmark grids, from grid file to hyperparameter impact.

    Every command accepts --plugins MODULE|FILE.py[,...] (also ALGRID_PLUGINS, a grid's `plugins:` list, and
    installed packages' `algrid.plugins` entry points): user strategies, learners and datasets.
    """
