"""PNG plots for the report (matplotlib's object API on the Agg canvas: no display, no global pyplot state)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_DPI = 100


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    return path


def learning_curves(curves: pd.DataFrame, path: Path, metric: str, max_panels: int = 12) -> Path:
    """One panel per dataset: mean curve per strategy with a 95% confidence band (mean +- 1.96 sem).

    ``curves`` has columns dataset, label, n_labeled, mean, sd, n."""
    datasets = sorted(curves["dataset"].unique())[:max_panels]
    cols = min(3, max(1, len(datasets)))
    rows = max(1, math.ceil(len(datasets) / cols))
    fig = Figure(figsize=(5 * cols, 3.6 * rows))
    labels = sorted(curves["label"].unique())
    cmap = _colors(len(labels))
    for i, ds in enumerate(datasets):
        ax = fig.add_subplot(rows, cols, i + 1)
        sub = curves[curves["dataset"] == ds]
        for j, lab in enumerate(labels):
            s = sub[sub["label"] == lab].sort_values("n_labeled")
            if s.empty:
                continue
            sem = s["sd"].fillna(0).to_numpy() / np.sqrt(np.maximum(s["n"].to_numpy(), 1))
            m = s["mean"].to_numpy()
            ax.plot(s["n_labeled"], m, color=cmap[j], label=lab, lw=1.4)
            ax.fill_between(s["n_labeled"], m - 1.96 * sem, m + 1.96 * sem, color=cmap[j], alpha=0.18, lw=0)
        ax.set_title(str(ds))
        ax.set_xlabel("number of labelled samples")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    if datasets:
        fig.axes[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(max(n, 1))]


def heatmap(means: pd.DataFrame, order: list[str], path: Path, metric: str) -> Path:
    """Datasets x strategies: colour = rank within the dataset (1 = best), text = mean value."""
    pivot = means.pivot_table(index="dataset", columns="label", values="value").reindex(columns=order)
    ranks = pivot.rank(axis=1, ascending=False, method="average")
    h = max(3.0, 0.42 * len(pivot) + 2.2)
    w = max(7.0, 0.85 * len(order) + 3.5)
    fig = Figure(figsize=(w, h))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(ranks.to_numpy(dtype=float), cmap="RdYlGn_r", aspect="auto")
    ax.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize=10)
    ax.set_yticks(range(len(pivot)), [str(x) for x in pivot.index], fontsize=10)
    if pivot.size <= 600:
        for (r, c), v in np.ndenumerate(pivot.to_numpy(dtype=float)):
            if not np.isnan(v):
                ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=9)
    fig.colorbar(im, ax=ax, label="rank in dataset (1 = best)")
    ax.set_title(f"{metric}: mean per dataset and strategy", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def impact_chart(rows: list[dict], path: Path) -> Path:
    """Per hyperparameter: variance shares (bars) and leaderboard agreement (Kendall tau between values)."""
    params = [r["param"] for r in rows]
    y = np.arange(len(params))
    fig = Figure(figsize=(10, max(2.5, 0.5 * len(params) + 1.2)))
    ax1 = fig.add_subplot(1, 2, 1)
    ax1.barh(y - 0.2, [r["variance_share"] or 0 for r in rows], height=0.4, label="variance share (all)")
    ax1.barh(
        y + 0.2, [r["variance_share_within"] or 0 for r in rows], height=0.4, label="within matched blocks"
    )
    ax1.set_yticks(y, params)
    ax1.invert_yaxis()
    ax1.set_xlim(0, 1)
    ax1.set_xlabel("share of variance explained")
    ax1.legend(fontsize=7)
    ax2 = fig.add_subplot(1, 2, 2)
    tau = [r["kendall_tau"] if r["kendall_tau"] is not None else np.nan for r in rows]
    tva = [r["tau_vs_all"] if r["tau_vs_all"] is not None else np.nan for r in rows]
    ax2.barh(y - 0.2, tau, height=0.4, label="tau between values")
    ax2.barh(y + 0.2, tva, height=0.4, label="tau vs all data")
    ax2.set_yticks(y, params)
    ax2.invert_yaxis()
    ax2.set_xlim(-1, 1)
    ax2.axvline(0, color="k", lw=0.5)
    ax2.set_xlabel("Kendall tau of leaderboards")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def stability_curve(res: dict, path: Path) -> Path:
    """Mean tau(k) with the 10-90 percentile band and the target line."""
    cur = [r for r in res["curve"] if r["mean"] is not None]
    k = np.array([r["k"] for r in cur])
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(k, [r["mean"] for r in cur], marker="o", label="mean tau")
    ax.fill_between(k, [r["p10"] for r in cur], [r["p90"] for r in cur], alpha=0.25, label="10-90 percentile")
    ax.axhline(res["target"], color="r", ls="--", lw=1, label=f"tau = {res['target']}")
    if res["k_min"] is not None:
        ax.axvline(res["k_min"], color="grey", ls=":", lw=1)
    if len(k) and k.max() > 10:
        ax.set_xscale("log")
    ax.set_xlabel(f"k (random {res['unit']} units)")
    ax.set_ylabel("Kendall tau vs full leaderboard")
    ax.set_ylim(-1.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


def cd_diagram(res: dict, path: Path) -> Path:
    """Critical-difference diagram: mean ranks on an axis, a CD bar, thick lines joining cliques."""
    rows = res["rows"]
    k = len(rows)
    labels = [f"{r['strategy']}@{r['implementation']}" for r in rows]
    ranks = [r["mean_rank"] for r in rows]
    half = math.ceil(k / 2)
    fig = Figure(figsize=(8, 1.6 + 0.3 * half))
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlim(1 - 0.3, k + 0.3)
    ax.set_ylim(-(half * 0.55 + 0.6), 1.8)
    ax.hlines(0, 1, k, color="k")
    for t in range(1, k + 1):
        ax.vlines(t, 0, 0.15, color="k")
        ax.text(t, 0.3, str(t), ha="center", fontsize=8)
    for i, (lab, r) in enumerate(zip(labels, ranks, strict=True)):
        left = i < half
        level = -(i + 1) if left else -(k - i)
        x_text = 1 - 0.25 if left else k + 0.25
        ax.plot([r, r, x_text], [0, level * 0.55, level * 0.55], color="k", lw=0.8)
        ax.text(
            x_text, level * 0.55, f"{lab} ({r:.2f})", ha="right" if left else "left", va="center", fontsize=8
        )
    ax.plot([1, 1 + res["cd"]], [1.3, 1.3], color="r", lw=2)
    ax.text(1 + res["cd"] / 2, 1.45, f"CD = {res['cd']:.2f}", ha="center", fontsize=8, color="r")
    pos = {lab: r for lab, r in zip(labels, ranks, strict=True)}
    for j, clique in enumerate(res["cliques"]):
        lo, hi = min(pos[c] for c in clique), max(pos[c] for c in clique)
        y = -0.25 - 0.12 * j
        ax.plot([lo - 0.03, hi + 0.03], [y, y], color="tab:blue", lw=3)
    ax.axis("off")
    ax.set_title(f"Friedman p = {res['friedman_p']:.3g}, Nemenyi alpha = {res['alpha']}", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def runtime_chart(res: dict, path: Path) -> Path:
    """Per strategy: fit and query seconds per cycle (log scale) and ok/failed/timeout counts."""
    rows = res["by_strategy"]
    labels = [f"{r['strategy']}@{r['implementation']}" for r in rows]
    y = np.arange(len(rows))
    fig = Figure(figsize=(11, max(2.5, 0.4 * len(rows) + 1.2)))
    ax1 = fig.add_subplot(1, 2, 1)
    fit = np.array([r["fit_s_per_cycle"] or np.nan for r in rows], dtype=float)
    qry = np.array([r["query_s_per_cycle"] or np.nan for r in rows], dtype=float)
    ax1.barh(y - 0.2, fit, height=0.4, label="fit s / cycle")
    ax1.barh(y + 0.2, qry, height=0.4, label="query s / cycle")
    ax1.set_yticks(y, labels, fontsize=8)
    ax1.invert_yaxis()
    if np.nanmin(np.r_[fit, qry, np.inf]) > 0 and np.isfinite(np.nanmax(np.r_[fit, qry, -np.inf])):
        ax1.set_xscale("log")
    ax1.set_xlabel("seconds per cycle")
    ax1.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    ax2 = fig.add_subplot(1, 2, 2)
    left = np.zeros(len(rows))
    for key, color in (("ok", "tab:green"), ("failed", "tab:red"), ("timeout", "tab:orange")):
        v = np.array([r[key] for r in rows], dtype=float)
        ax2.barh(y, v, left=left, color=color, label=key)
        left += v
    ax2.set_yticks(y, labels, fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlabel("experiments")
    ax2.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    fig.tight_layout()
    return _save(fig, path)
