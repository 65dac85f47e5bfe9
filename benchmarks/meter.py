"""CPU seconds of a whole process tree, including workers that are reaped automatically.

Why not just ``resource.getrusage(RUSAGE_CHILDREN)``: it only adds up descendants that were *waited for*.
algrid's worker zygote ignores SIGCHLD (its forked workers are reaped by the kernel), and the kernel drops the CPU
time of auto-reaped children, so the rusage of ``algrid run`` misses its workers entirely. We therefore

* take the exact rusage of the command itself from ``os.wait4`` (itself + every descendant reaped by a wait), and
* poll the tree every ``interval`` seconds with psutil, adding the last seen CPU time of every descendant whose
  parent ignores SIGCHLD (its time would be lost otherwise). The error is at most one polling interval of CPU per
  such process (a handful of workers per run).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

_SIGCHLD_BIT = 1 << (17 - 1)  # Linux SIGCHLD = 17


def _ignores_sigchld(pid: int) -> bool:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & _SIGCHLD_BIT)
    except (OSError, ValueError):
        pass
    return False


@dataclass
class Measured:
    """One command's wall time, CPU time (whole tree), exit code and output."""

    wall_s: float
    cpu_s: float
    cpu_waited_s: float  # the part rusage sees (command + waited-for descendants)
    cpu_autoreaped_s: float  # the part only polling sees
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: list[str], env: dict[str, str] | None = None, interval: float = 0.02) -> Measured:
    """Run ``cmd`` to completion and measure its whole process tree."""
    seen: dict[int, float] = {}  # auto-reaped descendants: pid -> last seen own CPU seconds
    orphan_parent: dict[int, bool] = {}
    stop = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def poll() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                kids = root.children(recursive=True)
            except psutil.NoSuchProcess:
                kids = []
            for kid in kids:
                try:
                    ppid = kid.ppid()
                    if ppid not in orphan_parent:
                        orphan_parent[ppid] = _ignores_sigchld(ppid)
                    if orphan_parent[ppid]:
                        ct = kid.cpu_times()
                        seen[kid.pid] = ct.user + ct.system
                except psutil.Error:
                    continue
            stop.wait(interval)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    out, err = (
        proc.communicate()
    )  # reads the pipes; Popen has reaped the child, so ask wait4 via rusage below
    wall = time.perf_counter() - t0
    stop.set()
    thread.join()
    return Measured(wall, 0.0, 0.0, sum(seen.values()), proc.returncode, out, err)


class TreeMeter:
    """Measure successive commands: waited-for CPU comes from RUSAGE_CHILDREN deltas around each command."""

    def run(self, cmd: list[str], env: dict[str, str] | None = None) -> Measured:
        import resource

        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        m = run_measured(cmd, env=env)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        waited = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        m.cpu_waited_s = waited
        m.cpu_s = waited + m.cpu_autoreaped_s
        return m


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
