"""Per-cycle test metrics and learning-curve summaries.

All per-cycle metrics come from one confusion matrix (one pass over the test labels) instead of six
scikit-learn calls: the loop evaluates every cycle of every experiment, so this is on the hot path.
Definitions follow scikit-learn with ``labels = all classes`` and ``zero_division=0``; tests check the
numbers against scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from algrid.results import CURVE_METRICS, SUMMARIES, SUMMARY_METRICS

__all__ = ["classification_metrics", "confusion", "summarize", "summary_keys"]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix ``cm[true, pred]`` over class codes ``0..n_classes-1``."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, *, extra: bool = False
) -> dict[str, float]:
    """The CURVE_METRICS of one prediction, keyed by name (floats in [0, 1]).

    Macro averages run over all ``n_classes`` classes (a class absent from the test set and never predicted
    counts 0, like scikit-learn with ``labels=`` and ``zero_division=0``); balanced accuracy averages recall
    over the classes present in ``y_true`` (scikit-learn's definition). ``extra=True`` adds the weighted
    precision/recall, which the loop does not store (weighted recall always equals accuracy).
    """
    cm = confusion(y_true, y_pred, n_classes).astype(np.float64)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    n = support.sum()
    recall = _safe_div(tp, support)
    precision = _safe_div(tp, predicted)
    f1 = _safe_div(2.0 * tp, support + predicted)
    present = support > 0
    out = {
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "f1_macro": float(f1.mean()),
        "f1_weighted": float((f1 * support).sum() / n) if n else 0.0,
        "precision_macro": float(precision.mean()),
        "recall_macro": float(recall.mean()),
    }
    if extra:
        out["precision_weighted"] = float((precision * support).sum() / n) if n else 0.0
        out["recall_weighted"] = float((recall * support).sum() / n) if n else 0.0
    assert all(k in out for k in CURVE_METRICS)
    return out


def summary_keys() -> list[str]:
    """Column names of the summaries, ``f"{metric}_{summary}"`` (the runs table's order)."""
    return [f"{m}_{s}" for m in SUMMARY_METRICS for s in SUMMARIES]


def _summaries(values: np.ndarray) -> dict[str, float]:
    """mean/aulc/first5/last5/final of one curve ``values[0..T]`` (cycle 0 = start set)."""
    if len(values) == 0:
        return dict.fromkeys(SUMMARIES, math.nan)
    if len(values) == 1:  # no query round ran: every summary is the start-set value
        return dict.fromkeys(SUMMARIES, float(values[0]))
    rounds = values[1:]  # cycles 1..T, the prior study's "mean over cycles"
    t = len(rounds)
    return {
        "mean": float(rounds.mean()),
        # trapezoid over cycles 0..T with unit spacing, divided by the x-range T: a curve stuck at 1.0 scores 1.0
        "aulc": float(np.trapezoid(values) / t),
        "first5": float(rounds[:5].mean()),
        "last5": float(rounds[-5:].mean()),
        "final": float(rounds[-1]),
    }


def summarize(
    curve: Sequence[dict[str, float]], metrics: Sequence[str] = SUMMARY_METRICS
) -> dict[str, float]:
    """Learning-curve summaries ``{metric}_{summary}`` of a (possibly partial) curve.

    A curve with only cycle 0 summarises to the cycle-0 value; an empty curve to NaN.
    """
    out: dict[str, float] = {}
    for metric in metrics:
        values = np.array([row[metric] for row in curve], dtype=np.float64)
        for name, value in _summaries(values).items():
            out[f"{metric}_{name}"] = value
    return out
