"""Buffering finished experiments into commits: what a runner hands to the store, and when it is committed.

Why a buffer: one commit per experiment would mean three files and an fsync per experiment; one per shard would lose
everything on a kill. Every ``flush_every`` experiments or ``flush_seconds`` the buffer becomes one part triple through
algrid.store.writer.write_commit; rows another runner committed meanwhile are dropped first (``done_check``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import pyarrow as pa

from algrid.results import ExperimentResult
from algrid.store import writer
from algrid.store.reader import KINDS, StoreLike
from algrid.store.schema import result_rows, rows_to_table


class StoreWriter:
    """Buffers finished experiments and commits them as one part triple every few experiments or seconds.

    A killed writer loses only what is buffered (bounded by ``flush_every`` experiments / ``flush_seconds``)
    plus what was in flight. Before committing, rows whose exp_key another writer committed meanwhile are dropped.
    """

    def __init__(
        self,
        store: StoreLike,
        *,
        shard: str | None = None,
        grid_fingerprint: str | None = None,
        flush_every: int = 8,
        flush_seconds: float = 5.0,
        done_check=None,
        on_commit=None,
    ):
        self.store = store
        self.on_commit = on_commit  # callable(part_id, [(exp_key, status)]) after each commit
        self.shard = shard
        self.grid_fingerprint = grid_fingerprint
        self.flush_every = max(1, int(flush_every))
        self.flush_seconds = float(flush_seconds)
        self.done_check = done_check  # callable(keys) -> set of keys already committed by others
        self._rows: dict[str, list] = {k: [] for k in KINDS}
        self._keys: list[str] = []
        self._first_at: float | None = None
        self.committed = 0
        self.part_ids: list[str] = []  # parts this writer committed (merged into one when its run ends)

    @property
    def buffered_keys(self) -> list[str]:
        return list(self._keys)

    def add(self, result: ExperimentResult) -> list[str]:
        """Buffer one result; returns the keys committed if this triggered a flush."""
        run, curves, queries = result_rows(result, shard=self.shard, grid_fingerprint=self.grid_fingerprint)
        self._rows["runs"].append(run)
        self._rows["curves"].extend(curves)
        self._rows["queries"].extend(queries)
        self._keys.append(result.exp_key)
        if self._first_at is None:
            self._first_at = time.monotonic()
        if self.due():
            return self.flush()
        return []

    def due(self) -> bool:
        return bool(self._keys) and (
            len(self._keys) >= self.flush_every
            or time.monotonic() - (self._first_at or 0) >= self.flush_seconds
        )

    def flush(self) -> list[str]:
        """Commit the buffer as one part triple; returns the committed keys (plus dropped duplicates)."""
        if not self._keys:
            return []
        keys = list(self._keys)
        drop = set(self.done_check(keys)) if self.done_check else set()
        rows = self._rows
        if drop:
            rows = {k: [r for r in v if r["exp_key"] not in drop] for k, v in rows.items()}
        if rows["runs"]:
            tables = {k: rows_to_table(k, v) for k, v in rows.items()}
            self.part_ids.append(writer.write_commit(self.store.root, tables))
            self.committed += len(rows["runs"])
            if self.on_commit is not None:
                self.on_commit(self.part_ids[-1], [(r["exp_key"], str(r["status"])) for r in rows["runs"]])
        self._rows = {k: [] for k in KINDS}
        self._keys = []
        self._first_at = None
        return keys

    def close(self) -> list[str]:
        return self.flush()


def tables_equal_ignoring(a: pa.Table, b: pa.Table, ignore: Iterable[str]) -> bool:
    """Helper for tests and compaction checks: same rows in the same order on every non-ignored column."""
    cols = [c for c in a.column_names if c not in set(ignore)]
    return a.select(cols).cast(b.select(cols).schema).equals(b.select(cols))
