"""`algrid store verify [--repair]`: prove a store is sound, or say exactly what is wrong and where.

Sound means: every committed part is readable with valid page checksums and matches the sha256 recorded when it was
committed (algrid.store.integrity); no exp_key has two run rows; every run row has cycles_done + 1 curve rows and
query rows (cycles 0..cycles_done) in its own part, and its summaries agree with its curve; every stored experiment
belongs to a grid the store has seen, with the dimensions its exp_key stands for; every journal is trusted.

Repair never deletes a readable part that holds committed results: damaged parts (with their siblings) and the
originals of parts it rewrites go to ``quarantine/``, untrusted journals too, and every move is listed. Rows that are
duplicated, lack their curves or disagree with them are dropped from the rewritten parts, so those experiments become
pending and the next `algrid run` redoes them. Abandoned (or empty) claims and part locks are cleared.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from algrid.results import DIMENSIONS, OPTIONAL_DIMENSIONS, SUMMARY_METRICS
from algrid.store import owners, writer
from algrid.store.core import Store
from algrid.store.integrity import checksum_problems, summary_mismatches
from algrid.store.reader import KINDS, Snapshot, part_path, read_parts
from algrid.store.schema import SCHEMAS, SUMMARY_COLUMNS, conform
from algrid.store.status import _CHUNK, hex_to_keys
from algrid.store.versions import VERSION_COLUMNS, mix_warning, version_census

_EXAMPLES = 5


@dataclass
class VerifyReport:
    store: str
    ok: bool = True
    parts: int = 0
    experiments: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    bad_parts: list[str] = field(default_factory=list)
    drop: dict[str, list[str]] = field(default_factory=dict)  # part id -> exp_keys whose rows repair removes
    versions: dict[str, Any] = field(default_factory=dict)  # algrid.store.versions.version_census of the runs
    warnings: list[str] = field(
        default_factory=list
    )  # findings that are not damage (a store mixing versions)

    def problem(self, text: str) -> None:
        self.ok = False
        self.problems.append(text)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("drop")
        return d


#: Curve rows checked per batch: verify holds one batch of parts in memory, plus the runs of the whole store.
_BATCH_ROWS = 2_000_000
_RUN_COLS = ["exp_key", "status", "cycles_done", "finished_at", *DIMENSIONS, *VERSION_COLUMNS]
_SUMMARY_RUN_COLS = ["exp_key", "status", *SUMMARY_COLUMNS]


def _tagged(tables: dict[str, dict[str, pa.Table]], kind: str, cols: list[str]) -> pa.Table:
    ts = [
        t[kind].select(cols).append_column("part", pa.array([pid] * t[kind].num_rows, pa.string()))
        for pid, t in tables.items()
    ]
    if not ts:
        return SCHEMAS[kind].empty_table().select(cols).append_column("part", pa.array([], pa.string()))
    return pa.concat_tables(ts, promote_options="permissive")


def _check_batch(batch: dict[str, dict[str, pa.Table]], report: VerifyReport) -> pa.Table:
    """Within each part: every run row has cycles 0..cycles_done of curves and queries, and nothing else is there."""
    con = duckdb.connect()
    runs = _tagged(batch, "runs", _RUN_COLS)
    con.register("runs", runs)
    for kind in ("curves", "queries"):
        con.register(kind, _tagged(batch, kind, ["exp_key", "cycle"]))
        bad = con.execute(
            f"""
            SELECT r.exp_key, r.part, r.cycles_done, coalesce(c.n, 0), c.lo, c.hi FROM runs r
            LEFT JOIN (SELECT exp_key, part, count(*) AS n, min(cycle) AS lo, max(cycle) AS hi,
                              count(DISTINCT cycle) AS nd FROM {kind} GROUP BY 1, 2) c USING (exp_key, part)
            WHERE coalesce(c.n, 0) != r.cycles_done + 1 OR (c.n > 0 AND (c.lo != 0 OR c.hi != r.cycles_done OR c.nd != c.n))
            """
        ).fetchall()
        if bad:
            k, p, cd, n, _, _ = bad[0]
            report.problem(
                f"{len(bad)} run row(s) without their {kind} rows (cycles_done + 1 expected), "
                f"e.g. {k} in part {p}: cycles_done={cd}, {n} {kind} rows"
            )
            for key, part, *_ in bad:
                report.drop.setdefault(part, []).append(key)
        extra = con.execute(
            f"SELECT count(*) FROM {kind} c ANTI JOIN runs r USING (exp_key, part)"
        ).fetchall()[0][0]
        if extra:
            report.problem(f"{extra} {kind} row(s) inside committed parts belong to no run row of their part")
    con.register("runs_x", _tagged(batch, "runs", _SUMMARY_RUN_COLS))
    con.register("curves_x", _tagged(batch, "curves", ["exp_key", "cycle", *SUMMARY_METRICS]))
    bad = summary_mismatches(con)
    if bad:
        k, p, col, stored, recomputed = bad[0]
        keys = sorted({(b[0], b[1]) for b in bad})
        report.problem(
            f"{len(keys)} run row(s) whose summaries disagree with their curves (changed after the run), "
            f"e.g. {k} in part {p}: {col} stored {stored}, curve gives {recomputed}"
        )
        for key, part in keys:
            report.drop.setdefault(part, []).append(key)
    return runs


def _check_parts(store: Store, snap: Snapshot, report: VerifyReport) -> pa.Table:
    """Read every committed part completely and check it; returns the run rows (tagged with their part)."""
    runs: list[pa.Table] = []
    batch: dict[str, dict[str, pa.Table]] = {}
    rows = 0
    legacy = 0
    for pid in snap.committed:
        tables = {}
        sums, checked = checksum_problems(store.root, pid)
        legacy += not checked
        for text in sums:
            report.problem(text)
        for kind in KINDS:
            path = part_path(store.root, kind, pid)
            rel = path.relative_to(store.root)
            try:
                t = pq.read_table(path, page_checksum_verification=True)
                t = conform(t, kind)
                t.validate(full=True)
                tables[kind] = t
            except FileNotFoundError:
                report.problem(f"missing part {rel} (its runs part is committed)")
            except Exception as exc:  # noqa: BLE001 - any failure means an unreadable part
                msg = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
                report.problem(f"unreadable part {rel}: {msg}")
        if sums:  # changed after commit: quarantined by repair, but still checked for what else is wrong
            report.bad_parts.append(pid)
        if len(tables) != len(KINDS):
            if not sums:
                report.bad_parts.append(pid)
            continue
        batch[pid] = tables
        rows += tables["curves"].num_rows + tables["queries"].num_rows
        if rows >= _BATCH_ROWS:
            runs.append(_check_batch(batch, report))
            batch, rows = {}, 0
    runs.append(_check_batch(batch, report))
    report.parts = len(snap.committed)
    orphans = sum(len(v) for v in snap.orphans.values())
    if orphans:
        report.notes.append(
            f"{orphans} uncommitted (orphan) curves/queries parts: ignored; `algrid store compact` removes them"
        )
    if snap.journals:
        report.notes.append(f"{len(snap.journals)} journal(s) of an unfinished replace/compact present")
    for name, why in snap.untrusted.items():
        report.problem(f"untrusted journal journal/{name} ({why}): ignored; --repair moves it to quarantine/")
    if legacy:
        report.notes.append(
            f"{legacy} part(s) written before content checksums (older algrid): checked by decoding and "
            f"cross-checks only"
        )
    return pa.concat_tables(runs, promote_options="permissive")


def _check_rows(runs: pa.Table, grids: list, report: VerifyReport) -> None:
    """Across the store: no exp_key twice; every experiment in a grid of the store, with matching dimensions."""
    con = duckdb.connect()
    con.register("runs", runs)
    report.experiments = con.execute("SELECT count(DISTINCT exp_key) FROM runs").fetchall()[0][0]
    dups = con.execute(
        """
        SELECT exp_key, part, row_number() OVER (PARTITION BY exp_key ORDER BY
               CASE status::VARCHAR WHEN 'ok' THEN 0 WHEN 'timeout' THEN 1 ELSE 2 END, finished_at, part) AS rk,
               count(*) OVER (PARTITION BY exp_key) AS n
        FROM runs QUALIFY n > 1
        """
    ).fetchall()
    if dups:
        keys = sorted({k for k, _, _, _ in dups})
        report.problem(f"{len(keys)} exp_key(s) stored more than once, e.g. {', '.join(keys[:_EXAMPLES])}")
        for key, part, rk, _ in dups:
            if rk > 1:
                report.drop.setdefault(part, []).append(key)
    if grids:
        _check_membership(runs, grids, report)


def _grid_keys(grid) -> np.ndarray:
    """Sorted uint64 exp_keys of every experiment of a grid (chunked, vectorised)."""
    out = []
    for start in range(0, len(grid), _CHUNK):
        codes = grid.codes(np.arange(start, min(start + _CHUNK, len(grid)), dtype=np.int64))
        out.append(grid.keys_from_codes(codes))
    return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=np.uint64)


def _codes_in(grid, runs: pa.Table) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each stored row's dimension values as this grid's dictionary codes; valid = every value known to the grid."""
    valid = np.ones(runs.num_rows, dtype=bool)
    codes: dict[str, np.ndarray] = {}
    optional = [d for d in OPTIONAL_DIMENSIONS if d in runs.column_names]
    for d in (*DIMENSIONS, *optional):
        col = runs.column(d).cast(pa.string()).combine_chunks()
        unset = col.is_null().to_numpy(zero_copy_only=False) if d in OPTIONAL_DIMENSIONS else None
        if d not in grid.values:  # an optional dimension this grid never sets: only unset rows belong to it
            valid &= unset
            continue
        lookup = {str(v): i for i, v in enumerate(grid.values[d]) if v is not None}
        col = col.dictionary_encode()
        dict_codes = np.array([lookup.get(v, -1) for v in col.dictionary.to_pylist()], dtype=np.int64)
        idx = col.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        c = dict_codes[idx] if len(dict_codes) else np.full(runs.num_rows, -1, dtype=np.int64)
        if unset is not None:  # null = "not set", a value of the grid's list like any other
            c = np.where(unset, grid.values[d].index(None) if None in grid.values[d] else -1, c)
        valid &= c >= 0
        codes[d] = np.where(c >= 0, c, 0).astype(np.int32)
    return codes, valid


def _check_membership(runs: pa.Table, grids: list, report: VerifyReport) -> None:
    """Every stored experiment is in a grid of the store, and its dimensions hash to its exp_key."""
    stored = hex_to_keys(runs.column("exp_key").to_pylist())
    member = np.zeros(len(stored), dtype=bool)
    consistent = np.zeros(len(stored), dtype=bool)
    known = np.zeros(len(stored), dtype=bool)  # every dimension value is one of a grid's
    for grid in grids:
        keys = _grid_keys(grid)
        if len(keys):
            pos = np.minimum(np.searchsorted(keys, stored), len(keys) - 1)
            member |= keys[pos] == stored
        codes, valid = _codes_in(grid, runs)
        known |= valid
        consistent |= valid & (grid.keys_from_codes(codes) == stored)
    names = runs.column("exp_key").to_pylist()
    outside = sorted({names[i] for i in np.flatnonzero(~member & ~known)})
    if outside:
        report.problem(
            f"{len(outside)} stored experiment(s) belong to no grid of this store, e.g. {', '.join(outside[:_EXAMPLES])}"
        )
    # Hyperparameters of the grid under another key: results of an older version of a versioned value (a plugin,
    # a file: dataset, a learner definition, a strategy's seeding). Kept and never reused, as `status` says.
    stale = sorted({names[i] for i in np.flatnonzero(~member & known)})
    if stale:
        report.notes.append(
            f"{len(stale)} stale experiment(s): their hyperparameters are in the grid but their exp_key is of an "
            "older version of a plugin, a file: dataset, a learner definition or a strategy's seeding "
            "(kept, not reused)"
        )
    mismatched = sorted({names[i] for i in np.flatnonzero(member & ~consistent)})
    if mismatched:
        report.problem(
            f"{len(mismatched)} run row(s) whose dimensions do not match their exp_key, e.g. {mismatched[0]}"
        )


def drop_rows(store: Store, drop: dict[str, list[str]], reason: str) -> int:
    """Rewrite the given parts without the rows of the given exp_keys (journaled): they become pending."""
    add, remove, n = [], [], 0
    for pid, keys in drop.items():
        value_set = pa.array(sorted(set(keys)), pa.string())
        tables = {}
        for kind in KINDS:
            t = read_parts([part_path(store.root, kind, pid)], kind)
            keep = pc.invert(pc.is_in(t["exp_key"], value_set=value_set))
            if kind == "runs":
                n += t.num_rows - pc.sum(keep.cast(pa.int64())).as_py()
            tables[kind] = t.filter(keep)
        remove.append(pid)
        if tables["runs"].num_rows:
            add.append(tables)
    if remove:  # the originals go to quarantine/, never deleted (PartsBusy: a runner is replacing them)
        store.upgrade_schema()
        writer.replace_parts(store.root, remove, add, reason=reason, keep_removed=True)
    return n


def _claim_stale_after(store: Store) -> float:
    """The runner's rule for other hosts' claims: the grid's time limit plus slack (a day without one)."""
    try:
        timeout = float(store.grid().settings.get("timeout_s") or 0)
    except Exception:  # noqa: BLE001 - a grid that no longer loads is reported elsewhere
        timeout = 0.0
    return (timeout or 86_400.0) + 605.0


def _owner_files(store: Store, report: VerifyReport, repair: bool) -> None:
    """Claims and part locks: report those whose owner is gone or unknown; repair clears them."""
    remove = ("abandoned", "empty") if repair else ()
    groups = (
        ("claim", sorted((store.root / "claims").glob("[!.]*")), _claim_stale_after(store)),
        ("part lock", sorted((store.root / "journal").glob("[!.]*.lock")), writer.STALE_JOURNAL_S),
    )
    for what, paths, after in groups:
        counts = owners.sweep(paths, after, remove)
        gone = counts["abandoned"] + counts["empty"]
        if counts["removed"]:
            report.repaired.append(f"cleared {counts['removed']} {what}(s) whose owner is gone or unrecorded")
        elif gone:
            report.notes.append(
                f"{gone} {what}(s) without a live owner ({counts['empty']} empty): the next run takes them over; "
                f"--repair clears them"
            )
        if counts["held"]:
            report.notes.append(f"{counts['held']} {what}(s) held by a live runner (left alone)")


def _quarantine_journals(store: Store, names: list[str]) -> list[str]:
    moved = []
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-untrusted-journal"
    for name in names:
        src = store.root / "journal" / name
        dst = store.root / "quarantine" / stamp / "journal" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.move(str(src), str(dst))
        except FileNotFoundError:
            continue
        moved.append(str(dst.relative_to(store.root)))
    return moved


def verify(store_dir: str | Path, repair: bool = False) -> VerifyReport:
    """Check the store; with ``repair`` fix what can be fixed (moving, never deleting, committed data) and check
    again."""
    store = Store.open(store_dir)
    report = VerifyReport(store=str(store_dir))
    if repair:
        report.repaired += writer.recover_journals(store.root)
    snap = store.snapshot()
    runs = _check_parts(store, snap, report)
    try:
        grids = store.grids()
    except Exception as exc:  # noqa: BLE001 - a grid that no longer loads (renamed strategy, ...) is a finding
        report.problem(f"cannot load the store's grid: {str(exc)[:300]}")
        grids = []
    _check_rows(runs, grids, report)
    report.versions = version_census(runs)
    report.warnings = mix_warning(report.versions, str(store_dir))
    _owner_files(store, report, repair)
    if not repair or report.ok:
        return report
    report.repaired += [f"quarantined {m}" for m in _quarantine_journals(store, sorted(snap.untrusted))]
    for pid in dict.fromkeys(report.bad_parts):
        report.repaired += [f"quarantined {m}" for m in writer.quarantine_parts(store.root, [pid], "damaged")]
    drop = {p: k for p, k in report.drop.items() if p not in report.bad_parts}
    if drop:
        n = drop_rows(store, drop, reason="verify --repair")
        report.repaired.append(
            f"dropped {n} duplicated, incomplete or inconsistent run row(s): those experiments are pending again; "
            f"the original part(s) {', '.join(sorted(drop))} moved to quarantine/"
        )
    final = verify(store_dir, repair=False)
    final.repaired = report.repaired
    final.notes = [f"before repair: {p}" for p in report.problems] + final.notes
    return final
