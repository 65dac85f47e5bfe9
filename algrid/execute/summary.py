"""What a run reports: the RunSummary (`algrid run --json`), its per-strategy table, and the interrupt error.

Why apart from the session: the Dask backend and the CLI read summaries without running anything locally.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from algrid.errors import AlgridError
from algrid.store import Store


class Interrupted(AlgridError):
    """The run was stopped by a signal; everything finished before it is committed."""

    exit_code = 130


@dataclass
class RunSummary:
    """What one `run_shard` call did, plus the store's per-strategy state of the selected experiments."""

    store: str
    selected: int = 0
    already_done: int = 0
    ran: int = 0
    ok: int = 0
    failed: int = 0
    timeout: int = 0
    held_elsewhere: int = 0
    dropped_duplicates: int = 0
    retired: int = 0
    interrupted: bool = False
    elapsed_s: float = 0.0
    by_strategy: list[dict[str, Any]] = field(default_factory=list)
    grid_total: int | None = None  # experiments in the whole grid
    grid_pending: int | None = None  # of those, without a result yet (any shard)
    pending_elsewhere: int | None = None  # ... outside this run's selection (other shards)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """The short per-strategy table `algrid run` prints when it finishes."""
        head = ("strategy", "implementation", "ok", "failed", "timeout", "pending", "f1_weighted_aulc")
        rows = [
            (
                r["strategy"],
                r["implementation"],
                str(r["ok"]),
                str(r["failed"]),
                str(r["timeout"]),
                str(r["pending"]),
                "-" if r["f1_weighted_aulc"] is None else f"{r['f1_weighted_aulc']:.4f}",
            )
            for r in self.by_strategy
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        lines = [
            "  ".join(
                h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths, strict=True))
            )
        ]
        for r in rows:
            lines.append(
                "  ".join(
                    v.ljust(w) if i < 2 else v.rjust(w)
                    for i, (v, w) in enumerate(zip(r, widths, strict=True))
                )
            )
        lines.append(
            f"ran {self.ran} experiments in {self.elapsed_s:.1f} s (ok {self.ok}, failed {self.failed}, "
            f"timeout {self.timeout}); {self.already_done} were already done"
            + (f"; {self.held_elsewhere} held by another runner" if self.held_elsewhere else "")
            + f"; store: {self.store}"
        )
        if self.grid_pending is not None:
            lines.append(
                f"whole grid: {self.grid_pending} of {self.grid_total} experiments pending"
                + (
                    f", {self.pending_elsewhere} of them in other shards"
                    if self.selected < (self.grid_total or 0)
                    else ""
                )
            )
        return "\n".join(lines)


def strategy_table(store: Store, keys: list[str], selection: pa.Table) -> list[dict[str, Any]]:
    """Per (strategy, implementation) of the selection: ok/failed/timeout/pending and mean f1_weighted_aulc."""
    import duckdb

    runs = store.read("runs", ["exp_key", "status", "f1_weighted_aulc"], keys=keys)
    sel = selection.select(["exp_key", "strategy", "implementation"])
    con = duckdb.connect()
    con.register("runs_t", runs)
    con.register("sel_t", sel)
    rows = con.execute(
        """
        SELECT s.strategy::VARCHAR, s.implementation::VARCHAR,
               count(*) FILTER (WHERE r.status = 'ok'), count(*) FILTER (WHERE r.status = 'failed'),
               count(*) FILTER (WHERE r.status = 'timeout'), count(*) FILTER (WHERE r.status IS NULL),
               avg(r.f1_weighted_aulc) FILTER (WHERE r.status = 'ok')
        FROM sel_t s LEFT JOIN runs_t r USING (exp_key)
        GROUP BY 1, 2 ORDER BY 7 DESC NULLS LAST, 1, 2
        """
    ).fetchall()
    return [
        {
            "strategy": r[0],
            "implementation": r[1],
            "ok": r[2],
            "failed": r[3],
            "timeout": r[4],
            "pending": r[5],
            "f1_weighted_aulc": None if r[6] is None else float(r[6]),
        }
        for r in rows
    ]
