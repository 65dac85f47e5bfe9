"""On which axis a comparison of batch sizes is made: equal cycles or equal labels.

A ``cycles:`` grid (the published study's design) gives every batch size the same number of query rounds, so a
batch of 10 ends with ten times the labels of a batch of 1: a difference between batch sizes there is largely the
difference in labels. A ``budget:`` grid runs every batch size to the same number of labels. Answers that compare
batch sizes (``query impact --param batch_size``, ``query compare`` over several batch sizes) say which it is.
"""

from __future__ import annotations

from typing import Any

from algrid.analysis.source import StoreData

__all__ = ["batch_size_note", "comparison_axis"]


def comparison_axis(store: StoreData) -> str:
    """``"labels"`` for a store of a ``budget:`` grid, else ``"cycles"``."""
    return "labels" if (store.meta.get("key_settings") or {}).get("budget") is not None else "cycles"


def labels_per_batch_size(store: StoreData, table: str = "runs") -> dict[int, float]:
    """Mean labelled-set size at the end of the finished experiments, per batch size (from the curves)."""
    if not store.has_curves:
        return {}
    rows = store.sql(
        f"""SELECT r.batch_size, avg(m.n) FROM (SELECT exp_key, max(n_labeled) AS n FROM curves GROUP BY 1) m
            JOIN {table} r USING (exp_key) WHERE r.status = 'ok' GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    return {int(b): float(n) for b, n in rows}


def batch_size_note(store: StoreData, axis: str) -> str | None:
    """One sentence on what a comparison across batch sizes compares; None with fewer than two batch sizes."""
    sizes = [int(b) for (b,) in store.sql("SELECT DISTINCT batch_size FROM runs ORDER BY 1").fetchall()]
    if len(sizes) < 2:
        return None
    labels = labels_per_batch_size(store)
    seen = ", ".join(f"batch {b}: {labels[b]:g}" for b in sizes if b in labels)
    if axis == "labels":
        budget = store.meta["key_settings"]["budget"]
        return f"batch sizes are compared at equal labels (budget {budget}; labelled rows at the end: {seen})"
    detail = f" (mean labelled rows at the end: {seen})" if seen else ""
    return (
        "batch sizes are compared at equal cycles, so larger batches saw more labels"
        f"{detail}; use a budget: grid (or --summary aulc_labels) to compare at equal labels"
    )


def axis_fields(store: StoreData, param: str | None = None) -> dict[str, Any]:
    """``{"axis": ..., "axis_note": ...}`` for an answer that may compare batch sizes (note None otherwise)."""
    axis = comparison_axis(store)
    note = batch_size_note(store, axis) if param in (None, "batch_size") else None
    return {"axis": axis, "axis_note": note}
