"""The worker process: import once, then run experiments sent by the runner and stream their progress back.

Started either by an ``os.fork()`` of the zygote (algrid.execute.zygote, the default) or as a plain
``python -m algrid.execute.worker --worker FD --parent PID`` subprocess (``ALGRID_NO_ZYGOTE=1``).

Protocol (``multiprocessing.connection.Connection`` over an inherited socket; stdout is redirected to stderr so
library prints cannot corrupt the channel). Runner -> worker: ("run", key, index, config, settings, memory_mb),
("exit",). Worker -> runner: ("start", key, cpu), ("cycles", key, curve_rows, selections, cpu), ("done", key,
result), ("crash", key, what) when the experiment raised a BaseException that the engine lets through (SystemExit,
KeyboardInterrupt). Finished cycles are sent at most every CYCLE_REPORT_S (cycle 0 at once), so the runner knows all
but the last fraction of a second of an experiment's cycles when it kills the worker, without waking for every cycle
of a fast experiment. The zygote adds ("exit", status) when the worker process has ended.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from algrid.execute import lifetime
from algrid.execute.plugins import load_plugins
from algrid.results import ExperimentResult

#: A worker reports finished cycles at most this often (each report wakes the runner's loop).
CYCLE_REPORT_S = 0.25

#: Thread pools inside a worker: one. algrid parallelises across experiments, and nested BLAS/OpenMP pools on a
#: busy machine made small k-means, k-NN and L-BFGS calls 10-20x slower (see docs/engine.md).
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: What every experiment needs sooner or later (the engine imports it lazily): importing it once, in the zygote,
#: makes every forked worker start warm instead of paying seconds inside its first experiment.
WARM_MODULES: tuple[str, ...] = (
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


def worker_environment() -> dict[str, str]:
    """The caller's environment with single-threaded numerical libraries (set before numpy is imported).

    Arrow's allocator is the system's unless the caller chose one: its default (mimalloc) reserves 1 GiB of address
    space on first use, which the kernel's memory cap (RLIMIT_DATA, see algrid.execute.lifetime) counts as used.
    """
    return {"ARROW_DEFAULT_MEMORY_POOL": "system", **os.environ, **SINGLE_THREAD_ENV}


def prepare_worker() -> None:
    """Imports shared by every experiment (done once, in the zygote or the worker, not inside a time limit)."""
    os.dup2(2, 1)  # library prints go to stderr, never into a result channel
    sys.stdout = sys.stderr
    # The runner decides when workers stop (Ctrl-C and SLURM's SIGTERM reach the whole process group): it commits
    # what is finished and kills them; a worker that died of the signal first would look like a crash.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import faulthandler

    faulthandler.enable()  # a segfaulting strategy leaves its Python stack on stderr (the exit status is kept)
    load_plugins()
    import algrid.engine.loop  # noqa: F401
    from algrid.strategies import all_strategies

    all_strategies()
    for name in WARM_MODULES:
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


class _CycleReporter:
    """``on_cycle`` of one experiment: sends the cycles finished since the last report, at most every
    CYCLE_REPORT_S; ``flush`` sends the rest (before a crash report)."""

    __slots__ = ("conn", "key", "first", "last", "result")

    def __init__(self, conn: Connection, key: str) -> None:
        self.conn, self.key = conn, key
        self.first, self.last = 0, 0.0  # first cycle not yet reported, time of the last report
        self.result: ExperimentResult | None = None

    def __call__(self, res: ExperimentResult) -> None:
        self.result = res
        now = time.monotonic()
        if now - self.last >= CYCLE_REPORT_S:
            self.last = now
            self.flush()

    def flush(self) -> None:
        res = self.result
        if res is None or len(res.curve) <= self.first:
            return
        first, self.first = self.first, len(res.curve)
        rows = [dict(r) for r in res.curve[first:]]
        self.conn.send(
            ("cycles", self.key, rows, [list(x) for x in res.selected[first:]], time.process_time())
        )


def serve(conn: Connection) -> None:
    """Worker loop: receive tasks, run them, stream per-cycle progress and the result back."""
    from algrid.datasets import load_dataset
    from algrid.engine.loop import run_experiment
    from algrid.engine.threads import hold_one_thread

    hold_one_thread()  # this process only runs experiments: one BLAS/OpenMP thread for good
    baseline = lifetime.data_bytes()  # what the memory cap does not count: the state inherited at start
    cap: Any = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "run":
            return
        _, key, index, config, settings, memory_mb = msg
        if memory_mb != cap:
            lifetime.cap_memory(memory_mb, baseline)
            cap = memory_mb
        try:  # load the dataset before the clock starts: it is per-process set-up, cached for later experiments
            load_dataset(config["dataset"])
        except Exception:  # noqa: BLE001 - run_experiment reports it as the experiment's failure
            pass
        conn.send(("start", key, time.process_time()))
        report = _CycleReporter(conn, key)
        try:
            result = run_experiment(config, settings, exp_key=key, on_cycle=report)
        except BaseException as exc:  # noqa: BLE001 - SystemExit & co. end the experiment, not the worker
            report.flush()
            conn.send(("crash", key, f"{type(exc).__name__}({exc}) raised in the experiment"))
            continue
        result.exp_index = index
        conn.send(("done", key, result))


def main(argv: list[str]) -> None:
    """``--worker FD --parent PID``: a plain worker started by the runner (no zygote)."""
    fd, parent = int(argv[argv.index("--worker") + 1]), int(argv[argv.index("--parent") + 1])
    lifetime.die_with_parent(parent)
    prepare_worker()
    freeze_imports()
    serve(Connection(fd))


if __name__ == "__main__":
    main(sys.argv)
