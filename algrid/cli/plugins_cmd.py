"""`algrid learners` (every learner: name, class, parameters, source) and `algrid plugins list|check`."""

from __future__ import annotations

import json
from typing import Any

import click


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _public_path(cls: type) -> str:
    """The shortest importable dotted path of a class (sklearn.svm.SVC, not sklearn.svm._classes.SVC)."""
    import importlib

    parts = cls.__module__.split(".")
    for i in range(1, len(parts) + 1):
        candidate = ".".join(parts[:i])
        try:
            if getattr(importlib.import_module(candidate), cls.__name__, None) is cls:
                return f"{candidate}.{cls.__name__}"
        except ImportError:
            continue
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(estimator: Any) -> tuple[str, dict[str, Any]]:
    """Dotted class path and the parameters that differ from the class defaults (the seed left out)."""
    cls = type(estimator)
    path = _public_path(cls)
    params = estimator.get_params(deep=False)
    try:
        defaults = cls().get_params(deep=False)
    except Exception:  # noqa: BLE001 - a class without a no-argument constructor: show every parameter
        defaults = {}
    shown = {
        k: v for k, v in params.items() if k != "random_state" and (k not in defaults or defaults[k] != v)
    }
    return path, _jsonable(shown)


def learner_rows(grid_file: str | None = None) -> list[dict[str, Any]]:
    """One dict per learner, as `algrid learners --json` prints them."""
    from algrid import plugins
    from algrid.learners import BUILTIN_LEARNERS, LEARNER_NOTES, LEARNERS, make_learner
    from algrid.learners.catalog import CATALOG, library_version, unavailable_reason

    rows = []
    for name, (_, cost) in LEARNERS.items():
        owner = plugins.owner_of("learner", name)
        info = CATALOG.get(name)  # built-ins: where the definition comes from, what it needs installed
        row: dict[str, Any] = {
            "name": name,
            "class": None,
            "params": {},
            "source": info.source
            if info
            else ("algrid" if name in BUILTIN_LEARNERS else (owner.ref if owner else "runtime")),
            "version": None if owner is None else owner.version,
            "relative_cost": cost,
            "available": True,
            "unavailable_reason": "",
            "description": info.notes if info else LEARNER_NOTES.get(name, ""),
        }
        if info is not None:
            row.update(library=info.library, library_version=library_version(info), extra=info.extra or None)
        if reason := unavailable_reason(name):  # a missing extra: say which, without importing anything
            row["available"], row["unavailable_reason"] = False, reason
            if info is not None:
                row["class"], row["params"] = info.cls, _jsonable(info.params)
            rows.append(row)
            continue
        try:
            row["class"], row["params"] = _describe(make_learner(name, 0))
        except ImportError as exc:
            row["available"], row["unavailable_reason"] = False, f"needs {exc.name or exc}"
        except Exception as exc:  # noqa: BLE001 - one broken learner must not hide the others
            row["available"], row["unavailable_reason"] = False, f"{type(exc).__name__}: {exc}"[:200]
        rows.append(row)
    if grid_file:
        from algrid.grid import load_grid
        from algrid.learners.defined import definition_version

        grid = load_grid(grid_file)
        for name, definition in (grid.settings.get("learners") or {}).items():
            rows.append(
                {
                    "name": name,
                    "class": definition["class"],
                    "params": _jsonable(definition["params"]),
                    "source": f"grid {grid_file}",
                    "version": definition_version(definition),
                    "relative_cost": definition.get("cost", 1.0),
                    "available": True,
                    "unavailable_reason": "",
                    "description": "",
                }
            )
    return rows


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


@click.command("learners")
@click.option(
    "--grid", "grid_file", type=click.Path(dir_okay=False), help="Also list the learners GRID defines."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def learners(grid_file: str | None, as_json: bool) -> None:
    """List every learner: built-in, from plugins, and (with --grid) from a grid's `learners:` section."""
    rows = learner_rows(grid_file)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'name':<10} {'cost':>5}  {'class':<44} {'source':<12} params")
    for r in rows:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        cls = r["class"] or f"unavailable: {r['unavailable_reason']}"
        line = f"{r['name']:<10} {r['relative_cost']:>5g}  {_fit(cls, 44):<44} {_fit(r['source'], 12):<12} {params}"
        click.echo(_fit(line, 100))


@click.group("plugins")
def plugins() -> None:
    """Plugins: list what is loaded, check a plugin's strategies and learners."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_plugins(as_json: bool) -> None:
    """Plugins loaded in this process (entry points, ALGRID_PLUGINS, --plugins) and what each registered."""
    from algrid import plugins as registry

    rows = registry.manifest()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(
            "no plugins loaded (entry point group algrid.plugins, ALGRID_PLUGINS, --plugins, grid `plugins:`)"
        )
    for r in rows:
        click.echo(
            f"{r['ref']}  version {r['version']}  ({r['origin']}): {', '.join(r['registered']) or 'nothing'}"
        )


@plugins.command("check")
@click.argument("refs", nargs=-1, required=True, metavar="MODULE|FILE.py...")
def check(refs: tuple[str, ...]) -> None:
    """Load plugins and run the conformance checks on every strategy and learner they register (exit 2 on failure)."""
    from algrid import plugins as registry
    from algrid.errors import AlgridError
    from algrid.testing import check_learner, check_strategy

    loaded = registry.load(refs, where="plugins check")
    failures = 0
    checked = 0
    for plugin in loaded:
        for item in plugin.registered:
            kind, _, name = item.partition(" ")
            if kind not in ("strategy", "learner"):
                continue
            checked += 1
            try:
                check_strategy(name) if kind == "strategy" else check_learner(name)
            except AlgridError as exc:
                failures += 1
                click.echo(f"FAIL {plugin.ref}: {kind} {name}: {exc}", err=True)
            else:
                click.echo(f"ok   {kind} {name}")
    if not checked:
        raise click.UsageError(f"{', '.join(refs)}: registers no strategy or learner to check")
    if failures:
        raise SystemExit(2)
