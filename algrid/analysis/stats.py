"""Statistical tests: paired comparison of two strategies and the Friedman / Nemenyi critical difference.

* ``compare``: experiments of A and B matched on every setting (dataset, batch size, initial pool, learner, split,
  start, seed); win/tie/loss of A, Wilcoxon signed-rank p-value (two-sided, zero differences dropped), and the
  matched-pairs rank-biserial correlation as effect size (+1: A wins every pair, -1: B does).
* ``critical_difference``: blocks are datasets, treatments the strategies present on every dataset; value = the
  dataset mean of the summary. Friedman chi-square test, then the Nemenyi critical difference
  ``q_alpha * sqrt(k (k + 1) / (6 N))`` with q_alpha from the studentized range distribution; strategies whose
  mean ranks differ by less than CD are not significantly different (``cliques``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from algrid.analysis.axis import axis_fields
from algrid.analysis.leaderboard import clean, dataset_means
from algrid.analysis.source import SETTING_DIMENSIONS, QueryError, StoreData
from algrid.analysis.values import build_values


def parse_strategy(store: StoreData, text: str, option: str) -> tuple[str, str]:
    """'name' or 'name@implementation' -> (name, implementation), checked against the store."""
    name, _, impl = text.partition("@")
    rows = store.sql("SELECT DISTINCT strategy, implementation FROM runs ORDER BY 1, 2").fetchall()
    known = [(str(s), str(i)) for s, i in rows]
    if impl:
        if (name, impl) not in known:
            raise QueryError(
                f"{option} {text!r}: no such strategy@implementation in the store "
                f"(have {', '.join(f'{s}@{i}' for s, i in known)})"
            )
        return name, impl
    impls = [i for s, i in known if s == name]
    if not impls:
        raise QueryError(
            f"{option} {text!r}: no such strategy in the store (have {', '.join(sorted({s for s, _ in known}))})"
        )
    if len(impls) > 1:
        raise QueryError(
            f"{option} {text!r}: ambiguous, implemented by {', '.join(impls)}; use {name}@<implementation>"
        )
    return name, impls[0]


def compare(
    store: StoreData,
    a: str,
    b: str,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
) -> dict[str, Any]:
    """Paired comparison of strategy A against B over matched experiments (JSON-ready dict)."""
    sa, sb = parse_strategy(store, a, "--a"), parse_strategy(store, b, "--b")
    if sa == sb:
        raise QueryError(f"--a and --b name the same strategy ({sa[0]}@{sa[1]})")
    vals = build_values(store, metric, summary, missing)
    on = ", ".join(SETTING_DIMENSIONS)
    arr = store.sql(
        f"""SELECT x.value AS va, y.value AS vb, CAST(x.dataset AS VARCHAR) AS dataset
            FROM (SELECT * FROM {vals.table} WHERE strategy = ? AND implementation = ?) x
            JOIN (SELECT * FROM {vals.table} WHERE strategy = ? AND implementation = ?) y USING ({on})""",
        [*sa, *sb],
    ).df()
    va, vb = arr["va"].to_numpy(float), arr["vb"].to_numpy(float)
    diff = va - vb
    n = len(diff)
    out: dict[str, Any] = {
        "a": f"{sa[0]}@{sa[1]}",
        "b": f"{sb[0]}@{sb[1]}",
        "metric": metric,
        "summary": summary,
        "n_pairs": n,
        "wins": int((diff > 0).sum()),
        "ties": int((diff == 0).sum()),
        "losses": int((diff < 0).sum()),
        "mean_a": float(va.mean()) if n else None,
        "mean_b": float(vb.mean()) if n else None,
        "mean_diff": float(diff.mean()) if n else None,
        "median_diff": float(np.median(diff)) if n else None,
        "wilcoxon_p": None,
        "effect_size": None,
        "effect_size_name": "matched-pairs rank-biserial correlation",
        "n_datasets": int(arr["dataset"].nunique()),
        "missing": vals.missing,
        "where": store.where,
    }
    axis = axis_fields(store)  # the matched pairs pool every batch size: say on which axis they are compared
    out["axis"], out["note"] = axis["axis"], axis["axis_note"]
    nz = diff[diff != 0]
    if len(nz):
        ranks = stats.rankdata(np.abs(nz))
        r_plus, r_minus = ranks[nz > 0].sum(), ranks[nz < 0].sum()
        out["effect_size"] = float((r_plus - r_minus) / (r_plus + r_minus))
        out["wilcoxon_p"] = float(stats.wilcoxon(nz).pvalue)
    elif n:
        out["effect_size"], out["wilcoxon_p"] = 0.0, 1.0
    return clean(out)


def critical_difference(
    store: StoreData,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Friedman test over datasets and Nemenyi critical difference (JSON-ready dict)."""
    if not 0 < alpha < 1:
        raise QueryError(f"--alpha {alpha}: must be in (0, 1)")
    vals = build_values(store, metric, summary, missing)
    means = dataset_means(store, vals)
    means["label"] = means["strategy"].astype(str) + "@" + means["implementation"].astype(str)
    table = means.pivot_table(index="dataset", columns="label", values="value")
    complete = table.dropna(axis=1, how="any")
    dropped = sorted(set(table.columns) - set(complete.columns))
    n_data, k = complete.shape
    if k < 3 or n_data < 2:
        raise QueryError(
            f"cd needs >= 3 strategies present on every dataset and >= 2 datasets (have {k} strategies, {n_data} datasets)"
        )
    ranks = complete.rank(axis=1, ascending=False, method="average")
    mean_ranks = ranks.mean(axis=0).sort_values()
    chi2, p = stats.friedmanchisquare(*[complete[c].to_numpy() for c in complete.columns])
    q = float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))
    cd = q * math.sqrt(k * (k + 1) / (6.0 * n_data))
    names = list(mean_ranks.index)
    r = mean_ranks.to_numpy()
    cliques: list[list[str]] = []
    for i in range(k):
        j = i
        while j + 1 < k and r[j + 1] - r[i] < cd:
            j += 1
        if j > i and not any(set(names[i : j + 1]) <= set(c) for c in cliques):
            cliques.append(names[i : j + 1])
    rows = []
    for label, rank in mean_ranks.items():
        s, _, impl = str(label).partition("@")  # labels are "strategy@implementation" strings
        rows.append(
            {
                "strategy": s,
                "implementation": impl,
                "mean_rank": float(rank),
                "mean_value": float(complete[label].mean()),
            }
        )
    return clean(
        {
            "metric": metric,
            "summary": summary,
            "method": "friedman+nemenyi",
            "alpha": alpha,
            "n_datasets": n_data,
            "n_strategies": k,
            "friedman_chi2": float(chi2),
            "friedman_p": float(p),
            "q_alpha": q,
            "cd": cd,
            "rows": rows,
            "cliques": cliques,
            "dropped": dropped,
            "missing": vals.missing,
            "where": store.where,
        }
    )
