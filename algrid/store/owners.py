"""Owner records of claim and lock files, and the one rule for "is this file's owner gone?".

Claims (``claims/<exp_key>``) and part locks (``journal/<part id>.lock``) are exclusive files that record their owner
(host, pid). They are created complete: the record is written to a temporary file that is then hard-linked to the
final name (``link`` fails if the name exists, so it is as exclusive as ``O_EXCL``). Hence a live runner of this
version never shows an empty or unreadable claim or lock, and the rule is:

* empty or unreadable record: abandoned once the file is older than ``GRACE_S`` (10 s). Only a killed runner (or an
  older algrid, which wrote the record after creating the file) leaves one; the grace covers the older writer's
  microsecond window and file-system clock skew;
* same host, pid gone: abandoned at once;
* same host, this process: held, unless the caller can tell its owner objects apart (``own_is_live``: claims of
  two runners in one process, e.g. Dask threads) and none of them is alive;
* same host, another live pid: held;
* other host: abandoned after ``other_host_after_s`` (a claim: the grid's time limit plus slack), at most 7 days.

An abandoned file is taken over with an atomic rename to a unique grave name, so exactly one taker wins.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from algrid.store.reader import HOST

#: Seconds after which an empty or unreadable claim/lock file counts as abandoned.
GRACE_S = 10.0
#: Upper bound of the other-host threshold: a grid with ``timeout_s: .inf`` (or absurdly large) must not make other
#: hosts' claims immortal.
MAX_OTHER_HOST_S = 7 * 86_400.0


def record(**extra: Any) -> bytes:
    return json.dumps({"host": HOST, "pid": os.getpid(), "created": time.time(), **extra}).encode()


def create_exclusive(path: Path, payload: bytes) -> bool:
    """Create ``path`` holding ``payload`` unless it exists; never visible empty. True if we created it."""
    tmp = path.with_name(f".tmp-{path.name}-{uuid.uuid4().hex[:12]}")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        try:
            os.write(fd, payload)
        finally:
            os.close(fd)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def read_record(path: Path) -> tuple[dict[str, Any] | None, float]:
    """(owner record or None if empty/unreadable, age of the file in seconds); FileNotFoundError if gone."""
    age = time.time() - path.stat().st_mtime
    try:
        info = json.loads(path.read_text() or "null")
    except FileNotFoundError:
        raise
    except (OSError, ValueError):
        info = None
    return (info if isinstance(info, dict) and "pid" in info else None), age


def pid_alive(pid: Any) -> bool | None:
    """True/False for a pid of this host; None if it cannot be told."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError, OverflowError):
        return None
    return True


def state(
    path: Path, other_host_after_s: float, own_is_live: Callable[[dict[str, Any]], bool] | None = None
) -> str:
    """``"held"``, ``"abandoned"``, ``"empty"`` (unreadable, within the grace period) or ``"gone"``."""
    try:
        info, age = read_record(path)
    except FileNotFoundError:
        return "gone"
    if info is None:
        return "abandoned" if age > GRACE_S else "empty"
    if info.get("host") == HOST:
        if info.get("pid") == os.getpid():
            return "held" if own_is_live is None or own_is_live(info) else "abandoned"
        return "abandoned" if pid_alive(info.get("pid")) is False else "held"
    return "abandoned" if age > min(other_host_after_s, MAX_OTHER_HOST_S) else "held"


def settled_state(
    path: Path, other_host_after_s: float, own_is_live: Callable[[dict[str, Any]], bool] | None = None
) -> str:
    """Like ``state``, but an empty file is waited out (at most the grace period): it is either an older writer
    about to record itself, or abandoned. Never reached by files of this version, which are created complete."""
    while True:
        st = state(path, other_host_after_s, own_is_live)
        if st != "empty":
            return st
        time.sleep(0.2)


def take_over(path: Path) -> bool:
    """Remove an abandoned file so that exactly one of several racing takers proceeds (True: we removed it)."""
    grave = path.with_name(f".stale-{path.name}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, grave)
    except FileNotFoundError:
        return False
    grave.unlink(missing_ok=True)
    return True


def sweep(paths: list[Path], other_host_after_s: float, remove: tuple[str, ...] = ()) -> dict[str, int]:
    """Count claim/lock files by state and take over (delete) those whose state is in ``remove``.

    `algrid status` counts; `algrid store verify --repair` removes "abandoned" and "empty" ones (an empty file has
    no owner to ask, and repair is run by a user who knows no runner is starting this very second)."""
    counts = {"held": 0, "abandoned": 0, "empty": 0, "removed": 0}
    for path in paths:
        st = state(path, other_host_after_s)
        if st == "gone":
            continue
        counts[st] += 1
        if st in remove and take_over(path):
            counts["removed"] += 1
    return counts
