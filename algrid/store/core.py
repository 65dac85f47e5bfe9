"""The result store: a directory of append-only Parquet parts plus meta.json and the frozen grid(s).

Layout (schema version 1, see docs/store.md)::

    meta.json  grid.yaml  grids/<fingerprint>.yaml  runs/  curves/  queries/  journal/  claims/  quarantine/

A store belongs to one set of *key settings* (cycles, test_size, preprocessing version): those change every
experiment's result, so a grid that differs in them is refused. A grid that only adds or drops values is welcome:
experiments are identified by exp_key, so every finished one is reused. Each grid that ever ran on the store is kept
under ``grids/`` (the most recently used one is the store's current grid for ``algrid status``).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import yaml

from algrid import __version__
from algrid.errors import AlgridError, StoreError
from algrid.store import doneset, reader, writer
from algrid.store.buffer import StoreWriter
from algrid.store.ioerrors import guarded
from algrid.store.reader import KINDS, part_id_of, read_parts
from algrid.store.schema import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION, SCHEMAS

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid

DEFAULT_ROOT = Path("results")


def default_store_dir(grid: Grid) -> Path:
    """``results/<grid name>`` (relative to the working directory), the default of ``algrid run``."""
    return DEFAULT_ROOT / grid.name


def _grid_text(grid: Grid) -> str:
    """The grid file's text, or (for grids built in memory) an equivalent YAML document of its spec."""
    path = Path(str(getattr(grid, "path", "")))
    if path.is_file():
        return path.read_text(encoding="utf-8")
    settings = {k: v for k, v in grid.settings.items() if k not in ("preprocessing",) and v is not None}
    blocks = [{d: list(v) for d, v in block.items()} for block in grid.spec.blocks]
    return yaml.safe_dump({**settings, "blocks": blocks}, sort_keys=False)


#: Plugins that runs on the store had loaded (JSON list; see Store.remember_plugins).
PLUGINS_FILE = "plugins.json"

#: Names a store directory may contain (anything else means the directory is something else).
_LAYOUT = frozenset(
    {
        "meta.json",
        "grid.yaml",
        "plugins.json",
        "grids",
        "runs",
        "curves",
        "queries",
        "journal",
        "claims",
        "quarantine",
        "manifests",
        "export",
        "slurm",
        "logs",
    }
)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _exclusive_write_text(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` unless it exists; readers never see it half-written. True if we created it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


class Store:
    """One result store directory. Cheap to construct; every read takes a fresh consistent snapshot."""

    def __init__(self, root: str | Path, meta: dict[str, Any]):
        self.root = Path(root)
        self.meta = meta

    # ------------------------------------------------------------------------------------------ opening
    @classmethod
    def open(cls, root: str | Path) -> Store:
        """Open an existing store (StoreError if it is not one)."""
        root = Path(root)
        meta_path = root / "meta.json"
        if not meta_path.is_file():
            raise StoreError(f"{root}: not an algrid result store (no meta.json)")
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError as exc:
            raise StoreError(f"{meta_path}: unreadable meta.json ({exc})") from None
        if meta.get("schema_version") not in READABLE_SCHEMA_VERSIONS:
            raise StoreError(
                f"{root}: store schema version {str(meta.get('schema_version'))[:40]}, this algrid reads versions "
                f"{', '.join(map(str, READABLE_SCHEMA_VERSIONS))}: use the algrid that wrote it"
            )
        return cls(root, meta)

    def upgrade_schema(self) -> None:
        """Before writing parts of the current schema: raise an older store's ``meta.json`` to SCHEMA_VERSION.

        Why: its old parts stay readable as they are, but an older algrid that compacted the store would drop the
        columns it does not know (the version manifest); raised, the store is refused by it instead. Atomic and
        idempotent, so concurrent runners may all do it.
        """
        old = self.meta.get("schema_version")
        if old == SCHEMA_VERSION:
            return
        meta = dict(self.meta, schema_version=SCHEMA_VERSION)
        meta.setdefault("schema_upgraded_from", old)
        with guarded(self.root, "upgrading meta.json to the current schema"):
            _atomic_write_text(self.root / "meta.json", json.dumps(meta, indent=2) + "\n")
        self.meta = meta

    @classmethod
    def create_or_open(cls, root: str | Path, grid: Grid) -> Store:
        """Open the store for running ``grid``, creating it if needed; refuse a grid with other key settings.

        Safe when many runners create the same store at once: meta.json and grid.yaml appear atomically and
        exclusively (hard link of a complete temporary file), the first creator wins.
        """
        root = Path(root)
        blocker = next((p for p in (root, *root.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:  # a store path at or under a file: bad input, not a disk problem
            raise StoreError(f"--store {root}: {blocker} is a file, not a directory; choose another --store")
        with guarded(root, "opening the store for writing"):
            if not (root / "meta.json").is_file():
                root.mkdir(parents=True, exist_ok=True)
                foreign = [
                    p.name for p in root.iterdir() if p.name not in _LAYOUT and not p.name.startswith(".")
                ]
                if foreign:
                    raise StoreError(
                        f"{root}: directory exists and is not an algrid result store (no meta.json; "
                        f"contains {foreign[0][:80]})"
                    )
                _exclusive_write_text(root / "grid.yaml", _grid_text(grid))
                meta = {
                    "schema_version": SCHEMA_VERSION,
                    "grid_name": grid.name,
                    "grid_fingerprint": grid.fingerprint,
                    "key_settings": dict(grid.key_settings),
                    "algrid_version": __version__,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
                _exclusive_write_text(root / "meta.json", json.dumps(meta, indent=2) + "\n")
            store = cls.open(root)
            store.check_grid(grid)
            store.upgrade_schema()
            for kind in (*KINDS, "grids", "claims", "manifests"):
                (root / kind).mkdir(exist_ok=True)
            store.remember_grid(grid)
        return store

    def check_grid(self, grid: Grid) -> None:
        """Refuse a grid whose result-affecting settings differ from the store's."""
        want = self.meta.get("key_settings", {})
        have = dict(grid.key_settings)
        diffs = [
            f"{k}: store has {want.get(k)!r}, grid has {have.get(k)!r}"
            for k in sorted(set(want) | set(have))
            if want.get(k) != have.get(k)
        ]
        if diffs:
            raise StoreError(
                f"{self.root}: grid {getattr(grid, 'path', grid.name)} does not match this store "
                f"({'; '.join(diffs)}); its results would not be comparable: use another --store"
            )

    def remember_grid(self, grid: Grid) -> None:
        """Keep a copy of every grid run on this store (touched on each use: the newest is the current grid)."""
        target = self.root / "grids" / f"{grid.fingerprint}.yaml"
        target.parent.mkdir(exist_ok=True)
        if not target.exists():
            _atomic_write_text(target, _grid_text(grid))
        else:
            os.utime(target)
        self.remember_plugins()

    # ------------------------------------------------------------------------------------------ plugins
    def recorded_plugins(self) -> list[dict[str, Any]]:
        """Plugins that runs on this store had loaded (ref, version, origin, what they registered)."""
        path = self.root / PLUGINS_FILE
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return []
        return (
            [p for p in data if isinstance(p, dict) and isinstance(p.get("ref"), str)]
            if isinstance(data, list)
            else []
        )

    def remember_plugins(self) -> None:
        """Record the loaded plugins, so status, queries and verify load them without being told (new versions are
        added; old entries stay: they name the versions of older results)."""
        from algrid import plugins

        current = [p for p in plugins.manifest() if p["origin"] in ("module", "file", "entry-point")]
        if not current:
            return
        known = self.recorded_plugins()
        seen = {(p["ref"], p.get("version")) for p in known}
        new = [p for p in current if (p["ref"], p["version"]) not in seen]
        if new:
            _atomic_write_text(self.root / PLUGINS_FILE, json.dumps(known + new, indent=2) + "\n")

    def load_plugins(self) -> list[str]:
        """Load the plugins this store recorded; returns the refs that could not be loaded (each with its reason)."""
        from algrid import plugins

        failed = []
        for entry in self.recorded_plugins():
            if entry.get("origin") == "entry-point" or plugins.find_loaded(entry["ref"], None):
                continue
            try:
                plugins.load([entry["ref"]], where=f"{self.root}/{PLUGINS_FILE}")
            except AlgridError as exc:
                failed.append(str(exc))
        return failed

    def grid_files(self) -> list[Path]:
        """Grids this store has seen, oldest use first (grid.yaml, the frozen original, if nothing else)."""
        files = sorted((self.root / "grids").glob("*.yaml"), key=lambda p: (p.stat().st_mtime, p.name))
        return files or [self.root / "grid.yaml"]

    def grid(self, path: str | Path | None = None) -> Grid:
        """The current grid (or the given grid file), checked against the store's key settings."""
        grid = self._load_grid(path or self.grid_files()[-1])
        self.check_grid(grid)
        return grid

    def grids(self) -> list[Grid]:
        """Every grid this store has seen (for verify: a stored experiment must belong to one of them)."""
        return [self._load_grid(p) for p in self.grid_files()]

    def _load_grid(self, path: str | Path) -> Grid:
        """A grid file of this store, with the store's recorded plugins loaded first."""
        from algrid.grid.lazy import load_grid

        failed = self.load_plugins()
        try:
            return load_grid(path)
        except AlgridError as exc:
            if failed:
                raise StoreError(f"{exc} (this store's plugins could not be loaded: {failed[0]})") from None
            raise

    # ------------------------------------------------------------------------------------------ reading
    def snapshot(self) -> reader.Snapshot:
        return reader.snapshot(self.root)

    def read(
        self,
        kind: str,
        columns: list[str] | None = None,
        snap: reader.Snapshot | None = None,
        keys: Iterable[str] | None = None,
    ) -> pa.Table:
        """Committed rows of one table (orphans and journal-masked parts excluded), in the store schema.

        ``keys``: only rows of these exp_keys (filtered while scanning, so a big store is not materialised)."""
        flt = None if keys is None else pads.field("exp_key").isin(pa.array(sorted(set(keys)), pa.string()))
        for attempt in range(20):
            snap = snap if (snap is not None and attempt == 0) else self.snapshot()
            paths = [p for p in snap.paths(kind) if kind == "runs" or p.exists()]
            try:
                return read_parts(paths, kind, columns, flt)
            except FileNotFoundError:  # a compaction replaced parts under us: take a new snapshot
                snap = None
                continue
        raise StoreError(f"{self.root}: parts keep disappearing while reading (is a compaction looping?)")

    def runs(self, columns: list[str] | None = None) -> pa.Table:
        return self.read("runs", columns)

    def curves(self, columns: list[str] | None = None) -> pa.Table:
        return self.read("curves", columns)

    def queries(self, columns: list[str] | None = None) -> pa.Table:
        return self.read("queries", columns)

    def status_table(self) -> pa.Table:
        """exp_key and status of every committed run row: the done-set, reading two columns only."""
        return self.read("runs", ["exp_key", "status"])

    def done_keys(self, retry_failed: bool = False) -> set[str]:
        """exp_keys that need no run, under the one rule of algrid.store.doneset."""
        return doneset.done_keys(self, retry_failed)

    def duckdb(self, con=None):
        """A DuckDB connection with views ``runs``, ``curves``, ``queries`` over the committed parts only."""
        import duckdb

        con = con or duckdb.connect()
        snap = self.snapshot()
        for kind in KINDS:
            paths = []
            for p in snap.paths(kind):
                why = reader.part_problem(p, kind)
                if why not in (None, "missing"):
                    raise reader.damaged(p, why)
                if why is None:
                    paths.append(str(p))
            listed = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
            if paths:
                con.execute(
                    f"CREATE OR REPLACE VIEW {kind} AS SELECT * FROM read_parquet({listed}, union_by_name=true)"
                )
            else:
                con.register(f"_{kind}_empty", SCHEMAS[kind].empty_table())
                con.execute(f"CREATE OR REPLACE VIEW {kind} AS SELECT * FROM _{kind}_empty")
        return con

    # ------------------------------------------------------------------------------------------ writing
    def writer(self, **kwargs: Any) -> StoreWriter:
        return StoreWriter(self, **kwargs)

    def retire(self, keys: Iterable[str], reason: str = "retry") -> int:
        """Remove the stored rows (runs, curves, queries) of these experiments: they become pending again."""
        keys = list(keys)
        why = ""
        for attempt in range(50):
            try:
                return self._retire_once(keys, reason)
            except (
                writer.PartsBusy
            ) as exc:  # another runner is retiring the same parts: let it finish, re-read
                why = f"part {exc.part_id}: {exc.why}"
                time.sleep(0.05 + 0.05 * attempt)
        raise StoreError(
            f"{self.root}: parts stay busy ({why}); if no other algrid process works on this store, "
            f"run `algrid store verify {self.root} --repair`"
        )

    def _retire_once(self, keys: list[str], reason: str) -> int:
        keys = pa.array(sorted(set(keys)), pa.string())
        if len(keys) == 0:
            return 0
        snap = self.snapshot()
        runs = read_parts(snap.paths("runs"), "runs", ["exp_key", "__filename"])
        hit = runs.filter(pc.is_in(runs["exp_key"], value_set=keys))
        affected = sorted({part_id_of(f) for f in hit["__filename"].to_pylist()})
        if not affected:
            return 0
        add = []
        for pid in affected:
            tables = {}
            for kind in KINDS:
                path = reader.part_path(self.root, kind, pid)
                t = read_parts([path], kind) if path.exists() else SCHEMAS[kind].empty_table()
                tables[kind] = t.filter(pc.invert(pc.is_in(t["exp_key"], value_set=keys)))
            if tables["runs"].num_rows:
                add.append(tables)
        self.upgrade_schema()
        writer.replace_parts(self.root, affected, add, reason=reason)
        return hit.num_rows
