"""Tasks in flight and the records written for experiments that did not finish on their own.

Why one module: the pool (worker processes), the in-process runner and the run session must agree on what a
``timeout``, a ``crash`` or a ``memory`` record says, and on the bounds every stored error obeys (a length cap, a
non-negative ``wall_s``), whichever way the experiment ended.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

from algrid.results import ExperimentResult

#: Stored error strings are cut to at most this many characters (a strategy once raised a 5 MB message).
ERROR_CHARS = 2000


@dataclass
class Task:
    """One experiment to run."""

    exp_key: str
    exp_index: int | None
    config: dict[str, Any]
    group: tuple = ()


@dataclass
class InFlight:
    """What the runner knows of a task a worker is running: the cycles reported so far and the CPU clock."""

    task: Task
    sent_at: float
    started_at: float | None = None
    curve: list[dict[str, float]] = field(default_factory=list)
    selected: list[list[int]] = field(default_factory=list)
    cpu0: float = 0.0
    cpu: float = 0.0
    progress_at: float | None = (
        None  # last "cycles" message: bounds when the current cycle began (cycle 0 is free)
    )


def partial_result(run: InFlight, status: str, error: str, now: float) -> ExperimentResult:
    """The record of an experiment stopped from outside: the cycles it finished, its error, never a negative time."""
    return ExperimentResult(
        exp_key=run.task.exp_key,
        config=run.task.config,
        status=status,
        error=error,
        cycles_done=max(len(run.curve) - 1, 0),
        curve=list(run.curve),
        selected=list(run.selected),
        summary={},
        wall_s=max(now - (run.started_at or run.sent_at), 0.0),
        cpu_s=max(run.cpu - run.cpu0, 0.0),
        exp_index=run.task.exp_index,
    )


def timeout_error(timeout_s: float, run: InFlight) -> str:
    return f"timeout: exceeded {timeout_s:g} s after {max(len(run.curve) - 1, 0)} cycles"


def describe_exit(code: int | None) -> str:
    """What a worker's exit status says: ``exited with code 3``, ``killed by signal 11 (SIGSEGV: segmentation
    fault)``; None when nobody could observe it (its fork server died with it)."""
    if code is None:
        return "worker process died (exit status unknown: its fork server is gone)"
    if code >= 0:
        return f"worker process exited with code {code}"
    sig = -code
    try:
        name = signal.Signals(sig).name
        what = (signal.strsignal(sig) or "unknown").lower()
    except ValueError:
        return f"worker process killed by signal {sig}"
    return f"worker process killed by signal {sig} ({name}: {what})"


def truncate_error(text: str, limit: int = ERROR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how many were dropped."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(f" ... [{len(text)} more characters cut]"), 0)  # the count never has more digits
    return f"{text[:keep]} ... [{len(text) - keep} more characters cut]"


def normalise(result: ExperimentResult) -> ExperimentResult:
    """Bound what is stored: an out-of-memory failure says ``memory:``, errors fit in ERROR_CHARS, times >= 0."""
    err = result.error
    if err:
        if result.status == "failed" and err.startswith("MemoryError"):
            err = "memory: " + err
        if len(err) > ERROR_CHARS:
            err = truncate_error(err)
        result.error = err
    if result.wall_s < 0:
        result.wall_s = 0.0
    if result.cpu_s < 0:
        result.cpu_s = 0.0
    return result
