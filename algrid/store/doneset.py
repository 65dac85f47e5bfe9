"""The done-set: the one rule for "is this experiment done?", used by every runner, backend and `slurm`.

The rule (``is_done``):

* an experiment is done when the store holds a committed run row for its exp_key, whatever its status: a failed or
  timed-out experiment is a result too, and rerunning it silently would change a study between two invocations;
* with ``retry_failed`` (``algrid run --retry-failed``, and the tasks of ``algrid slurm --resubmit-missing``) only an
  ``ok`` row counts: failed and timeout rows are retired and the experiments run again;
* if an exp_key has several rows (a store damaged before `verify --repair`), the best one counts (ok > timeout >
  failed), as in `algrid status` and the analysis views.

Why one module: the runner, the Dask backend and the SLURM resubmission used to decide this in three places with two
rules (SLURM ignored timeouts), so a resubmitted shard could disagree with what its task then did.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.dataset as pads

from algrid.store.reader import StoreLike, part_id_of, part_path, read_parts

#: Which row wins if an exp_key is stored more than once (lower is better).
STATUS_RANK: dict[str, int] = {"ok": 0, "timeout": 1, "failed": 2}


def is_done(status: str | None, retry_failed: bool = False) -> bool:
    """The rule: a stored row means done; with ``retry_failed`` only an `ok` row does."""
    return status is not None and (status == "ok" or not retry_failed)


def best_status(keys: Iterable[str], statuses: Iterable[str]) -> dict[str, str]:
    """exp_key -> the best status among its rows."""
    out: dict[str, str] = {}
    for key, status in zip(keys, statuses, strict=True):
        status = str(status)
        if key not in out or STATUS_RANK.get(status, 3) < STATUS_RANK.get(out[key], 3):
            out[key] = status
    return out


def stored_statuses(store: StoreLike) -> dict[str, str]:
    """exp_key -> best status of every committed experiment."""
    t = store.read("runs", ["exp_key", "status"])
    return best_status(t["exp_key"].to_pylist(), t["status"].cast(pa.string()).to_pylist())


def done_keys(store: StoreLike, retry_failed: bool = False) -> set[str]:
    """exp_keys that need no run under the rule."""
    return {k for k, s in stored_statuses(store).items() if is_done(s, retry_failed)}


class DoneTracker:
    """The done-set of a set of experiments, refreshed incrementally (only parts not seen before are read).

    Runners refresh it after claiming an experiment and before committing, so an experiment another runner committed
    a moment ago is neither run nor stored twice. ``interest`` limits memory to the keys a runner cares about.
    """

    def __init__(self, store: StoreLike, interest: Iterable[str] | None = None):
        self.store = store
        self.interest = None if interest is None else pa.array(sorted(set(interest)), pa.string())
        self._parts: dict[str, list[tuple[str, str]]] = {}
        self.status_of: dict[str, str] = {}
        self.refresh()

    def refresh(self) -> None:
        # A part that vanishes while we read it was replaced by a compaction: take a new snapshot (bounded: a part
        # that stays unreadable is damage and raises StoreDamaged from read_parts, it never loops).
        for _ in range(20):
            try:
                return self._refresh_once()
            except FileNotFoundError:
                continue
        from algrid.errors import StoreError

        raise StoreError(
            f"{self.store.root}: parts keep disappearing while reading (is a compaction looping?)"
        )

    def _refresh_once(self) -> None:
        snap = self.store.snapshot()
        live = set(snap.committed)
        gone = [p for p in self._parts if p not in live]
        for pid in gone:
            for key, _ in self._parts.pop(pid):
                self.status_of.pop(key, None)
        new = [p for p in snap.committed if p not in self._parts]
        if new:
            flt = None if self.interest is None else pads.field("exp_key").isin(self.interest)
            t = read_parts(
                [part_path(self.store.root, "runs", p) for p in new],
                "runs",
                ["exp_key", "status", "__filename"],
                flt,
            )
            for pid in new:
                self._parts[pid] = []
            for key, status, fname in zip(
                t["exp_key"].to_pylist(),
                t["status"].cast(pa.string()).to_pylist(),
                t["__filename"].to_pylist(),
                strict=True,
            ):
                self._parts[part_id_of(fname)].append((key, status))
        if gone:  # rebuild: a removed part's key may live on in a replacement part
            rows = [r for part in self._parts.values() for r in part]
            self.status_of = best_status([k for k, _ in rows], [s for _, s in rows])
        else:
            for pid in new:
                self._merge(self._parts[pid])

    def _merge(self, rows: list[tuple[str, str]]) -> None:
        for key, status in rows:
            if key not in self.status_of or STATUS_RANK.get(status, 3) < STATUS_RANK.get(
                self.status_of[key], 3
            ):
                self.status_of[key] = status

    def record_part(self, part_id: str, rows: list[tuple[str, str]]) -> None:
        """Take note of a part this process just committed (``(exp_key, status)`` rows), so that the next refresh
        does not read it back: a runner's own commits are most of the new parts it would otherwise re-read."""
        self._parts[part_id] = list(rows)
        self._merge(rows)

    def is_done(self, key: str, retry_failed: bool = False) -> bool:
        return is_done(self.status_of.get(key), retry_failed)

    def committed(self, keys: Iterable[str]) -> set[str]:
        """Which of these keys have a run row now (after a refresh)."""
        self.refresh()
        return {k for k in keys if k in self.status_of}
