"""Process lifetime and limits of worker processes: own process group, death with the parent, kernel memory cap.

Why these three:
- **Process group**: a strategy may start processes of its own. The runner kills a worker's whole group on a time
  limit, so such a child does not outlive the experiment (killing by pid only left it running).
- **Parent-death signal** (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``): workers ignore SIGTERM/SIGINT (the runner
  decides when they stop), so a worker stuck in a hung experiment lived on under pid 1 after ``kill -9`` of its
  runner. With the signal set, the kernel kills it when its parent (the zygote, or the runner for a plain worker)
  dies; the zygote in turn exits when the runner's end of its control socket closes, killing its workers' groups.
- **Memory cap by the kernel** (``RLIMIT_DATA``): polling the worker's memory once a second let a worker reach 741 MiB
  against a 300 MiB cap. ``RLIMIT_DATA`` bounds the private writable memory (heap, anonymous mmaps: what NumPy and
  Python allocate) and makes an allocation beyond it fail at once with ``MemoryError``; the experiment is stored as
  ``failed`` with ``memory: MemoryError ...`` and the worker goes on. ``RLIMIT_AS`` was rejected: it also counts
  shared-library mappings and address space that is reserved but never touched (hundreds of MiB after importing
  scikit-learn), so a cap would mean nothing predictable. The limit is the worker's own data size when it starts
  plus ``memory_mb``, so the libraries it shares with the zygote never count against the cap. ``RLIMIT_DATA`` does
  count address space a custom allocator reserves without touching it, so workers run Arrow on the system allocator
  (its default, mimalloc, reserves 1 GiB; see ``worker_environment``).

Everything here is cheap (``ctypes``/``resource`` are loaded once in the zygote, before it forks).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal

PR_SET_PDEATHSIG = 1
_libc: ctypes.CDLL | None = None


def _prctl(option: int, arg: int) -> bool:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        return _libc.prctl(option, arg, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        return False


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies; exit now if the parent is already gone.

    The signal cannot be ignored or blocked, so it also ends a worker stuck in C code. The check after ``prctl``
    closes the race where the parent died before the call (the signal would then never come).
    """
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent_pid:
        os._exit(1)


def outlive_parent() -> None:
    """Clear the parent-death signal (the zygote, once ready, notices its runner's death on its socket instead)."""
    _prctl(PR_SET_PDEATHSIG, 0)


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (a worker and whatever its experiment started), else the pid."""
    try:
        os.killpg(pid, signal.SIGKILL)
        return
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def data_bytes() -> int:
    """This process's data size (``VmData``: what ``RLIMIT_DATA`` limits), 0 where /proc is unavailable."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cap_memory(memory_mb: float | None, baseline: int) -> None:
    """Limit this process's data size to ``baseline`` bytes plus ``memory_mb`` MiB (None: no limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if memory_mb is None:
        limit = hard
    else:
        limit = baseline + int(float(memory_mb) * 2**20)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ValueError, OSError):  # a limit the platform refuses: the runner's polling still applies
        pass
