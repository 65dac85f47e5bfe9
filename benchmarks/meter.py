"""CPU seconds of a whole process tree, including workers that are reaped automatically.

Why not just ``resource.getrusage(RUSAGE_CHILDREN)``: it only adds up descendants that were *waited for*.
algrid's worker zygote ignores SIGCHLD (its forked workers are reaped by the kernel), and the kernel drops the CPU
time of auto-reaped children, so the rusage of ``algrid run`` misses its workers entirely. Two ways around it:

* **cgroup** (preferred, exact, free): the command starts inside a fresh cgroup (v2 ``cpu.stat`` or v1
  ``cpuacct.usage``), which every descendant inherits; the kernel counts their CPU however they end.
* **polling** (fallback where no cgroup can be created): psutil walks the tree every ``interval`` seconds and keeps
  the last CPU time seen of every descendant whose parent ignores SIGCHLD. The error is at most one interval of CPU
  per such process (a handful of workers per run). The walk itself costs CPU: at the old 20 ms interval it took 8 %
  of a core, which on a 2-core machine running ``--jobs 2`` is taken from the workers and biased the scaling
  measurement against ``--jobs 2``; hence 0.5 s.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

_SIGCHLD_BIT = 1 << (17 - 1)  # Linux SIGCHLD = 17
POLL_INTERVAL_S = 0.5

#: (hierarchy root, CPU file): cgroup v2 mounted alone or beside v1 ("unified"), then v1 cpuacct.
_CGROUP_ROOTS = (
    ("/sys/fs/cgroup", "cpu.stat"),
    ("/sys/fs/cgroup/unified", "cpu.stat"),
    ("/sys/fs/cgroup/cpuacct", "cpuacct.usage"),
)


def _ignores_sigchld(pid: int) -> bool:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & _SIGCHLD_BIT)
    except (OSError, ValueError):
        pass
    return False


class CgroupCPU:
    """A throw-away cgroup that counts the CPU of everything started inside it."""

    def __init__(self, path: Path, cpu_file: str):
        self.path = path
        self.cpu_file = cpu_file

    @classmethod
    def create(cls) -> CgroupCPU | None:
        """A fresh cgroup, or None when this machine does not let us make one (no root, no hierarchy)."""
        for root, cpu_file in _CGROUP_ROOTS:
            base = Path(root)
            v2 = cpu_file == "cpu.stat"
            if not (base / "cgroup.procs").exists() or (v2 and not (base / "cgroup.controllers").exists()):
                continue
            path = base / f"algrid-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                path.mkdir()
            except OSError:
                continue
            if (path / cpu_file).exists():
                return cls(path, cpu_file)
            path.rmdir()
        return None

    @property
    def method(self) -> str:
        return "cgroup-v2" if self.cpu_file == "cpu.stat" else "cgroup-v1"

    def enter(self) -> None:
        """Move the calling process into the cgroup (run in the child between fork and exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def cpu_s(self) -> float:
        text = (self.path / self.cpu_file).read_text()
        if self.cpu_file == "cpu.stat":
            usec = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("usage_usec"))
            return usec / 1e6
        return int(text) / 1e9

    def settle(self, wait_s: float = 5.0) -> None:
        """Wait until the last process has left (a zygote exits right after the runner): the count is then final."""
        deadline = time.monotonic() + wait_s
        while (self.path / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:  # a process outlived settle(): leave the empty-to-be group behind
            pass


@dataclass
class Measured:
    """One command's wall time, CPU time (whole tree), exit code and output."""

    wall_s: float
    cpu_s: float
    cpu_waited_s: float  # the part rusage sees (command + waited-for descendants)
    cpu_autoreaped_s: float  # the rest: CPU of descendants nobody waited for
    returncode: int
    stdout: str
    stderr: str
    cpu_method: str = "poll"


def _poll_tree(pid: int, seen: dict[int, float], stop: threading.Event, interval: float) -> None:
    orphan_parent: dict[int, bool] = {}
    try:
        root = psutil.Process(pid)
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


def run_measured(
    cmd: list[str],
    env: dict[str, str] | None = None,
    interval: float = POLL_INTERVAL_S,
    cgroup: CgroupCPU | None = None,
) -> Measured:
    """Run ``cmd`` to completion; with ``cgroup`` its tree's CPU is read from there, else auto-reaped descendants
    are polled (``cpu_s`` is then filled in by the caller from rusage, see TreeMeter)."""
    seen: dict[int, float] = {}  # auto-reaped descendants: pid -> last seen own CPU seconds
    stop = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=cgroup.enter if cgroup is not None else None,
    )
    thread = None
    if cgroup is None:
        thread = threading.Thread(target=_poll_tree, args=(proc.pid, seen, stop, interval), daemon=True)
        thread.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    if thread is not None:
        thread.join()
    m = Measured(wall, 0.0, 0.0, sum(seen.values()), proc.returncode, out, err)
    if cgroup is not None:
        cgroup.settle()
        m.cpu_s, m.cpu_method = cgroup.cpu_s(), cgroup.method
        cgroup.remove()
    return m


class TreeMeter:
    """Measure successive commands, each in a fresh cgroup when possible (exact), else by polling."""

    def __init__(self, use_cgroup: bool = True):
        self.use_cgroup = use_cgroup

    def run(self, cmd: list[str], env: dict[str, str] | None = None) -> Measured:
        import resource

        cgroup = CgroupCPU.create() if self.use_cgroup else None
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        m = run_measured(cmd, env=env, cgroup=cgroup)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        m.cpu_waited_s = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        if cgroup is None:
            m.cpu_s = m.cpu_waited_s + m.cpu_autoreaped_s
        else:
            m.cpu_autoreaped_s = max(m.cpu_s - m.cpu_waited_s, 0.0)
        return m


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
