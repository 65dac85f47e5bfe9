"""The zygote: a pre-imported fork server for worker processes, and the runner's handle on it.

Why: a fresh Python worker needs 1-2 s to import scikit-learn and the engine. Every killed worker (time or memory
limit) and every ``run_shard`` call (Dask runs one per chunk) would pay that again. The zygote, started with
``subprocess`` (allowed even in Dask's daemonic processes) as ``python -m algrid.execute.zygote --zygote FD
--parent PID``, imports once; a new worker is an ``os.fork()`` of it (milliseconds). The runner hands the zygote one
end of a fresh socketpair (SCM_RIGHTS, message ``F``); the forked child serves tasks on it (algrid.execute.worker).

Lifetime: workers are the zygote's children, each in a process group of its own, with a parent-death signal on the
zygote. The zygote reaps them and writes each one's exit status into its channel (``("exit", status)``) so the runner
can record "exited with code 3" or "killed by signal 11" rather than guess. When the runner's end of the control
socket closes (the runner exited or was killed), the zygote kills every worker's group and exits; a runner that only
replaces its zygote (other environment or directory) sends ``Q``: the old zygote then exits once its workers have.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Connection

from algrid.execute import lifetime


def _context() -> tuple:
    """What a forked worker inherits from the zygote instead of from the caller: environment and directory.

    A zygote started under other values (a test that sets ALGRID_CACHE=0, a caller that changed directory, other
    ALGRID_PLUGINS) is replaced, so workers always behave like fresh children of the caller."""
    return (os.getcwd(), tuple(sorted(os.environ.items())))


class Zygote:
    """The runner's handle on its fork server (one per runner process, shared by every pool and thread)."""

    _lock = threading.Lock()
    _instance: Zygote | None = None
    _retired: list[socket.socket] = []  # kept open so a retired zygote still sees this process's death

    def __init__(self) -> None:
        from algrid.execute.worker import worker_environment

        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd = [sys.executable, "-m", "algrid.execute.zygote", "--zygote", str(child_sock.fileno()),
               "--parent", str(os.getpid())]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            pass_fds=(child_sock.fileno(),),
            stdin=subprocess.DEVNULL,
            env=worker_environment(),
            process_group=0,  # a Ctrl-C or kill of the runner's group leaves it to clean up its workers
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
    def get(cls) -> Zygote | None:
        with cls._lock:
            z = cls._instance
            if z is not None and z.proc.poll() is None and z.context == _context():
                return z
            if z is not None:  # dead, or started in another environment/directory
                try:
                    z.sock.sendall(b"Q")  # exit once the workers it forked have exited
                    cls._retired.append(z.sock)
                except OSError:
                    z.sock.close()
            try:
                cls._instance = cls()
            except OSError:
                cls._instance = None
            return cls._instance

    def fork(self) -> tuple[int, socket.socket]:
        """A new worker: (its pid, the runner's end of its channel)."""
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
    from algrid.config import current

    if current().zygote:
        Zygote.get()


# ------------------------------------------------------------------------------------------------ fork server
def _report_exit(channel: socket.socket, status: int) -> None:
    """Append ("exit", code) to a dead worker's channel, framed as ``Connection.send`` does (4-byte big-endian
    length, pickle), without blocking: a full channel (the runner stopped reading) just gets no report."""
    payload = pickle.dumps(("exit", os.waitstatus_to_exitcode(status)))
    try:
        channel.send(struct.pack("!i", len(payload)) + payload, socket.MSG_DONTWAIT)
    except OSError:
        pass
    channel.close()


def _reap(children: dict[int, socket.socket]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        channel = children.pop(pid, None)
        if channel is not None:
            lifetime.kill_group(pid)  # whatever the experiment started dies with the worker
            _report_exit(channel, status)


def _run_child(fd: int, closing: list, zygote: int) -> None:
    """In a freshly forked worker: drop the zygote's descriptors, own process group, die with the zygote, serve."""
    from algrid.execute.worker import serve

    code = 0
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for item in closing:
            if isinstance(item, int):
                os.close(item)
            else:
                item.close()
        os.setpgid(0, 0)
        lifetime.die_with_parent(zygote)
        serve(Connection(fd))
    except BaseException:  # noqa: BLE001 - reported as the worker's exit code
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def serve_forks(fd: int, parent_pid: int) -> None:
    """Fork server: import once, then fork one worker per ``F`` received on the control socket."""
    from algrid.execute.worker import freeze_imports, prepare_worker

    lifetime.die_with_parent(parent_pid)  # until ready: the runner cannot tell us to stop while we import
    prepare_worker()
    freeze_imports()
    ctl = socket.socket(fileno=fd)
    try:
        ctl.sendall(b"R")
    except OSError:
        return  # the runner went away while we imported (it was started early and then stopped on bad input)
    lifetime.outlive_parent()  # from now on its death shows as end-of-file, and we clean up before exiting
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select() through wake_r
    children: dict[int, socket.socket] = {}
    zygote = os.getpid()
    retiring = False
    try:
        while not (retiring and not children):
            watched: list[socket.socket | int] = [ctl, wake_r]
            ready, _, _ = select.select(watched, [], [])
            if wake_r in ready:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                _reap(children)
            if ctl not in ready:
                continue
            try:
                msg, fds, _, _ = socket.recv_fds(ctl, 1, 1)
            except (
                ConnectionError
            ):  # the runner's process ended without closing (a Dask worker shutting down)
                msg, fds = b"", []
            if not msg:
                return  # the runner is gone: its workers go too (finally)
            if msg == b"Q" or not fds:
                retiring = True
                continue
            pid = os.fork()
            if pid == 0:
                _run_child(fds[0], [ctl, wake_r, wake_w, *children.values()], zygote)
            try:
                os.setpgid(pid, pid)  # also here, so the group exists before the runner learns the pid
            except OSError:
                pass
            children[pid] = socket.socket(fileno=fds[0])
            ctl.sendall(pid.to_bytes(8, "little"))
    finally:
        for pid in children:
            lifetime.kill_group(pid)


if __name__ == "__main__":
    serve_forks(int(sys.argv[sys.argv.index("--zygote") + 1]), int(sys.argv[sys.argv.index("--parent") + 1]))
