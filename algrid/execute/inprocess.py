"""Run experiments one by one in the calling process: for hosts where no child process may be started.

Why it exists beside the pool: some schedulers and sandboxes forbid process creation. The price: the time limit is
cooperative (checked after every cycle, so a single cycle stuck in C code cannot be interrupted), there is no memory
cap, and a strategy that kills its process (``os._exit``, a segfault) takes the runner with it. A ``SystemExit`` or
``KeyboardInterrupt`` raised inside an experiment is recorded as a crash of that experiment, as in a worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from algrid.execute.records import InFlight, Task, partial_result, timeout_error
from algrid.results import ExperimentResult


class _Progress:
    """``on_cycle`` of one in-process experiment: keeps the cycles so far, raises TimeoutError past the limit."""

    __slots__ = ("run", "deadline")

    def __init__(self, run: InFlight, timeout_s: float | None) -> None:
        self.run = run
        self.deadline = run.sent_at + timeout_s if timeout_s else None

    def __call__(self, res: ExperimentResult) -> None:
        self.run.curve, self.run.selected = list(res.curve), list(res.selected)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeoutError


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
    """Run tasks one by one in this process; returns False if ``should_stop()`` ended the run early."""
    from algrid.engine.loop import run_experiment

    for task in tasks:
        if should_stop():
            return False
        if not claim(task):
            continue
        t0 = time.monotonic()
        run = InFlight(task=task, sent_at=t0, started_at=t0)
        try:
            result = run_experiment(
                task.config, settings, exp_key=task.exp_key, on_cycle=_Progress(run, timeout_s)
            )
            result.exp_index = task.exp_index
        except TimeoutError as exc:
            if timeout_s:
                result = partial_result(run, "timeout", timeout_error(timeout_s, run), time.monotonic())
            else:  # raised by the experiment itself, not by our clock
                result = partial_result(run, "failed", f"TimeoutError: {exc}", time.monotonic())
        except (SystemExit, KeyboardInterrupt) as exc:
            what = f"crash: {type(exc).__name__}({exc}) raised in the experiment"
            result = partial_result(run, "failed", what, time.monotonic())
        on_result(result)
        if on_tick is not None:
            on_tick()
    return True
