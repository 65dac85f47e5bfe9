"""LocalPool: run work groups on worker processes with per-experiment time and memory limits.

Why work groups: the pool hands a worker consecutive experiments of one *work group* (same dataset, learner, split,
start, ...), so the engine's per-process cache turns the fits they share into hits. An idle worker takes the next
group or steals the second half of a busy worker's queue.

Limits: the time limit kills the worker's process group (C code included, and any process the experiment started);
the memory cap is enforced by the kernel inside the worker (algrid.execute.lifetime) and, as a backstop for memory
the kernel limit does not count, by measuring each busy worker's unique memory every MEMORY_POLL_S. A worker that
dies on its own is recorded as a crash saying how it ended (exit code, signal).
"""

from __future__ import annotations

import pickle
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from typing import Any

from algrid.execute.process import POLL_S, WorkerProcess
from algrid.execute.records import Task, describe_exit, partial_result, timeout_error
from algrid.execute.worker import CYCLE_REPORT_S
from algrid.results import ExperimentResult

#: Seconds a started worker may take to import the engine before it is considered broken.
STARTUP_LIMIT_S = 300.0
#: How often the runner measures a busy worker's memory (reading /proc/<pid>/smaps costs a few ms).
MEMORY_POLL_S = 1.0


class LocalPool:
    """Runs work groups on ``jobs`` worker processes with per-experiment time and memory limits.

    Callbacks (all in the calling thread): ``claim(task) -> bool`` right before a task is dispatched (False: skip it,
    another runner has it); ``on_result(result)`` for every finished experiment, including synthesized
    ``timeout`` / ``failed`` results of killed workers; ``on_tick()`` about every POLL_S seconds.
    ``stop()`` (from a signal handler) makes ``run`` return after killing the workers.
    """

    def __init__(
        self,
        jobs: int,
        settings: dict[str, Any],
        *,
        timeout_s: float | None = None,
        memory_mb: float | None = None,
    ):
        self.jobs = max(1, int(jobs))
        self.settings = dict(settings)
        self.timeout_s = float(timeout_s) if timeout_s else None
        self.memory_mb = float(memory_mb) if memory_mb else None
        # A cycle stuck in C code never reaches the loop's own cycle_limit_s check: the worker is killed once no cycle
        # was reported for the limit plus the reporting slack (finished cycles can wait 2 x CYCLE_REPORT_S to be sent).
        limit = float(self.settings.get("cycle_limit_s") or 0.0)
        self.cycle_kill_s = limit + 2 * CYCLE_REPORT_S if limit else None
        self._stop = False
        self.spawned = 0

    def stop(self) -> None:
        self._stop = True

    def run(
        self,
        groups: Iterable[list[Task]],
        *,
        claim: Callable[[Task], bool],
        on_result: Callable[[ExperimentResult], None],
        on_tick: Callable[[], None] | None = None,
    ) -> bool:
        """Run every group; returns False if stopped early (the results delivered so far are final)."""
        pending: deque[list[Task]] = deque(g for g in groups if g)
        workers: list[WorkerProcess] = []
        try:
            while not self._stop:
                for w in workers:  # hand out work to idle workers
                    if w.running is None:
                        self._dispatch(w, workers, pending, claim)
                while len(workers) < self.jobs and (pending or any(len(w.queue) > 1 for w in workers)):
                    w = WorkerProcess()
                    self.spawned += 1
                    workers.append(w)
                    self._dispatch(w, workers, pending, claim)
                    if w.running is None:
                        break
                busy = [w for w in workers if w.running is not None]
                if not busy:
                    if not pending and not any(w.queue for w in workers):
                        return True
                    continue
                ready = wait([w.conn for w in busy], timeout=self._wait_s(busy))
                if self._stop:  # a signal arrived: workers it also reached must not be recorded as crashes
                    break
                now = time.monotonic()
                finished: list[ExperimentResult] = []
                for w in busy:
                    if w.conn in ready:
                        self._receive(w, now, finished.append)
                if finished:
                    # Hand the finished workers their next task before recording results: recording may commit
                    # a Parquet part (tens of ms), and the worker would sit idle through it.
                    for w in busy:
                        if w.running is None and not w.eof:
                            self._dispatch(w, workers, pending, claim)
                    for result in finished:
                        on_result(result)
                alive = []
                for w in workers:
                    gone = self._over_limit(w, now, on_result) if w.running is not None else w.gone(now)
                    if not gone:
                        alive.append(w)
                        continue
                    w.close()
                    if w.queue:  # the rest of its work group goes to the next free worker
                        pending.appendleft(list(w.queue))
                workers = alive
                if on_tick is not None:
                    on_tick()
            return False
        finally:
            for w in workers:
                if self._stop or w.running is not None:
                    w.kill()
                else:
                    w.stop()

    # ----------------------------------------------------------------------------------------------- internals
    def _dispatch(
        self,
        w: WorkerProcess,
        workers: list[WorkerProcess],
        pending: deque,
        claim: Callable[[Task], bool],
    ) -> None:
        while True:
            if not w.queue:
                if pending:
                    w.queue.extend(pending.popleft())
                else:  # steal the second half of the biggest queue (keeps the victim's group contiguous)
                    victim = max((o for o in workers if o is not w), key=lambda o: len(o.queue), default=None)
                    if victim is None or len(victim.queue) < 2:
                        return
                    n = len(victim.queue) // 2
                    stolen = [victim.queue.pop() for _ in range(n)]
                    w.queue.extend(reversed(stolen))
            task = w.queue.popleft()
            if claim(task):
                try:
                    w.send(task, self.settings, self.memory_mb)
                except OSError:  # the worker died between two tasks: the task goes back, the worker is reaped
                    w.running, w.eof = None, True
                    w.queue.appendleft(task)
                    w.kill()
                return

    def _wait_s(self, busy: list[WorkerProcess]) -> float:
        wait_s = POLL_S
        if self.timeout_s:
            now = time.monotonic()
            for w in busy:
                r = w.running
                if r is not None and r.started_at is not None:
                    wait_s = min(wait_s, max(0.0, r.started_at + self.timeout_s - now) + 0.01)
        if self.cycle_kill_s:
            now = time.monotonic()
            for w in busy:
                r = w.running
                if r is not None and r.progress_at is not None:
                    wait_s = min(wait_s, max(0.0, r.progress_at + self.cycle_kill_s - now) + 0.01)
        return wait_s

    def _receive(self, w: WorkerProcess, now: float, on_result: Callable[[ExperimentResult], None]) -> None:
        while w.running is not None:
            try:
                if not w.conn.poll():
                    return
                msg = w.conn.recv()
            except (EOFError, OSError, pickle.UnpicklingError):
                w.eof = True
                return  # the process died; _over_limit notices via gone()
            run = w.running
            kind = msg[0]
            if kind == "start":
                run.started_at, run.cpu0, run.cpu = now, msg[2], msg[2]
            elif kind == "cycles":
                run.progress_at = now
                run.curve.extend(msg[2])
                run.selected.extend(msg[3])
                run.cpu = msg[4]
            elif kind == "done":
                w.running = None
                on_result(msg[2])
            elif kind == "crash":
                w.running = None
                on_result(partial_result(run, "failed", f"crash: {msg[2]}", time.monotonic()))
            elif kind == "exit":  # from the zygote: the worker has ended
                w.status = msg[1]

    def _over_limit(
        self, w: WorkerProcess, now: float, on_result: Callable[[ExperimentResult], None]
    ) -> bool:
        """Kill a worker that exceeded a limit or died; record its experiment. True if the worker is gone."""
        run = w.running
        assert run is not None
        if self.memory_mb and now - w.mem_checked_at >= MEMORY_POLL_S:
            w.mem_checked_at = now
            uss = w.memory_mb()
            if uss > self.memory_mb:
                w.kill()
                error = f"memory: worker used {uss:.0f} MiB > limit {self.memory_mb:g} MiB"
                on_result(partial_result(run, "failed", error, now))
                return True
        if self.timeout_s and run.started_at is not None and now - run.started_at > self.timeout_s:
            w.kill()
            on_result(partial_result(run, "timeout", timeout_error(self.timeout_s, run), now))
            return True
        if self.cycle_kill_s and run.progress_at is not None and now - run.progress_at > self.cycle_kill_s:
            w.kill()
            limit = self.cycle_kill_s - 2 * CYCLE_REPORT_S
            error = f"cycle_limit: a cycle exceeded cycle_limit_s {limit:g} after {max(len(run.curve) - 1, 0)} cycles"
            on_result(partial_result(run, "timeout", error, now))
            return True
        if run.started_at is None and now - run.sent_at > STARTUP_LIMIT_S:
            w.kill()
            error = f"crash: worker did not start within {STARTUP_LIMIT_S:g} s"
            on_result(partial_result(run, "failed", error, now))
            return True
        if w.gone(now):
            self._receive(w, now, on_result)  # a final "done" may still be in the pipe
            if w.running is None:
                return False
            w.close()
            if self._stop:
                # The runner is shutting down (SIGTERM from scancel or a time limit, which the scheduler follows
                # with SIGKILL to every process): the experiment was interrupted, not broken. Leave it pending.
                w.running = None
                return True
            w.kill()  # its process group: anything the experiment started
            on_result(partial_result(run, "failed", f"crash: {describe_exit(w.status)}", now))
            return True
        return False
