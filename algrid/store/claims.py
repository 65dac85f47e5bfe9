"""Per-experiment claim files: two runners on the same shard never run (and never store) one experiment twice.

A runner creates ``claims/<exp_key>`` (exclusively, complete with its owner record: see algrid.store.owners) before it
starts an experiment and deletes it only after the experiment's run row is committed. Another runner that finds the
claim skips the experiment; one that gets the claim re-checks the store's done-set first (the holder may have
committed and released it a moment ago). A claim whose owner is gone (algrid.store.owners.state: same host and a dead
pid, an empty or unreadable file past a 10 s grace period, another host's claim older than the experiment's time
limit plus slack) is taken over with an atomic rename, so exactly one taker wins.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from algrid.store import owners
from algrid.store.ioerrors import guarded


class Claims:
    """Claim files of one store, owned by one runner (``owner`` distinguishes runners inside one process)."""

    def __init__(self, root: Path, stale_after_s: float):
        self.root = Path(root)
        self.dir = self.root / "claims"
        with guarded(self.root, "creating claims/"):
            self.dir.mkdir(parents=True, exist_ok=True)
        self.stale_after_s = float(stale_after_s)
        self.owner = uuid.uuid4().hex
        self.held: set[str] = set()

    def _own_is_live(self, info: dict[str, Any]) -> bool:
        return info.get("owner") == self.owner or info.get("owner") in _LIVE_OWNERS

    def _create(self, key: str) -> bool:
        with guarded(self.root, f"claiming experiment {key}"):
            return owners.create_exclusive(self.dir / key, owners.record(owner=self.owner))

    def state(self, key: str) -> str:
        """held / abandoned / empty / gone (see algrid.store.owners.state)."""
        return owners.state(self.dir / key, self.stale_after_s, self._own_is_live)

    def _is_stale(self, key: str, wait: bool = False) -> bool:
        if wait:
            return owners.settled_state(self.dir / key, self.stale_after_s, self._own_is_live) == "abandoned"
        return self.state(key) == "abandoned"

    def acquire(self, key: str) -> bool:
        """Claim an experiment; False if another live runner holds it (True if this runner already does)."""
        if key in self.held:
            return True
        if self._create(key):
            self.held.add(key)
            return True
        if not self._is_stale(key, wait=True):
            return False
        owners.take_over(self.dir / key)  # only one taker's rename succeeds; the others fail to create below
        if self._create(key):
            self.held.add(key)
            return True
        return False

    def release(self, keys) -> None:
        for key in list(keys):
            if key in self.held:
                try:
                    (self.dir / key).unlink()
                except OSError:  # gone already, or a store that turned read-only: nothing to release
                    pass
                self.held.discard(key)

    def release_all(self) -> None:
        self.release(list(self.held))

    def remove_stale(self) -> int:
        """Delete claims whose owner is gone (left by killed runners); returns how many."""
        n = 0
        for name in _names(self.dir, hidden=True):
            if name.startswith("."):
                if (
                    name.startswith((".stale-", ".tmp-"))
                    and owners.state(self.dir / name, 60.0) == "abandoned"
                ):
                    (self.dir / name).unlink(missing_ok=True)
                continue
            if self._is_stale(name) and owners.take_over(self.dir / name):
                n += 1
        return n

    def holders(self) -> int:
        """Number of claim files present (experiments some runner is working on right now)."""
        return len(_names(self.dir))

    def __enter__(self) -> Claims:
        _LIVE_OWNERS.add(self.owner)
        return self

    def __exit__(self, *exc) -> None:
        self.release_all()
        _LIVE_OWNERS.discard(self.owner)


def _names(directory: Path, hidden: bool = False) -> list[str]:
    try:
        return [n for n in os.listdir(directory) if hidden or not n.startswith(".")]
    except FileNotFoundError:
        return []


def census(root: Path, stale_after_s: float) -> dict[str, int]:
    """How many claims are ``held`` (a live runner works on them), ``abandoned`` (owner gone: the next run or
    `algrid store verify --repair` clears them) or ``empty`` (no owner recorded yet, within the grace period)."""
    directory = Path(root) / "claims"
    counts = Counter(owners.state(directory / n, stale_after_s) for n in _names(directory))
    return {k: counts.get(k, 0) for k in ("held", "abandoned", "empty")}


#: Owners alive in this process (two runners in one process, e.g. Dask threads, must not steal each other's claims).
_LIVE_OWNERS: set[str] = set()
