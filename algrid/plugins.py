"""Plugins: a researcher's own strategies, learners, datasets and implementations, found, loaded once, versioned.

Why this module exists: placing one's own method against the field is the main reason to run an AL benchmark, and
it must work in every command and every process — the CLI, each local worker, Dask workers and SLURM tasks — not
only in ``algrid run``. A plugin is a Python module (or a ``.py`` file) that calls ``algrid.register_*`` when it is
imported. Plugins come from four places, loaded in this order, each at most once per process:

1. installed packages that declare an entry point in the group ``algrid.plugins`` (the value names a module, or
   ``module:function`` to call after import);
2. ``ALGRID_PLUGINS`` (comma-separated module names or paths), read by :mod:`algrid.config`;
3. ``--plugins`` on the command line (any command);
4. the grid file's ``plugins:`` list (paths relative to the grid file).

Worker processes inherit the list through the environment (:func:`export_for_children`). Every registration made
while a plugin loads is attributed to it, and the plugin's *version* (its distribution's version, or a hash of its
source for a bare module, a file or an editable install) enters the ``exp_key`` of every experiment that uses one of
its names (:mod:`algrid.provenance`): editing a strategy gives new experiments instead of silently mixing results.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

from algrid.errors import AlgridError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Plugin",
    "PluginError",
    "attribute",
    "export_for_children",
    "load",
    "load_configured",
    "loaded",
    "owner_of",
]

ENTRY_POINT_GROUP = "algrid.plugins"


class PluginError(AlgridError):
    """A plugin cannot be found, fails to import, or registers something invalid (one line naming it)."""

    exit_code = 2


@dataclass
class Plugin:
    """One loaded plugin: where it came from, its version, and what it registered."""

    ref: str  # module name, absolute path of a .py file, or "entry point <name>"
    module: str  # the module name it was imported under
    version: str  # distribution version, or "src-<hash>" of its source
    origin: str  # "entry-point", "module", "file" or "inline"
    distribution: str | None = None
    registered: list[str] = field(default_factory=list)  # "strategy margin2@native", "learner et", ...
    undo: list[Any] = field(default_factory=list, repr=False)  # callables removing its registrations

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "module": self.module,
            "version": self.version,
            "origin": self.origin,
            "distribution": self.distribution,
            "registered": list(self.registered),
        }


_LOADED: dict[str, Plugin] = {}  # canonical ref -> plugin (per process)
_OWNERS: dict[tuple[str, str], Plugin] = {}  # (kind, name) -> plugin that registered it
_LOADING: list[Plugin] = []  # the plugin being imported (registrations are attributed to the innermost)
_ENTRY_POINTS_DONE = False


def _truncate(text: str, n: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _source_hash(paths: Iterable[Path]) -> str:
    h = hashlib.blake2b(digest_size=6)
    for p in sorted(paths):
        try:
            h.update(p.name.encode())
            h.update(p.read_bytes())
        except OSError:
            continue
    return "src-" + h.hexdigest()


def _module_sources(module: Any) -> list[Path]:
    """The source files whose contents make a module's version: the file, or every .py of a package."""
    file = getattr(module, "__file__", None)
    if not file:
        return []
    path = Path(file)
    if path.name == "__init__.py":
        return [p for p in path.parent.rglob("*.py") if "__pycache__" not in p.parts]
    return [path]


def _distribution_of(module_name: str) -> metadata.Distribution | None:
    top = module_name.split(".")[0]
    names = metadata.packages_distributions().get(top) or []
    for name in names:
        try:
            return metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _is_editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable"))
    except (ValueError, AttributeError):
        return False


def _version_of(module: Any) -> tuple[str, str | None]:
    """(version, distribution): a released distribution's version, else a hash of the module's source."""
    dist = _distribution_of(module.__name__)
    if dist is not None and dist.metadata["Name"].lower() != "algrid" and not _is_editable(dist):
        return dist.version, dist.metadata["Name"]
    return _source_hash(_module_sources(module)), dist.metadata["Name"] if dist is not None else None


def _canonical_ref(ref: str, base_dir: Path | None) -> tuple[str, bool]:
    """(canonical ref, is_file): files become absolute paths (relative to ``base_dir``), modules stay names."""
    ref = ref.strip()
    looks_like_file = ref.endswith(".py") or "/" in ref or "\\" in ref
    if looks_like_file:
        path = Path(ref).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return str(path.resolve()), True
    return ref, False


def _import_file(path: Path) -> Any:
    name = "algrid_plugin_" + hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"plugin {path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _load_one(ref: str, where: str, base_dir: Path | None, origin: str | None = None) -> Plugin:
    canonical, is_file = _canonical_ref(ref, base_dir)
    if canonical in _LOADED:
        return _LOADED[canonical]
    if is_file and not Path(canonical).is_file():
        raise PluginError(f"{where}: plugin {ref!r}: no such file ({_truncate(canonical)})")
    plugin = Plugin(ref=canonical, module="", version="", origin=origin or ("file" if is_file else "module"))
    _LOADING.append(plugin)
    try:
        if is_file:
            module = _import_file(Path(canonical))
        else:
            target, _, func = canonical.partition(":")
            module = importlib.import_module(target)
            if func:
                obj = getattr(module, func, None)
                if not callable(obj):
                    raise PluginError(f"{where}: plugin {ref!r}: {target} has no function {func!r}")
                obj()
    except PluginError:
        _rollback(plugin)
        raise
    except ModuleNotFoundError as exc:
        _rollback(plugin)
        missing = exc.name or canonical
        raise PluginError(
            f"{where}: plugin {ref!r}: module {missing!r} not found (is it installed?)"
        ) from None
    except BaseException as exc:  # noqa: BLE001 - any failure inside user code becomes one line
        _rollback(plugin)
        if isinstance(exc, KeyboardInterrupt):
            raise
        message = f"{type(exc).__name__}: {exc}"
        raise PluginError(f"{where}: plugin {ref!r} failed to load: {_truncate(message)}") from None
    finally:
        if _LOADING and _LOADING[-1] is plugin:
            _LOADING.pop()
    plugin.module = module.__name__
    if is_file:
        plugin.version = _source_hash([Path(canonical)])
    else:
        plugin.version, plugin.distribution = _version_of(module)
    _LOADED[canonical] = plugin
    return plugin


def _rollback(plugin: Plugin) -> None:
    """A plugin that failed half-way must not leave registrations behind (they would carry no version)."""
    for undo in reversed(plugin.undo):
        undo()
    plugin.undo.clear()
    for key, owner in list(_OWNERS.items()):
        if owner is plugin:
            del _OWNERS[key]


def attribute(kind: str, name: str, undo: Any = None) -> Plugin:
    """Record that ``kind`` ``name`` is being registered now; returns the owning plugin.

    Registrations made outside a plugin load (e.g. in a script or notebook) get an "inline" plugin whose version
    hashes the registering module's source: they work in this process (``in_process`` runs) and are versioned, but
    worker processes cannot import them — the registry says so when a run needs workers.
    """
    if _LOADING:
        plugin = _LOADING[-1]
    else:
        caller = _caller_module()
        key = f"inline:{caller.__name__ if caller else '?'}"
        plugin = _LOADED.get(key) or Plugin(
            ref=key,
            module=caller.__name__ if caller else "?",
            version=_source_hash(_module_sources(caller)) if caller else "src-unknown",
            origin="inline",
        )
        _LOADED[key] = plugin
    plugin.registered.append(f"{kind} {name}")
    if undo is not None:
        plugin.undo.append(undo)
    _OWNERS[(kind, name)] = plugin
    return plugin


def _caller_module() -> Any:
    """The first module outside algrid on the stack (the one that called ``algrid.register_*``)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name != "algrid" and not name.startswith("algrid."):
            return sys.modules.get(name)
        frame = frame.f_back
    return None


def owner_of(kind: str, name: str) -> Plugin | None:
    """The plugin that registered ``kind`` ``name`` (None for built-ins)."""
    return _OWNERS.get((kind, name))


def loaded() -> list[Plugin]:
    """Every plugin loaded in this process, in load order."""
    return list(_LOADED.values())


def load(refs: Iterable[str], *, where: str = "--plugins", base_dir: Path | None = None) -> list[Plugin]:
    """Import plugins (module names or .py paths; relative paths against ``base_dir``), each once per process."""
    out = []
    for ref in refs:
        for part in str(ref).split(","):
            if part.strip():
                out.append(_load_one(part, where, base_dir))
    return out


def load_entry_points() -> list[Plugin]:
    """Plugins that installed packages declare in the ``algrid.plugins`` entry-point group (once per process)."""
    global _ENTRY_POINTS_DONE
    if _ENTRY_POINTS_DONE:
        return []
    _ENTRY_POINTS_DONE = True
    out = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {ep.name!r} ({ep.value})"
        out.append(_load_one(ep.value, where, None, origin="entry-point"))
    return out


def load_configured() -> list[Plugin]:
    """Entry-point plugins plus ``ALGRID_PLUGINS``: what every algrid process loads before reading a grid."""
    from algrid import config

    out = load_entry_points()
    out += load(config.current().plugins, where="ALGRID_PLUGINS")
    return out


def export_for_children() -> None:
    """Make child processes (local workers, SLURM tasks started from here) load the same plugins."""
    from algrid import config

    refs = [p.ref for p in loaded() if p.origin in ("module", "file")]
    cfg = config.current().with_plugins(refs)
    if cfg != config.current() or refs:
        config.export(cfg)


def manifest() -> list[dict[str, Any]]:
    """JSON-ready list of loaded plugins (recorded in a store's meta and shown by `algrid learners` & co.)."""
    return [p.to_json() for p in loaded()]


def find_loaded(ref: str, base_dir: Path | None) -> Plugin | None:
    """An already-loaded plugin that ``ref`` names: the same module or file, or — for a relative path that does
    not exist next to the grid (a store's frozen copy of the grid) — a loaded file with the same name."""
    canonical, is_file = _canonical_ref(ref, base_dir)
    if canonical in _LOADED:
        return _LOADED[canonical]
    if is_file and not Path(canonical).is_file() and not Path(ref).is_absolute():
        name = Path(ref).name
        matches = [p for p in _LOADED.values() if p.origin == "file" and Path(p.ref).name == name]
        if len(matches) == 1:
            return matches[0]
    return None
