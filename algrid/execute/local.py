"""Local worker processes: run many experiments per process, kill a process to enforce a time or memory limit.

Why separate OS processes started with ``subprocess`` (not ``multiprocessing.Pool`` or threads):
- A time limit must stop C code (BLAS, libsvm) too; only killing the process does that reliably. The prior study's
  thread-based timeouts never fired.
- ``subprocess`` works from anywhere: inside Dask's daemonic worker processes (where ``multiprocessing`` refuses to
  start children), from threads, after DuckDB or tqdm started threads (no fork-with-threads hazards).
- A worker imports the engine once, keeps its dataset and model caches, and runs experiments back to back. The parent
  hands a worker consecutive experiments of one *work group* (same dataset, learner, split, start, ...), so the
  engine's per-process cache turns shared fits into hits.

Protocol: the parent writes pickled messages to the worker's task pipe and reads from its result pipe
(``multiprocessing.connection.Connection`` over two inherited fds; the worker's stdout is redirected to stderr so
library prints cannot corrupt the channel). Worker -> parent: ("start", key, cpu), ("cycles", key, curve_rows,
selections, cpu), ("done", key, result). Finished cycles are sent at most every CYCLE_REPORT_S (and always before a
cycle that follows a longer pause), so the parent knows all but the last fraction of a second of an experiment's
cycles and can record them when it kills the worker, without waking for every cycle of a fast experiment.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from algrid.results import ExperimentResult

#: A worker reports finished cycles at most this often (each report wakes the runner's loop).
CYCLE_REPORT_S = 0.25
#: Seconds a started worker may take to import the engine before it is considered broken.
STARTUP_LIMIT_S = 300.0
#: How often the parent checks deadlines (seconds).
POLL_S = 0.2
#: How often it measures a busy worker's memory (reading /proc/<pid>/smaps costs a few ms).
MEMORY_POLL_S = 1.0


def load_plugins() -> list[str]:
    """Load the configured plugins (entry points, ALGRID_PLUGINS; see algrid.plugins) in this process.

    Runs in the parent and in every worker, so a strategy registered by a plugin exists in both.
    """
    from algrid import plugins

    return [p.ref for p in plugins.load_configured()]


@dataclass
class Task:
    """One experiment to run."""

    exp_key: str
    exp_index: int | None
    config: dict[str, Any]
    group: tuple = ()


@dataclass
class _Running:
    task: Task
    sent_at: float
    started_at: float | None = None
    curve: list[dict[str, float]] = field(default_factory=list)
    selected: list[list[int]] = field(default_factory=list)
    cpu0: float = 0.0
    cpu: float = 0.0


def _partial(run: _Running, status: str, error: str, now: float) -> ExperimentResult:
    return ExperimentResult(
        exp_key=run.task.exp_key,
        config=run.task.config,
        status=status,
        error=error,
        cycles_done=max(len(run.curve) - 1, 0),
        curve=list(run.curve),
        selected=list(run.selected),
        summary={},
        wall_s=now - (run.started_at or run.sent_at),
        cpu_s=max(run.cpu - run.cpu0, 0.0),
        exp_index=run.task.exp_index,
    )


#: Thread pools inside a worker: one. algrid parallelises across experiments, and nested BLAS/OpenMP pools on a
#: busy machine made small k-means, k-NN and L-BFGS calls 10-20x slower (see docs/engine.md).
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def worker_environment() -> dict[str, str]:
    """The caller's environment with single-threaded numerical libraries (set before numpy is imported)."""
    return {**os.environ, **SINGLE_THREAD_ENV}


def _context() -> tuple:
    """What a forked worker inherits from the zygote instead of from the caller: environment and directory.

    A zygote started under other values (a test that sets ALGRID_CACHE=0, a caller that changed directory, other
    ALGRID_PLUGINS) is replaced, so workers always behave like fresh children of the caller."""
    return (os.getcwd(), tuple(sorted(os.environ.items())))


class _Zygote:
    """A pre-imported fork server, started with ``subprocess`` (allowed even in daemonic processes).

    Why: a fresh Python worker needs 1-2 s to import scikit-learn and the engine. Every killed worker (time or memory
    limit) and every ``run_shard`` call (Dask runs one per chunk) would pay that again. The zygote imports once; a new
    worker is an ``os.fork()`` of it (milliseconds). The parent hands the zygote one end of a fresh socketpair
    (SCM_RIGHTS); the forked child serves tasks on it. Workers are the zygote's children (it auto-reaps them); the
    parent kills them by pid and sees their death as EOF on the channel.
    """

    _lock = threading.Lock()
    _instance: _Zygote | None = None

    def __init__(self) -> None:
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd = [sys.executable, "-m", "algrid.execute.local", "--zygote", str(child_sock.fileno())]
        self.proc = subprocess.Popen(
            cmd, pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL, env=worker_environment()
        )
        child_sock.close()
        self.sock = parent_sock
        self.context = _context()
        self.ready = False  # its imports run while the caller goes on (see prestart); fork() waits for them

    def _await_ready(self) -> None:
        if not self.ready:
            if self.sock.recv(1) != b"R":
                raise OSError("worker zygote failed to start")
            self.ready = True

    @classmethod
    def get(cls) -> _Zygote | None:
        with cls._lock:
            z = cls._instance
            if z is not None and z.proc.poll() is None and z.context == _context():
                return z
            if z is not None:  # dead, or started in another environment/directory: closing its socket ends it
                z.sock.close()
            try:
                cls._instance = cls()
            except OSError:
                cls._instance = None
            return cls._instance

    def fork(self) -> tuple[int, socket.socket]:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with self._lock:
            self._await_ready()
            socket.send_fds(self.sock, [b"F"], [theirs.fileno()])
            theirs.close()
            data = b""
            while len(data) < 8:
                chunk = self.sock.recv(8 - len(data))
                if not chunk:
                    raise OSError("worker zygote died")
                data += chunk
        return int.from_bytes(data, "little"), ours


def prestart() -> None:
    """Start the worker zygote now, so its imports (1-2 s) overlap the caller's own set-up (grid, store)."""
    if not os.environ.get("ALGRID_NO_ZYGOTE"):
        _Zygote.get()


class _Worker:
    """One worker process (forked by the zygote, or a plain subprocess as fallback) and its duplex channel."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        zygote = None if os.environ.get("ALGRID_NO_ZYGOTE") else _Zygote.get()
        pid = None
        if zygote is not None:
            try:
                pid, sock = zygote.fork()
            except OSError:
                pid = None
        if pid is None:
            sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            cmd = [sys.executable, "-m", "algrid.execute.local", "--worker", str(theirs.fileno())]
            self.proc = subprocess.Popen(
                cmd, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=worker_environment()
            )
            theirs.close()
            pid = self.proc.pid
        self.pid = pid
        self._sock = sock
        self.conn = Connection(os.dup(sock.fileno()))
        sock.close()
        self.running: _Running | None = None
        self.queue: deque[Task] = deque()
        self._ps = None
        self.mem_checked_at = 0.0
        self.eof = False  # the channel reported end-of-file: the process is gone or going
        self.exit_checked_at = 0.0

    def memory_mb(self) -> float:
        """Memory unique to this worker (USS): what its experiments allocated, not the libraries it shares with the
        zygote (those ~200 MiB of imports would otherwise count against every worker's cap). Falls back to RSS."""
        try:
            import psutil

            if self._ps is None:
                self._ps = psutil.Process(self.pid)
            try:
                return self._ps.memory_full_info().uss / 2**20
            except (psutil.AccessDenied, AttributeError):
                return self._ps.memory_info().rss / 2**20
        except Exception:  # noqa: BLE001 - process gone: nothing to measure
            return 0.0

    def exit_code(self) -> int | None:
        """None while alive; the exit code (or -signal) of a subprocess worker, -9 for a dead forked one."""
        if self.proc is not None:
            return self.proc.poll()
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -9
        except PermissionError:
            return None
        try:  # a zombie not yet reaped by the zygote is dead too
            with open(f"/proc/{self.pid}/stat") as fh:
                return -9 if fh.read().split(") ", 1)[1][:1] in ("Z", "X") else None
        except (OSError, IndexError):
            return None

    def gone(self, now: float) -> int | None:
        """``exit_code()``, asked only after end-of-file on the channel or every POLL_S: the runner's loop wakes
        on every cycle message of every worker, and /proc reads at that rate cost the parent a core-percent."""
        if not self.eof and now - self.exit_checked_at < POLL_S:
            return None
        self.exit_checked_at = now
        return self.exit_code()

    def send(self, task: Task, settings: dict[str, Any]) -> None:
        self.running = _Running(task=task, sent_at=time.monotonic())
        self.conn.send(("run", task.exp_key, task.exp_index, task.config, settings))

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc is not None:
            self.proc.wait()
        self.close()

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self, grace_s: float = 5.0) -> None:
        try:
            self.conn.send(("exit",))
        except OSError:
            pass
        deadline = time.monotonic() + grace_s
        while self.exit_code() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.exit_code() is None:
            self.kill()
        elif self.proc is not None:
            self.proc.wait()
        self.close()


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
        workers: list[_Worker] = []
        try:
            while not self._stop:
                for w in workers:  # hand out work to idle workers
                    if w.running is None:
                        self._dispatch(w, workers, pending, claim)
                while len(workers) < self.jobs and (pending or any(len(w.queue) > 1 for w in workers)):
                    w = _Worker()
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
                    gone = (
                        self._over_limit(w, now, on_result)
                        if w.running is not None
                        else w.gone(now) is not None
                    )
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
        self, w: _Worker, workers: list[_Worker], pending: deque, claim: Callable[[Task], bool]
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
                    w.send(task, self.settings)
                except OSError:  # the worker died between two tasks: the task goes back, the worker is reaped
                    w.running, w.eof = None, True
                    w.queue.appendleft(task)
                    w.kill()
                return

    def _wait_s(self, busy: list[_Worker]) -> float:
        wait_s = POLL_S
        if self.timeout_s:
            now = time.monotonic()
            for w in busy:
                r = w.running
                if r is not None and r.started_at is not None:
                    wait_s = min(wait_s, max(0.0, r.started_at + self.timeout_s - now) + 0.01)
        return wait_s

    def _receive(self, w: _Worker, now: float, on_result: Callable[[ExperimentResult], None]) -> None:
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
                run.started_at, run.cpu0, run.cpu = time.monotonic(), msg[2], msg[2]
            elif kind == "cycles":
                run.curve.extend(msg[2])
                run.selected.extend(msg[3])
                run.cpu = msg[4]
            elif kind == "done":
                w.running = None
                on_result(msg[2])

    def _over_limit(self, w: _Worker, now: float, on_result: Callable[[ExperimentResult], None]) -> bool:
        """Kill a worker that exceeded a limit or died; record its experiment. True if the worker is gone."""
        run = w.running
        assert run is not None
        if self.memory_mb and now - w.mem_checked_at >= MEMORY_POLL_S:
            w.mem_checked_at = now
            rss = w.memory_mb()
            if rss > self.memory_mb:
                w.kill()
                on_result(
                    _partial(
                        run,
                        "failed",
                        f"memory: worker used {rss:.0f} MiB > limit {self.memory_mb:g} MiB",
                        now,
                    )
                )
                return True
        if self.timeout_s and run.started_at is not None and now - run.started_at > self.timeout_s:
            w.kill()
            on_result(
                _partial(
                    run,
                    "timeout",
                    f"timeout: exceeded {self.timeout_s:g} s after {max(len(run.curve) - 1, 0)} cycles",
                    now,
                )
            )
            return True
        if run.started_at is None and now - run.sent_at > STARTUP_LIMIT_S:
            w.kill()
            on_result(
                _partial(run, "failed", f"crash: worker did not start within {STARTUP_LIMIT_S:g} s", now)
            )
            return True
        code = w.gone(now)
        if code is not None:
            self._receive(w, now, on_result)  # a final "done" may still be in the pipe
            if w.running is None:
                return False
            w.close()
            if self._stop:
                # The runner is shutting down (SIGTERM from scancel or a time limit, which the scheduler follows
                # with SIGKILL to every process): the experiment was interrupted, not broken. Leave it pending.
                w.running = None
                return True
            what = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
            on_result(_partial(run, "failed", f"crash: worker process {what}", now))
            return True
        return False


# --------------------------------------------------------------------------------------------------- in-process
def run_in_process(
    tasks: Iterable[Task],
    settings: dict[str, Any],
    *,
    timeout_s: float | None,
    claim: Callable[[Task], bool],
    on_result: Callable[[ExperimentResult], None],
    on_tick: Callable[[], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> bool:
    """Run tasks one by one in this process (no children at all, e.g. where process creation is forbidden).

    The time limit is cooperative here: it is checked after every cycle (a single cycle stuck in C code cannot be
    interrupted). Use worker processes (the default) for a hard limit and a memory cap.
    """
    from algrid.engine.loop import run_experiment

    for task in tasks:
        if should_stop():
            return False
        if not claim(task):
            continue
        t0 = time.monotonic()
        state: dict[str, Any] = {"curve": [], "selected": []}

        def on_cycle(res: ExperimentResult, t0: float = t0, state: dict[str, Any] = state) -> None:
            state["curve"], state["selected"] = list(res.curve), list(res.selected)
            if timeout_s and time.monotonic() - t0 > timeout_s:
                raise TimeoutError

        try:
            result = run_experiment(task.config, settings, exp_key=task.exp_key, on_cycle=on_cycle)
            result.exp_index = task.exp_index
        except TimeoutError:
            run = _Running(
                task=task, sent_at=t0, started_at=t0, curve=state["curve"], selected=state["selected"]
            )
            result = _partial(
                run,
                "timeout",
                f"timeout: exceeded {timeout_s:g} s after {max(len(run.curve) - 1, 0)} cycles",
                time.monotonic(),
            )
        on_result(result)
        if on_tick is not None:
            on_tick()
    return True


# ------------------------------------------------------------------------------------------------------ worker
def _prepare_worker() -> None:
    """Imports shared by every experiment (done once, in the zygote or the worker, not inside a time limit)."""
    os.dup2(2, 1)  # library prints go to stderr, never into a result channel
    sys.stdout = sys.stderr
    # The runner decides when workers stop (Ctrl-C and SLURM's SIGTERM reach the whole process group): it commits
    # what is finished and kills them; a worker that died of the signal first would look like a crash.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    load_plugins()
    import algrid.engine.loop  # noqa: F401
    from algrid.strategies import all_strategies

    all_strategies()
    # What every experiment needs sooner or later (the engine imports it lazily): importing it here, once, in the
    # zygote makes every forked worker start warm instead of paying seconds inside its first experiment.
    for name in _WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        from algrid.learners import learner_names, make_learner
        from algrid.learners.fast_forest import fast_path_enabled

        fast_path_enabled()  # verified once here, inherited by every forked worker

        for learner in learner_names():
            make_learner(learner, 0)
    except Exception:  # noqa: BLE001 - warming is an optimisation only
        pass


_WARM_MODULES: tuple[str, ...] = (
    "algrid.datasets.loader",
    "algrid.engine.metrics",
    "algrid.engine.cache",
    "pandas",
    "pyarrow.parquet",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.model_selection",
    "sklearn.metrics",
    "sklearn.cluster",
)


def _serve(conn: Connection) -> None:
    """Worker loop: receive tasks, run them, stream per-cycle progress and the result back."""
    from algrid.engine.loop import run_experiment

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "run":
            return
        _, key, index, config, settings = msg
        try:  # load the dataset before the clock starts: it is per-process set-up, cached for later experiments
            from algrid.datasets import load_dataset

            load_dataset(config["dataset"])
        except Exception:  # noqa: BLE001 - run_experiment reports it as the experiment's failure
            pass
        conn.send(("start", key, time.process_time()))

        unsent: list = [
            0,
            0.0,
        ]  # first cycle not yet reported, time of the last report (cycle 0 goes at once)

        def on_cycle(res: ExperimentResult, key: str = key, unsent: list = unsent) -> None:
            now = time.monotonic()
            if now - unsent[1] < CYCLE_REPORT_S:
                return
            first, unsent[0], unsent[1] = unsent[0], len(res.curve), now
            rows = [dict(r) for r in res.curve[first:]]
            conn.send(("cycles", key, rows, [list(x) for x in res.selected[first:]], time.process_time()))

        result = run_experiment(config, settings, exp_key=key, on_cycle=on_cycle)
        result.exp_index = index
        conn.send(("done", key, result))


def freeze_imports() -> None:
    """Move every object alive now (the imported libraries) out of the garbage collector's reach.

    Why: the collector's full passes walk every tracked object; after importing scikit-learn, pandas and the AL
    libraries that is hundreds of thousands of objects that will never be garbage, walked again and again while
    the loop allocates models. Frozen before forking, they are also never touched, so forked workers keep sharing
    those memory pages with the zygote.
    """
    import gc

    gc.collect()
    gc.freeze()


def _zygote_main(fd: int) -> None:
    """Fork server: import once, then fork one worker per request received on the control socket."""
    _prepare_worker()
    freeze_imports()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped automatically
    ctl = socket.socket(fileno=fd)
    try:
        ctl.sendall(b"R")
    except OSError:
        return  # the runner went away while we imported (it was started early and then stopped on bad input)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 1, 1)
        except OSError:
            return
        if not msg or not fds:
            return  # the runner went away
        pid = os.fork()
        if pid == 0:
            try:
                ctl.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _serve(Connection(fds[0]))
            finally:
                os._exit(0)
        os.close(fds[0])
        ctl.sendall(pid.to_bytes(8, "little"))


if __name__ == "__main__":
    if sys.argv[1] == "--zygote":
        _zygote_main(int(sys.argv[2]))
    else:
        _prepare_worker()
        freeze_imports()
        _serve(Connection(int(sys.argv[2])))
