"""The runner's handle on one worker process: start it, talk to it, measure it, learn how it ended, kill it.

Why separate OS processes started with ``subprocess`` (not ``multiprocessing.Pool`` or threads):
- A time limit must stop C code (BLAS, libsvm) too; only killing the process does that reliably. The prior study's
  thread-based timeouts never fired.
- ``subprocess`` works from anywhere: inside Dask's daemonic worker processes (where ``multiprocessing`` refuses to
  start children), from threads, after DuckDB or tqdm started threads (no fork-with-threads hazards).
- A worker imports the engine once, keeps its dataset and model caches, and runs experiments back to back.

A worker is forked by the zygote (algrid.execute.zygote) or, as fallback, started as a plain subprocess. Either way
it leads a process group of its own, which ``kill`` ends as a whole.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from algrid.config import current
from algrid.execute import lifetime
from algrid.execute.records import InFlight, Task
from algrid.execute.zygote import Zygote

#: How often the runner asks an idle worker whether it is still alive (seconds).
POLL_S = 0.2


class WorkerProcess:
    """One worker process and its duplex channel.

    ``status`` is its exit code (negative: killed by that signal) once known; it stays None for a forked worker
    whose zygote died with it (nobody could observe the status).
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        zygote = Zygote.get() if current().zygote else None
        pid = None
        if zygote is not None:
            try:
                pid, sock = zygote.fork()
            except OSError:
                pid = None
        if pid is None:
            from algrid.execute.worker import worker_environment

            sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            cmd = [sys.executable, "-m", "algrid.execute.worker", "--worker", str(theirs.fileno()),
                   "--parent", str(os.getpid())]  # fmt: skip
            self.proc = subprocess.Popen(
                cmd,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=worker_environment(),
                process_group=0,
            )
            theirs.close()
            pid = self.proc.pid
        self.pid = pid
        self.conn = Connection(os.dup(sock.fileno()))
        sock.close()
        self.running: InFlight | None = None
        self.queue: deque[Task] = deque()
        self._ps: Any = None  # psutil.Process once measured (psutil is untyped and imported lazily)
        self.mem_checked_at = 0.0
        self.eof = False  # the channel reported end-of-file: the process is gone or going
        self.status: int | None = None
        self.dead = False
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

    def _drain(self) -> None:
        """Read an idle worker's channel: only its exit report and end-of-file can be there."""
        try:
            while self.conn.poll():
                msg = self.conn.recv()
                if msg[0] == "exit":
                    self.status = msg[1]
        except (EOFError, OSError, pickle.UnpicklingError):
            self.eof = True

    def exited(self) -> bool:
        """True once the process is known to have ended (``status`` then says how, if anyone saw it)."""
        if self.dead:
            return True
        if self.proc is not None:
            code = self.proc.poll()
            if code is None:
                return False
            self.status = code
        else:  # forked: the zygote reports the status, then closes its copy of the channel
            if not self.eof and self.running is None:
                self._drain()  # a busy worker's channel is read by the pool, which sets eof/status
            if not self.eof:
                return False
        self.dead = True
        return True

    def gone(self, now: float) -> bool:
        """``exited()``, asked only after end-of-file on the channel or every POLL_S: the runner's loop wakes on
        every cycle message of every worker, and checking at that rate would cost the parent a core-percent."""
        if not self.eof and now - self.exit_checked_at < POLL_S:
            return False
        self.exit_checked_at = now
        return self.exited()

    def send(self, task: Task, settings: dict[str, Any], memory_mb: float | None) -> None:
        self.running = InFlight(task=task, sent_at=time.monotonic())
        self.conn.send(("run", task.exp_key, task.exp_index, task.config, settings, memory_mb))

    def kill(self) -> None:
        """SIGKILL the worker's process group (the worker and anything its experiment started)."""
        lifetime.kill_group(self.pid)
        if self.proc is not None:
            self.proc.wait()
        self.close()

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self, grace_s: float = 5.0) -> None:
        """Ask an idle worker to exit; kill it if it does not within ``grace_s``. Strays in its group die too."""
        try:
            self.conn.send(("exit",))
        except OSError:
            pass
        deadline = time.monotonic() + grace_s
        while not self.exited() and time.monotonic() < deadline:
            time.sleep(0.01)
        lifetime.kill_group(self.pid)
        if self.proc is not None:
            self.proc.wait()
        self.close()
