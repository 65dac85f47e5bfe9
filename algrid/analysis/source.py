"""Open a result store for analysis: one DuckDB connection with views over the Parquet parts.

Everything downstream is SQL over three views, so no query ever loads the store into pandas:

* ``runs``    committed experiments (one row per exp_key, the user's ``--where`` applied),
* ``curves``  per-cycle rows of committed experiments only (orphans, i.e. rows without a run row, are ignored),
* ``queries`` per-cycle selections of committed experiments only.

A run row is the commit marker of the store; if an experiment was re-run, the row with status ``ok`` (then the
newest) wins, so a retried failure does not count twice.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from algrid import config
from algrid.errors import AlgridError, StoreError
from algrid.results import DIMENSIONS, MANIFEST_COLUMNS
from algrid.store.schema import READABLE_SCHEMA_VERSIONS

#: Dimensions that identify the *setting* an experiment runs in (everything but the strategy identity).
SETTING_DIMENSIONS: tuple[str, ...] = tuple(d for d in DIMENSIONS if d not in ("strategy", "implementation"))
#: Strategy identity in every leaderboard.
IDENTITY: tuple[str, ...] = ("strategy", "implementation")
_GRID_CHUNK = 1_000_000


class QueryError(AlgridError):
    """A query argument (filter, metric, parameter, strategy) is invalid."""

    exit_code = 2


def first_line(exc: BaseException) -> str:
    """DuckDB errors span several lines (candidates, caret); the CLI contract is one line."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_where(where: str) -> str:
    """Reject filters that could escape the subquery they run in (statement separators, comments, unbalanced
    parentheses or quotes); DuckDB itself then validates the expression."""
    if ";" in where:
        raise QueryError(f"--where {where!r}: ';' is not allowed (give one SQL condition on runs columns)")
    depth, quote, i = 0, None, 0
    while i < len(where):
        ch = where[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif where.startswith("--", i) or where.startswith("/*", i):
            raise QueryError(f"--where {where!r}: SQL comments are not allowed")
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise QueryError(f"--where {where!r}: unbalanced ')'")
        i += 1
    if quote:
        raise QueryError(f"--where {where!r}: unterminated quote {quote}")
    if depth:
        raise QueryError(f"--where {where!r}: unbalanced '('")
    return where


def _connect() -> duckdb.DuckDBPyConnection:
    """A connection that stays polite on a shared machine: few threads, bounded memory, spill to /tmp."""
    cfg = config.current()
    con = duckdb.connect(
        config={
            "threads": cfg.duckdb_threads,
            "memory_limit": cfg.duckdb_memory,
            "temp_directory": os.path.join(tempfile.gettempdir(), "algrid-duckdb"),
        }
    )
    con.execute("SET preserve_insertion_order = false")
    return con


def _lock_down(con: duckdb.DuckDBPyConnection, store: Path) -> None:
    """From here on the connection reads only the store (and spills only to its temp directory): ``--where`` is user
    text evaluated by DuckDB, and must not read other files, install or load extensions, or unlock this."""
    allowed = [str(store.resolve()) + os.sep, os.path.join(tempfile.gettempdir(), "algrid-duckdb") + os.sep]
    con.execute("SET allowed_directories = $dirs", {"dirs": allowed})
    for statement in (
        "SET enable_external_access = false",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET lock_configuration = true",
    ):
        con.execute(statement)


def _committed_files(path: Path) -> dict[str, list[str]] | None:
    """Committed, readable part files per table of a real store (None for a plain directory of Parquet files).

    Why not a glob: a writer killed between renames leaves curves/queries parts without their runs part; once the
    experiment is re-run, a glob would count its curve rows twice. The store's snapshot lists only committed parts
    (and hides parts a running compaction or repair is replacing). A damaged part (truncated, garbage, another
    schema) is left out with a warning naming it, so one bad file does not stop every query."""
    from algrid.store import Store
    from algrid.store.reader import part_problem

    try:
        snap = Store.open(path).snapshot()
    except StoreError:
        return None
    out: dict[str, list[str]] = {}
    for kind in ("runs", "curves", "queries"):
        out[kind] = []
        for p in snap.paths(kind):
            why = part_problem(p, kind)
            if why is None:
                out[kind].append(str(p))
            elif why != "missing":
                warn_skipped(p, why)
    return out


def warn_skipped(part: Path | str, why: str) -> None:
    """One warning line on stderr per part a query leaves out."""
    print(
        f"warning: skipping damaged part {part} ({why}); `algrid store verify --repair` quarantines it",
        file=sys.stderr,
    )


def _source(path: Path, table: str, committed: dict[str, list[str]] | None) -> str | None:
    """A DuckDB file list (SQL literal) of one table's parts, or None if it has none."""
    if committed is not None:
        files = committed[table]
    else:
        files = [str(p) for p in sorted((path / table).glob("*.parquet"))]
    if not files:
        return None
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


class StoreData:
    """A result store opened for analysis.

    Views: ``runs`` (filtered), ``runs_all`` (unfiltered), ``curves``/``queries`` (rows of ``runs``),
    ``curves_all``/``queries_all`` (rows of ``runs_all``) and ``pending`` (grid experiments without a run row)."""

    has_curves: bool  # the store has committed curves / queries files (set with the views)
    has_queries: bool
    cleanups: list[
        Callable[[], None]
    ]  # set by open_store on a bundle: close() also removes its extracted copy

    def __init__(self, path: str | Path, where: str | None = None):
        self.path = Path(path)
        self.where = where.strip() if where and where.strip() else None
        if not self.path.is_dir():
            raise StoreError(f"{self.path}: no result store here (directory not found)")
        meta_file = self.path / "meta.json"
        self.meta: dict = {}
        if meta_file.exists():
            try:
                self.meta = json.loads(meta_file.read_text())
            except (OSError, ValueError) as exc:
                raise StoreError(f"{meta_file}: unreadable meta.json ({first_line(exc)})") from None
            version = self.meta.get("schema_version")
            if version not in (None, *READABLE_SCHEMA_VERSIONS):
                raise StoreError(
                    f"{meta_file}: schema_version {str(version)[:40]!r} is not supported "
                    f"(expected one of {', '.join(map(str, READABLE_SCHEMA_VERSIONS))})"
                )
        self._committed = _committed_files(self.path)
        runs_glob = _source(self.path, "runs", self._committed)
        if runs_glob is None:
            raise StoreError(f"{self.path}: no committed runs (runs/*.parquet not found)")
        self.con = _connect()
        self._runs_glob = runs_glob
        self._create_views()
        self.pending_known, self.pending_note = self._create_expected()

    # -- views -------------------------------------------------------------------------------------------------
    def _create_views(self) -> None:
        con = self.con
        try:
            con.execute(
                f"CREATE VIEW runs_raw AS SELECT * FROM read_parquet({self._runs_glob}, union_by_name=true)"
            )
            self.columns: list[str] = [r[0] for r in con.execute("DESCRIBE runs_raw").fetchall()]
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}/runs: unreadable Parquet ({first_line(exc)})") from None
        missing = [c for c in ("exp_key", "status", *DIMENSIONS) if c not in self.columns]
        if missing:
            raise StoreError(
                f"{self.path}/runs: not a schema-1 runs table (missing columns {', '.join(missing)})"
            )
        order = "(status = 'ok') DESC"
        if "finished_at" in self.columns:
            order += ", finished_at DESC"
        # Dedup only when needed: the window costs a sort on big stores.
        counts = con.execute("SELECT count(*), count(DISTINCT exp_key) FROM runs_raw").fetchone()
        assert counts is not None  # an aggregate without GROUP BY returns exactly one row
        n, n_keys = counts
        # Parts written before the version manifest lack its columns: they read as null ("not recorded"), so a
        # --where on them works on any store.
        absent = [c for c in MANIFEST_COLUMNS if c not in self.columns]
        raw = "runs_raw"
        if absent:
            nulls = ", ".join(f"NULL::VARCHAR AS {c}" for c in absent)
            con.execute(f"CREATE VIEW runs_filled AS SELECT *, {nulls} FROM runs_raw")
            raw = "runs_filled"
            self.columns += absent
        if n != n_keys:
            base = (
                f"SELECT * FROM {raw} QUALIFY row_number() OVER (PARTITION BY exp_key ORDER BY {order}) = 1"
            )
        else:
            base = f"SELECT * FROM {raw}"
        con.execute(f"CREATE VIEW runs_all AS {base}")
        _lock_down(con, self.path)  # before any user text is evaluated
        if self.where:
            check_where(self.where)
            try:
                con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM runs_all WHERE ({self.where})) LIMIT 1"
                ).fetchone()
            except duckdb.Error as exc:
                raise QueryError(f"--where {self.where!r}: {first_line(exc)}") from None
            con.execute(f"CREATE VIEW runs AS SELECT * FROM (SELECT * FROM runs_all WHERE ({self.where}))")
        else:
            con.execute("CREATE VIEW runs AS SELECT * FROM runs_all")
        for table in ("curves", "queries"):
            glob = _source(self.path, table, self._committed)
            if glob is None:
                setattr(self, f"has_{table}", False)
                continue
            setattr(self, f"has_{table}", True)
            con.execute(f"CREATE VIEW {table}_raw AS SELECT * FROM read_parquet({glob}, union_by_name=true)")
            for view, source in ((f"{table}_all", "runs_all"), (table, "runs")):
                con.execute(
                    f"CREATE VIEW {view} AS SELECT t.* FROM {table}_raw t SEMI JOIN {source} r ON t.exp_key = r.exp_key"
                )

    def _create_expected(self) -> tuple[bool, str]:
        """Experiments of the frozen grid with no run row yet (pending), as the view ``pending``.

        Needs the store's grid.yaml; without it only failed/timeout rows can be counted as missing."""
        dims = ", ".join(DIMENSIONS)
        empty = f"CREATE VIEW pending AS SELECT exp_key, {dims} FROM runs WHERE false"
        grid_file = self.path / "grid.yaml"
        if self._committed is not None:  # the grid most recently run on the store, as `algrid status` uses
            from algrid.store import Store

            grid_file = Store.open(self.path).grid_files()[-1]
        if not grid_file.exists():
            self.con.execute(empty)
            return False, "pending experiments unknown (no grid.yaml in the store)"
        try:
            from algrid.store import Store

            grid = Store.open(self.path).grid(grid_file)  # loads the plugins the store recorded
            n = len(grid)
            parts = [grid.decode(np.arange(s, min(n, s + _GRID_CHUNK))) for s in range(0, n, _GRID_CHUNK)]
        except Exception as exc:  # noqa: BLE001 - the grid is optional context; analysis still works without it
            self.con.execute(empty)
            return False, f"pending experiments unknown (grid.yaml unusable: {first_line(exc)})"
        table = pa.concat_tables(parts) if parts else None
        if table is None or table.num_rows == 0:
            self.con.execute(empty)
            return True, ""
        cols = ["exp_key", *DIMENSIONS]
        table = table.select(cols)
        self.con.register("grid_configs", table)
        casts = ", ".join(
            f"CAST({d} AS INTEGER) AS {d}"
            if d in ("batch_size", "split", "start", "seed")
            else f"CAST({d} AS VARCHAR) AS {d}"
            for d in DIMENSIONS
        )
        base = f"SELECT g.exp_key, {casts} FROM grid_configs g ANTI JOIN runs_all r ON g.exp_key = r.exp_key"
        if self.where:
            try:
                self.con.execute(f"SELECT count(*) FROM ({base}) WHERE ({self.where})").fetchone()
                base = f"SELECT * FROM ({base}) WHERE ({self.where})"
            except duckdb.Error:
                self.con.execute(empty)
                return False, "pending experiments not counted (--where uses columns the grid does not have)"
        self.con.execute(f"CREATE VIEW pending AS {base}")
        return True, ""

    # -- helpers -----------------------------------------------------------------------------------------------
    def sql(self, query: str, params: list | None = None):
        """Run a query; DuckDB errors become one-line AlgridErrors. A part that turns out unreadable only when
        scanned (a corrupt page) is left out with a warning and the query runs again without it."""
        while True:
            try:
                return self.con.execute(query, params or [])
            except duckdb.Error as exc:
                if not self._drop_culprit(exc):
                    raise AlgridError(f"{self.path}: query failed: {first_line(exc)}") from None

    def _drop_culprit(self, exc: duckdb.Error) -> bool:
        """If ``exc`` names one of the store's part files: leave it out, rebuild the views, True."""
        if self._committed is None:
            return False
        text = str(exc)
        for kind, files in self._committed.items():
            for f in files:
                if f in text:
                    files.remove(f)
                    warn_skipped(f, first_line(exc)[:200])
                    if kind == "runs" and not files:
                        raise StoreError(f"{self.path}: no readable committed runs") from None
                    self.con.close()
                    self.con = _connect()
                    runs_glob = _source(self.path, "runs", self._committed)
                    if runs_glob is None:  # runs files are left (checked above), so this is not expected
                        raise StoreError(f"{self.path}: no readable committed runs") from None
                    self._runs_glob = runs_glob
                    self._create_views()
                    self.pending_known, self.pending_note = self._create_expected()
                    return True
        return False

    def distinct(self, column: str) -> list:
        """Sorted distinct values of a runs column (after --where)."""
        return [
            r[0]
            for r in self.sql(
                f"SELECT DISTINCT {column} FROM runs WHERE {column} IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]

    def close(self) -> None:
        self.con.close()
        for cleanup in getattr(self, "cleanups", []):
            cleanup()

    def __enter__(self) -> StoreData:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(path: str | Path, where: str | None = None) -> StoreData:
    """Open STORE for analysis (raises StoreError / QueryError with one-line messages).

    STORE may be a bundle file (`algrid store bundle`): it is extracted to a temporary directory, removed again
    when the StoreData is closed; the bundle itself is only read."""
    if Path(path).is_file():
        from algrid.analysis.bundle import OpenedBundle

        bundle = OpenedBundle(path)
        try:
            data = StoreData(bundle.store, where)
        except BaseException:
            bundle.close()
            raise
        data.cleanups = [bundle.close]
        return data
    return StoreData(path, where)
