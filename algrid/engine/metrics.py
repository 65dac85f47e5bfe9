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

from algrid.results import SUMMARIES, SUMMARY_METRICS

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


#: Below this many classes NumPy sums a float64 vector left to right, so plain Python floats give the same bits.
#: From 8 values on NumPy switches to pairwise (unrolled) summation; there the NumPy path is used.
_SEQUENTIAL_MAX = 8


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, *, extra: bool = False
) -> dict[str, float]:
    """The CURVE_METRICS of one prediction, keyed by name (floats in [0, 1]).

    Macro averages run over all ``n_classes`` classes (a class absent from the test set and never predicted
    counts 0, like scikit-learn with ``labels=`` and ``zero_division=0``); balanced accuracy averages recall
    over the classes present in ``y_true`` (scikit-learn's definition). ``extra=True`` adds the weighted
    precision/recall, which the loop does not store (weighted recall always equals accuracy).

    Why two paths: the loop calls this after every fit, when the CPU caches are cold from the learner; a dozen
    small NumPy calls then cost ~0.15 ms, several times the pure-Python arithmetic on a k x k matrix. Both
    paths give bit-identical floats (tests compare them).
    """
    cm = confusion(y_true, y_pred, n_classes)
    if n_classes < _SEQUENTIAL_MAX:
        return _metrics_python(cm.tolist(), extra)
    return _metrics_numpy(cm, extra)


def _metrics_numpy(cm_counts: np.ndarray, extra: bool) -> dict[str, float]:
    cm = cm_counts.astype(np.float64)
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
    return out


def _metrics_python(cm: list[list[int]], extra: bool) -> dict[str, float]:
    # One pass over the classes, each average a left-to-right running sum (NumPy's order below _SEQUENTIAL_MAX
    # values). Counts are integers, so tp/support/predicted/n are exact in any order.
    predicted = [sum(col) for col in zip(*cm, strict=True)]
    n = 0.0
    tp_sum = recall_sum = precision_sum = f1_sum = f1_weighted = present_sum = 0.0
    precision_weighted = recall_weighted = 0.0
    present = 0
    for i, row in enumerate(cm):
        t, s, p = float(row[i]), float(sum(row)), float(predicted[i])
        n += s
        recall = t / s if s > 0 else 0.0
        precision = t / p if p > 0 else 0.0
        f1 = 2.0 * t / (s + p) if s + p > 0 else 0.0
        tp_sum += t
        recall_sum += recall
        precision_sum += precision
        f1_sum += f1
        f1_weighted += f1 * s
        if s > 0:
            present_sum += recall
            present += 1
        if extra:
            precision_weighted += precision * s
            recall_weighted += recall * s
    k = len(cm)
    out = {
        "accuracy": tp_sum / n if n else 0.0,
        "balanced_accuracy": present_sum / present if present else 0.0,
        "f1_macro": f1_sum / k,
        "f1_weighted": f1_weighted / n if n else 0.0,
        "precision_macro": precision_sum / k,
        "recall_macro": recall_sum / k,
    }
    if extra:
        out["precision_weighted"] = precision_weighted / n if n else 0.0
        out["recall_weighted"] = recall_weighted / n if n else 0.0
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
    first, last = rounds[:5], rounds[-5:]
    t = len(rounds)
    # The arithmetic of ndarray.mean and np.trapezoid (the same pairwise sums, the same bits), without their
    # argument handling, which cost more than the sums: every run summarises 4 metrics x 5 ways.
    total = np.add.reduce
    return {
        "mean": float(total(rounds) / t),
        # trapezoid over cycles 0..T with unit spacing, divided by the x-range T: a curve stuck at 1.0 scores 1.0
        "aulc": float(total((values[1:] + values[:-1]) / 2.0) / t),
        "first5": float(total(first) / len(first)),
        "last5": float(total(last) / len(last)),
        "final": float(rounds[-1]),
    }


def summarize(
    curve: Sequence[dict[str, float]], metrics: Sequence[str] = SUMMARY_METRICS
) -> dict[str, float]:
    """Learning-curve summaries ``{metric}_{summary}`` of a (possibly partial) curve.

    A curve with only cycle 0 summarises to the cycle-0 value; an empty curve to NaN.
    """
    # one array for all metrics, one contiguous row per metric (every run pays this once)
    table = np.array([[row[m] for row in curve] for m in metrics], dtype=np.float64).reshape(
        len(metrics), len(curve)
    )
    out: dict[str, float] = {}
    for metric, values in zip(metrics, table, strict=True):
        for name, value in _summaries(values).items():
            out[f"{metric}_{name}"] = value
    return out
