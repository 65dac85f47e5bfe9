"""Per-experiment claim files: two runners on the same shard never run (and never store) one experiment twice.

A runner creates ``claims/<exp_key>`` with O_CREAT|O_EXCL before it starts an experiment and deletes it only after the
experiment's run row is committed. Another runner that finds the claim skips the experiment; one that gets the claim
re-checks the store's done-set first (the holder may have committed and released it a moment ago). A claim whose
owner died (same host: its pid is gone; other host: older than the experiment's time limit plus slack) is stale and
taken over with an atomic rename, so exactly one taker wins.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

_HOST = socket.gethostname()


class Claims:
    """Claim files of one store, owned by one runner (``owner`` distinguishes runners inside one process)."""

    def __init__(self, root: Path, stale_after_s: float):
        self.dir = Path(root) / "claims"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stale_after_s = float(stale_after_s)
        self.owner = uuid.uuid4().hex
        self.held: set[str] = set()

    def _payload(self) -> bytes:
        return json.dumps(
            {"host": _HOST, "pid": os.getpid(), "owner": self.owner, "time": time.time()}
        ).encode()

    def _create(self, key: str) -> bool:
        try:
            fd = os.open(self.dir / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, self._payload())
        finally:
            os.close(fd)
        return True

    def _is_stale(self, key: str) -> bool:
        path = self.dir / key
        try:
            info = json.loads(path.read_text() or "{}")
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return False
        except (OSError, ValueError):  # being written right now, or garbage: judge by age only
            try:
                return time.time() - path.stat().st_mtime > max(self.stale_after_s, 60.0)
            except FileNotFoundError:
                return False
        if info.get("host") == _HOST:
            if info.get("pid") == os.getpid():
                return info.get("owner") != self.owner and info.get("owner") not in _LIVE_OWNERS
            try:
                os.kill(int(info.get("pid", -1)), 0)
            except ProcessLookupError:
                return True
            except (PermissionError, ValueError, TypeError):
                return False
            return False
        return age > self.stale_after_s

    def acquire(self, key: str) -> bool:
        """Claim an experiment; False if another live runner holds it (True if this runner already does)."""
        if key in self.held:
            return True
        if self._create(key):
            self.held.add(key)
            return True
        if not self._is_stale(key):
            return False
        grave = self.dir / f".stale-{key}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(self.dir / key, grave)  # only one taker's rename succeeds
        except FileNotFoundError:
            pass
        else:
            grave.unlink(missing_ok=True)
        if self._create(key):
            self.held.add(key)
            return True
        return False

    def release(self, keys) -> None:
        for key in list(keys):
            if key in self.held:
                try:
                    (self.dir / key).unlink()
                except FileNotFoundError:
                    pass
                self.held.discard(key)

    def release_all(self) -> None:
        self.release(list(self.held))

    def remove_stale(self) -> int:
        """Delete claims whose owner died (left by killed runners); returns how many."""
        n = 0
        for name in os.listdir(self.dir):
            if name.startswith("."):
                if name.startswith(".stale-"):
                    (self.dir / name).unlink(missing_ok=True)
                continue
            if self._is_stale(name):
                grave = self.dir / f".stale-{name}-{uuid.uuid4().hex[:8]}"
                try:
                    os.rename(self.dir / name, grave)
                    grave.unlink()
                    n += 1
                except FileNotFoundError:
                    pass
        return n

    def holders(self) -> int:
        """Number of claim files present (experiments some runner is working on right now)."""
        try:
            return sum(1 for n in os.listdir(self.dir) if not n.startswith("."))
        except FileNotFoundError:
            return 0

    def __enter__(self) -> Claims:
        _LIVE_OWNERS.add(self.owner)
        return self

    def __exit__(self, *exc) -> None:
        self.release_all()
        _LIVE_OWNERS.discard(self.owner)


#: Owners alive in this process (two runners in one process, e.g. Dask threads, must not steal each other's claims).
_LIVE_OWNERS: set[str] = set()
