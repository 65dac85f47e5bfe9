"""A run session: one selection of a grid run into one store, as named steps.

    open_store -> select -> retire -> plan -> execute -> commit -> summarise

Why an object: every backend shares the first steps (the Dask client runs open_store .. plan, then hands chunks to
tasks that each run a whole session of their own), and each step's state (store, done-set, claims, writer, counts)
is an attribute a reader can find instead of a variable captured by nested closures. ``run()`` is all steps in order,
which is what `run_shard` does; see algrid.execute.runner for the guarantees.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from algrid.execute import plan
from algrid.execute.inprocess import run_in_process
from algrid.execute.pool import LocalPool
from algrid.execute.records import Task, normalise
from algrid.execute.summary import Interrupted, RunSummary, strategy_table
from algrid.grid.sharding import parse_shard
from algrid.results import ExperimentResult
from algrid.store import DoneTracker, Store, default_store_dir
from algrid.store.claims import Claims
from algrid.store.parts import recover_journals
from algrid.store.progress import add_grid_progress

if TYPE_CHECKING:
    from algrid.grid.lazy import Grid


class RunSession:
    """State and steps of one run; build it, then call the steps in order (or ``run()``)."""

    def __init__(
        self,
        grid: Grid | str | Path,
        store_dir: str | Path | None = None,
        *,
        indices: Sequence[int] | np.ndarray | None = None,
        shard: str | tuple[int, int] | None = None,
        jobs: int = 1,
        retry_failed: bool = False,
        progress: bool = True,
        memory_mb: int | None = None,
        in_process: bool = False,
        flush_every: int = 8,
        flush_seconds: float = 5.0,
        merge: bool = True,
    ) -> None:
        self.t_start = time.monotonic()
        self.grid_arg, self.store_arg, self.indices, self.shard_arg = grid, store_dir, indices, shard
        self.jobs, self.retry_failed, self.progress = jobs, retry_failed, progress
        self.memory_arg, self.in_process, self.merge = memory_mb, in_process, merge
        self.flush_every, self.flush_seconds = flush_every, flush_seconds
        self.stopped = False
        self.held: list[Task] = []
        self._pool: LocalPool | None = None
        self._last_refresh = (0.0, 0.0)  # time of the last done-set refresh, its duration

    # ------------------------------------------------------------------------------------------------- steps
    def open_store(self) -> None:
        """Load the grid, open (or create) the store, refusing a grid with other key settings; finish the commits
        a killed writer left half done."""
        grid = self.grid_arg
        if not hasattr(grid, "decode"):
            from algrid.grid.lazy import load_grid

            grid = load_grid(grid)
        grid = cast("Grid", grid)  # a Grid, or any grid-like object with decode() (hasattr does not narrow)
        self.grid: Grid = grid
        self.shard = parse_shard(self.shard_arg)
        self.store_dir = Path(self.store_arg) if self.store_arg is not None else default_store_dir(grid)
        self.store = Store.create_or_open(self.store_dir, grid)
        recover_journals(self.store.root)
        self.settings = dict(grid.settings)
        self.timeout_s = float(self.settings.get("timeout_s") or 0) or None
        self.memory_mb = self.memory_arg or self.settings.get("memory_mb")

    def select(self) -> None:
        """Decode the selected experiments and read which of them the store already has."""
        idx = plan.select(self.grid, self.indices, self.shard)
        self.table = self.grid.decode(idx)
        self.keys: list[str] = self.table.column("exp_key").to_pylist()
        self.summary = RunSummary(store=str(self.store_dir), selected=len(self.keys))
        self.tracker = DoneTracker(self.store, interest=self.keys)

    def retire(self) -> None:
        """With ``retry_failed``: retire the selection's failed/timeout rows first, so no exp_key is stored twice."""
        if not self.retry_failed:
            return
        retry = [k for k in self.keys if self.tracker.status_of.get(k) in ("failed", "timeout")]
        self.summary.retired = self.store.retire(retry, reason="retry-failed")
        self.tracker.refresh()

    def plan(self) -> list[list[Task]]:
        """The work groups still to run (longest first when several local workers share them)."""
        keys, tracker, retry = self.keys, self.tracker, self.retry_failed
        todo_mask = pa.array([not tracker.is_done(k, retry) for k in keys], pa.bool_())
        self.todo = self.table.filter(todo_mask)
        self.summary.already_done = len(keys) - self.todo.num_rows
        if (
            not self.in_process and self.todo.num_rows
        ):  # a run with nothing to do starts no worker process at all
            from algrid.execute.zygote import prestart

            prestart()  # the zygote's imports (1-2 s) overlap the grouping and the store writer's set-up
        groups = plan.work_groups(self.todo)
        if self.jobs > 1 and not self.in_process:
            groups = plan.longest_first(groups, dict(self.grid.settings))
        self.groups = groups
        return groups

    def execute(self) -> None:
        """Run the planned groups under claims, committing as results arrive; a second pass takes experiments
        that another runner held and released unfinished. SIGTERM/SIGINT stop it after committing."""
        shard_label = f"{self.shard[0]}/{self.shard[1]}" if self.shard else None
        stale_after = (self.timeout_s or 86_400.0) + self.flush_seconds + 600.0
        self.bar = _progress_bar(len(self.keys), self.summary.already_done, self.progress)
        self.bar.set_postfix(failed=0, timeout=0, refresh=False)
        with Claims(self.store.root, stale_after_s=stale_after) as claims:
            self.claims = claims
            self.writer = self.store.writer(
                shard=shard_label,
                grid_fingerprint=self.grid.fingerprint,
                flush_every=self.flush_every,
                flush_seconds=self.flush_seconds,
                done_check=self._committed_by_others,
                on_commit=self.tracker.record_part,
            )
            self._pool = LocalPool(
                self.jobs, self.settings, timeout_s=self.timeout_s, memory_mb=self.memory_mb
            )
            restore = _install_signals(self._on_signal)
            try:
                groups = self.groups
                for attempt in range(2):
                    if attempt == 1:
                        groups = self._held_groups()
                        if not groups:
                            break
                    self._run_groups(groups)
                    if self.stopped:
                        break
            finally:
                claims.release(self.writer.flush())
                restore()
                self.bar.close()

    def commit(self) -> None:
        """Merge this run's parts into one (fewer files on shared filesystems, fast reads); a part that a
        compaction or another runner holds simply stays as it is."""
        if self.merge and not self.stopped and len(self.writer.part_ids) > 1:
            from algrid.store.compact import merge_parts

            merge_parts(self.store, self.writer.part_ids, reason="run merge")

    def summarise(self) -> RunSummary:
        """Fill in the summary; raise Interrupted (exit 130) if a signal stopped the run."""
        s = self.summary
        self.tracker.refresh()  # held elsewhere = still undone now (a holder may have committed them meanwhile)
        s.held_elsewhere = sum(not self.tracker.is_done(t.exp_key, self.retry_failed) for t in self.held)
        s.interrupted = self.stopped
        s.elapsed_s = time.monotonic() - self.t_start
        s.by_strategy = strategy_table(self.store, self.keys, self.table)
        add_grid_progress(s, self.store, self.grid)
        if self.stopped:
            raise Interrupted(
                f"interrupted: {s.ran} experiments finished and committed to {self.store_dir}; "
                "run the same command to resume"
            )
        return s

    def run(self) -> RunSummary:
        self.open_store()
        self.select()
        self.retire()
        self.plan()
        self.execute()
        self.commit()
        return self.summarise()

    def missing(self) -> list[str]:
        """Selected experiments the store still lacks (after a run by other processes, e.g. Dask tasks)."""
        self.tracker.refresh()
        return [k for k in self.keys if not self.tracker.is_done(k)]

    # --------------------------------------------------------------------------------- callbacks of execute
    def _run_groups(self, groups: list[list[Task]]) -> None:
        if self.in_process:
            run_in_process(
                [t for g in groups for t in g],
                self.settings,
                timeout_s=self.timeout_s,
                claim=self._claim,
                on_result=self._on_result,
                on_tick=self._on_tick,
                should_stop=lambda: self.stopped,
            )
        else:
            assert self._pool is not None
            self._pool.jobs = max(1, min(int(self.jobs), sum(len(g) for g in groups)))
            self._pool.run(groups, claim=self._claim, on_result=self._on_result, on_tick=self._on_tick)

    def _held_groups(self) -> list[list[Task]]:
        """The groups of experiments another runner held during the first pass."""
        self.tracker.refresh()
        held = pa.array([t.exp_key for t in self.held], pa.string())
        self.held.clear()
        return plan.work_groups(self.todo.filter(pc.is_in(self.todo["exp_key"], held)))

    def _committed_by_others(self, batch: list[str]) -> set[str]:
        hit = self.tracker.committed(batch)
        self.summary.dropped_duplicates += len(hit)
        return hit

    def _claim(self, task: Task) -> bool:
        if not self.claims.acquire(task.exp_key):
            self.held.append(task)
            return False
        now = time.monotonic()
        # Re-read new parts now and then (cost grows with the number of parts: at most ~10% of the time); the
        # check right before each commit is what guarantees no duplicates, this only avoids wasted work.
        last, took = self._last_refresh
        if now - last > max(1.0, 10 * took):
            self.tracker.refresh()
            done = time.monotonic()
            self._last_refresh = (done, done - now)
        if self.tracker.is_done(task.exp_key, self.retry_failed):
            self.claims.release([task.exp_key])
            self.bar.update(1)
            return False
        return True

    def _on_result(self, result: ExperimentResult) -> None:
        result = normalise(result)
        s = self.summary
        s.ran += 1
        setattr(s, result.status, getattr(s, result.status) + 1)
        self.claims.release(self.writer.add(result))
        self.bar.update(1)
        if result.status != "ok":
            self.bar.set_postfix(failed=s.failed, timeout=s.timeout, refresh=False)

    def _on_tick(self) -> None:
        if self.writer.due():
            self.claims.release(self.writer.flush())

    def _on_signal(self, *_: Any) -> None:
        self.stopped = True
        if self._pool is not None:
            self._pool.stop()


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
