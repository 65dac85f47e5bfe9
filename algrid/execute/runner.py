"""Run a shard (or any set of experiments) of a grid into a result store: resume, claims, limits, progress.

`run_shard` is the one entry point every backend uses: `algrid run` locally, a SLURM array task (`--shard i/N`) and a
Dask task (a small `indices` chunk, `jobs=1`). It

1. opens (or creates) the store and refuses a grid with other key settings;
2. skips experiments that already have a run row (with ``retry_failed`` only `ok` ones; the failed/timeout rows of
   the selection are retired first, so an exp_key is never stored twice);
3. runs the rest on ``jobs`` worker processes (algrid.execute.local) in work-group order, so a worker's model cache
   turns the fits that experiments share into hits; ``in_process=True`` runs in the calling process instead (for hosts
   where no child process may be started; the time limit is then checked between cycles only);
4. claims every experiment (claim file, O_EXCL) right before starting it and releases the claim only after its run
   row is committed; before committing, rows another runner committed meanwhile are dropped. Two runners on the same
   shard therefore neither duplicate rows nor (mostly) work;
5. commits results every ``flush_every`` experiments or ``flush_seconds``: a killed runner loses at most those plus the
   experiments in flight. SIGTERM/SIGINT (e.g. SLURM's time limit) flush what is finished before exiting.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from algrid.errors import AlgridError
from algrid.execute.local import LocalPool, Task, load_plugins, prestart, run_in_process
from algrid.grid.sharding import parse_shard
from algrid.results import ExperimentResult
from algrid.store import DoneTracker, Store, default_store_dir
from algrid.store.claims import Claims
from algrid.store.parts import recover_journals

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid

#: Dimensions whose equal values make experiments share work in a worker (the engine's cache key).
GROUP_DIMS: tuple[str, ...] = ("dataset", "learner", "initial_pool", "split", "start", "seed")


class Interrupted(AlgridError):
    """The run was stopped by a signal; everything finished before it is committed."""

    exit_code = 130


@dataclass
class RunSummary:
    """What one `run_shard` call did, plus the store's per-strategy state of the selected experiments."""

    store: str
    selected: int = 0
    already_done: int = 0
    ran: int = 0
    ok: int = 0
    failed: int = 0
    timeout: int = 0
    held_elsewhere: int = 0
    dropped_duplicates: int = 0
    retired: int = 0
    interrupted: bool = False
    elapsed_s: float = 0.0
    by_strategy: list[dict[str, Any]] = field(default_factory=list)
    grid_total: int | None = None  # experiments in the whole grid
    grid_pending: int | None = None  # of those, without a result yet (any shard)
    pending_elsewhere: int | None = None  # ... outside this run's selection (other shards)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """The short per-strategy table `algrid run` prints when it finishes."""
        head = ("strategy", "implementation", "ok", "failed", "timeout", "pending", "f1_weighted_aulc")
        rows = [
            (
                r["strategy"],
                r["implementation"],
                str(r["ok"]),
                str(r["failed"]),
                str(r["timeout"]),
                str(r["pending"]),
                "-" if r["f1_weighted_aulc"] is None else f"{r['f1_weighted_aulc']:.4f}",
            )
            for r in self.by_strategy
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        lines = [
            "  ".join(
                h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths, strict=True))
            )
        ]
        for r in rows:
            lines.append(
                "  ".join(
                    v.ljust(w) if i < 2 else v.rjust(w)
                    for i, (v, w) in enumerate(zip(r, widths, strict=True))
                )
            )
        lines.append(
            f"ran {self.ran} experiments in {self.elapsed_s:.1f} s (ok {self.ok}, failed {self.failed}, "
            f"timeout {self.timeout}); {self.already_done} were already done"
            + (f"; {self.held_elsewhere} held by another runner" if self.held_elsewhere else "")
            + f"; store: {self.store}"
        )
        if self.grid_pending is not None:
            lines.append(
                f"whole grid: {self.grid_pending} of {self.grid_total} experiments pending"
                + (
                    f", {self.pending_elsewhere} of them in other shards"
                    if self.selected < (self.grid_total or 0)
                    else ""
                )
            )
        return "\n".join(lines)


def work_groups(table: pa.Table) -> list[list[Task]]:
    """Split a decoded selection (in order) into runs of consecutive experiments that share work."""
    cols = {
        c: table.column(c).to_pylist()
        for c in ("exp_key", "exp_index", *table.column_names)
        if c in table.column_names
    }
    from algrid.results import DIMENSIONS

    groups: list[list[Task]] = []
    last = None
    for j in range(table.num_rows):
        config = {d: cols[d][j] for d in DIMENSIONS}
        key = tuple(config[d] for d in GROUP_DIMS)
        task = Task(exp_key=cols["exp_key"][j], exp_index=int(cols["exp_index"][j]), config=config, group=key)
        if key != last:
            groups.append([])
            last = key
        groups[-1].append(task)
    return groups


def longest_first(groups: list[list[Task]], settings: dict[str, Any]) -> list[list[Task]]:
    """Work groups in decreasing projected cost (the calibrated estimate), ties in their given order.

    Why: with several workers the run ends when the last group does; starting the expensive groups first leaves
    only cheap ones to even out the finish (longest-processing-time-first scheduling), so fewer groups have to be
    split between workers, which would cost each half its shared fits. Results do not depend on the order.
    """
    if len(groups) < 2:
        return groups
    from algrid.cost.estimate import experiment_costs

    try:
        costs = experiment_costs([t.config for g in groups for t in g], settings)
    except Exception:  # noqa: BLE001 - no estimate (e.g. an uncalibrated plugin learner): keep the shard order
        return groups
    totals, i = [], 0
    for g in groups:
        totals.append(sum(costs[i : i + len(g)]))
        i += len(g)
    order = sorted(range(len(groups)), key=lambda j: -totals[j])
    return [groups[j] for j in order]


def select(
    grid: Grid, indices: Sequence[int] | np.ndarray | None, shard: tuple[int, int] | None
) -> np.ndarray:
    """The exp_indices to run, in an order that keeps work groups contiguous."""
    if shard is not None:
        return np.asarray(grid.shard(*shard), dtype=np.int64)
    if indices is None:
        return np.arange(len(grid), dtype=np.int64)
    idx = np.unique(np.asarray(indices, dtype=np.int64))  # sorted: exp_index order keeps groups contiguous
    if idx.size and (idx[0] < 0 or idx[-1] >= len(grid)):
        raise AlgridError(f"experiment index out of range [0, {len(grid)})")
    return idx


def _normalise(result: ExperimentResult) -> ExperimentResult:
    err = result.error or ""
    if result.status == "failed" and err.startswith("MemoryError"):
        result.error = "memory: " + err
    return result


def run_shard(
    grid: Grid | str | Path,
    store_dir: str | Path | None = None,
    indices: Sequence[int] | np.ndarray | None = None,
    shard: str | tuple[int, int] | None = None,
    jobs: int = 1,
    retry_failed: bool = False,
    progress: bool = True,
    *,
    memory_mb: int | None = None,
    in_process: bool = False,
    flush_every: int = 8,
    flush_seconds: float = 5.0,
    merge: bool = True,
) -> RunSummary:
    """Run the selected experiments of ``grid`` into the store; see the module docstring. Never runs one twice."""
    t_start = time.monotonic()
    load_plugins()
    if not in_process:
        prestart()
    if not hasattr(grid, "decode"):
        from algrid.grid.lazy import load_grid

        grid = load_grid(grid)
    shard_t = parse_shard(shard)
    store_dir = Path(store_dir) if store_dir is not None else default_store_dir(grid)
    store = Store.create_or_open(store_dir, grid)
    recover_journals(store.root)
    settings = dict(grid.settings)
    timeout_s = float(settings.get("timeout_s") or 0) or None
    memory_mb = memory_mb or settings.get("memory_mb")

    idx = select(grid, indices, shard_t)
    table = grid.decode(idx)
    keys = table.column("exp_key").to_pylist()
    summary = RunSummary(store=str(store_dir), selected=len(keys))
    tracker = DoneTracker(store, interest=keys)
    if retry_failed:
        retry = [k for k in keys if tracker.status_of.get(k) in ("failed", "timeout")]
        summary.retired = store.retire(retry, reason="retry-failed")
        tracker.refresh()
    todo_mask = pa.array([not tracker.is_done(k, retry_failed) for k in keys], pa.bool_())
    todo = table.filter(todo_mask)
    summary.already_done = len(keys) - todo.num_rows
    groups = work_groups(todo)
    if jobs > 1 and not in_process:
        groups = longest_first(groups, dict(grid.settings))

    shard_label = f"{shard_t[0]}/{shard_t[1]}" if shard_t else None
    stale_after = (timeout_s or 86_400.0) + flush_seconds + 600.0
    bar = _progress_bar(len(keys), summary.already_done, progress)
    bar.set_postfix(failed=0, timeout=0, refresh=False)
    last_refresh = [0.0, 0.0]  # time of the last refresh, its duration

    def committed_by_others(batch: list[str]) -> set[str]:
        hit = tracker.committed(batch)
        summary.dropped_duplicates += len(hit)
        return hit

    with Claims(store.root, stale_after_s=stale_after) as claims:
        writer = store.writer(
            shard=shard_label,
            grid_fingerprint=grid.fingerprint,
            flush_every=flush_every,
            flush_seconds=flush_seconds,
            done_check=committed_by_others,
            on_commit=tracker.record_part,
        )
        held: list[Task] = []

        def claim(task: Task) -> bool:
            if not claims.acquire(task.exp_key):
                held.append(task)
                return False
            now = time.monotonic()
            # Re-read new parts now and then (cost grows with the number of parts: at most ~10% of the time); the
            # check right before each commit is what guarantees no duplicates, this only avoids wasted work.
            if now - last_refresh[0] > max(1.0, 10 * last_refresh[1]):
                tracker.refresh()
                last_refresh[:] = [time.monotonic(), time.monotonic() - now]
            if tracker.is_done(task.exp_key, retry_failed):
                claims.release([task.exp_key])
                bar.update(1)
                return False
            return True

        def on_result(result: ExperimentResult) -> None:
            result = _normalise(result)
            summary.ran += 1
            setattr(summary, result.status, getattr(summary, result.status) + 1)
            claims.release(writer.add(result))
            bar.update(1)
            if result.status != "ok":
                bar.set_postfix(failed=summary.failed, timeout=summary.timeout, refresh=False)

        def on_tick() -> None:
            if writer.due():
                claims.release(writer.flush())

        pool = LocalPool(jobs, settings, timeout_s=timeout_s, memory_mb=memory_mb)
        stopped = [False]

        def stop(*_: Any) -> None:
            stopped[0] = True
            pool.stop()

        restore = _install_signals(stop)
        try:
            for attempt in range(
                2
            ):  # second pass: experiments another runner held and then released unfinished
                if attempt == 1:
                    tracker.refresh()
                    retry_groups = work_groups(
                        todo.filter(
                            pc.is_in(todo["exp_key"], pa.array([t.exp_key for t in held], pa.string()))
                        )
                    )
                    held.clear()
                    groups = retry_groups
                    if not groups:
                        break
                if in_process:
                    run_in_process(
                        [t for g in groups for t in g],
                        settings,
                        timeout_s=timeout_s,
                        claim=claim,
                        on_result=on_result,
                        on_tick=on_tick,
                        should_stop=lambda: stopped[0],
                    )
                else:
                    n_tasks = sum(len(g) for g in groups)
                    pool.jobs = max(1, min(int(jobs), n_tasks))
                    pool.run(groups, claim=claim, on_result=on_result, on_tick=on_tick)
                if stopped[0]:
                    break
        finally:
            claims.release(writer.flush())
            restore()
            bar.close()
    if merge and not stopped[0] and len(writer.part_ids) > 1:
        # A finished run leaves one part triple instead of one per flush (fewer files on shared filesystems, fast
        # reads); if a compaction or another runner holds one of them, the parts simply stay as they are.
        from algrid.store.compact import merge_parts

        merge_parts(store, writer.part_ids, reason="run merge")
    summary.held_elsewhere = len(held)
    summary.interrupted = stopped[0]
    summary.elapsed_s = time.monotonic() - t_start
    summary.by_strategy = strategy_table(store, keys, table)
    add_grid_progress(summary, store, grid)
    if stopped[0]:
        raise Interrupted(
            f"interrupted: {summary.ran} experiments finished and committed to {store_dir}; run the same command to resume"
        )
    return summary


def add_grid_progress(summary: RunSummary, store: Store, grid: Grid) -> None:
    from algrid.store.progress import add_grid_progress as add

    add(summary, store, grid)


def strategy_table(store: Store, keys: list[str], selection: pa.Table) -> list[dict[str, Any]]:
    """Per (strategy, implementation) of the selection: ok/failed/timeout/pending and mean f1_weighted_aulc."""
    import duckdb

    runs = store.read("runs", ["exp_key", "status", "f1_weighted_aulc"], keys=keys)
    sel = selection.select(["exp_key", "strategy", "implementation"])
    con = duckdb.connect()
    con.register("runs_t", runs)
    con.register("sel_t", sel)
    rows = con.execute(
        """
        SELECT s.strategy::VARCHAR, s.implementation::VARCHAR,
               count(*) FILTER (WHERE r.status = 'ok'), count(*) FILTER (WHERE r.status = 'failed'),
               count(*) FILTER (WHERE r.status = 'timeout'), count(*) FILTER (WHERE r.status IS NULL),
               avg(r.f1_weighted_aulc) FILTER (WHERE r.status = 'ok')
        FROM sel_t s LEFT JOIN runs_t r USING (exp_key)
        GROUP BY 1, 2 ORDER BY 7 DESC NULLS LAST, 1, 2
        """
    ).fetchall()
    return [
        {
            "strategy": r[0],
            "implementation": r[1],
            "ok": r[2],
            "failed": r[3],
            "timeout": r[4],
            "pending": r[5],
            "f1_weighted_aulc": None if r[6] is None else float(r[6]),
        }
        for r in rows
    ]


def _progress_bar(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="exp",
        desc="experiments",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        mininterval=0.5 if sys.stderr.isatty() else 30.0,
    )


def _install_signals(handler):
    """SIGTERM/SIGINT -> graceful stop (only possible in the main thread; Dask tasks run elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for s in old:
        signal.signal(s, handler)

    def restore() -> None:
        for s, h in old.items():
            signal.signal(s, h)

    return restore
