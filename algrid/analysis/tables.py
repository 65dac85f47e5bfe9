"""Readable plain-text renderings of the query results (the JSON dicts the API returns)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Columns of the leaderboard table (the CLI's text output and the static report show the same ones).
LEADERBOARD_COLUMNS: list[str] = [
    "rank",
    "strategy",
    "implementation",
    "mean_rank",
    "mean_value",
    "n",
    "n_datasets",
    "failures",
    "policy_ranks",
]


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.4g}"
    return str(v)


def table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """Left-aligned text columns; numbers right-aligned."""
    if not rows:
        return "(no rows)"
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in columns]

    def line(vals: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def missing_line(missing: dict) -> str:
    m = missing
    detail = ", ".join(f"{k} {m[k]}" for k in ("pending", "failed", "timeout", "no_value") if m.get(k))
    text = f"missing: {m['missing']} of {m['total']} experiments" + (f" ({detail})" if detail else "")
    text += f"; policy {m['policy']}: {m['treatment']}"
    if m.get("no_cutoff"):
        text += f"; {m['no_cutoff']} left out (no random run in their setting to set the ramp-up cutoff)"
    if m.get("note"):
        text += f"; {m['note']}"
    return text


def _header(res: dict, title: str) -> list[str]:
    out = [f"{title} - {res.get('metric')} {res.get('summary')}"]
    if res.get("where"):
        out.append(f"where: {res['where']}")
    return out


def policy_ranks(row: dict) -> str:
    """``zero 5 / drop 3 / penalty 3 !`` (``!``: the rank depends on the missing-data policy)."""
    ranks = row.get("ranks_by_policy") or {}
    text = " / ".join(f"{p} {'-' if r is None else r}" for p, r in ranks.items())
    return text + (" !" if row.get("rank_sensitive") else "")


def sensitivity_line(res: dict) -> str:
    """Names every strategy whose rank changes between the zero, drop and penalty policies."""
    flagged = res.get("rank_sensitive") or []
    if not flagged:
        return "rank sensitivity: no rank changes between the zero, drop and penalty missing-data policies"
    return (
        f"rank sensitivity (!): {len(flagged)} strategies change rank between the zero, drop and penalty "
        f"missing-data policies: {', '.join(flagged)}"
    )


def render_leaderboard(res: dict) -> str:
    lines = _header(res, f"leaderboard over {res.get('n_datasets')} datasets")
    rows = [dict(r, rank=i, policy_ranks=policy_ranks(r)) for i, r in enumerate(res["rows"], 1)]
    lines.append(
        table(
            rows,
            LEADERBOARD_COLUMNS,
        )
    )
    lines.append(sensitivity_line(res))
    lines.append(missing_line(res["missing"]))
    return "\n".join(lines)


DATASET_RULES = {
    "present": "per-dataset leaderboards rank the strategies present on each dataset",
    "complete": "per-dataset leaderboards rank only blocks that cover every dataset (the prior rule)",
}


def jaccard_line(sample: dict) -> str:
    """Says whether the Jaccard overlap is exact or a sample (and how to get it exactly)."""
    if "blocks_per_param" in sample:  # impact --all
        if sample["exact"]:
            return "jaccard: exact (every matched block)"
        return (
            f"jaccard: sampled, at most {sample['blocks_per_param']} matched blocks per hyperparameter "
            "(--exact computes it over all)"
        )
    if sample["exact"]:
        return f"jaccard: exact (all {sample['blocks']} matched blocks)"
    return f"jaccard: sampled, {sample['blocks']} of {sample['of']} matched blocks (--exact computes it over all)"


def render_impact(res: dict) -> str:
    lines = _header(res, f"impact of {res['param']}")
    lines.append(f"values: {', '.join(str(v) for v in res['values'])}")
    if res.get("note"):
        lines.append(res["note"])
    if res.get("estimable") is False:
        lines.append(res["reason"])
        lines.append(missing_line(res["missing"]))
        return "\n".join(lines)
    summary = [
        {
            k: res.get(k)
            for k in (
                "kendall_tau",
                "tau_vs_all",
                "pearson",
                "jaccard",
                "variance_share",
                "variance_share_within",
                "n_blocks",
            )
        }
    ]
    lines.append(table(summary, list(summary[0])))
    if res["per_value"]:
        lines += ["", table(res["per_value"], ["value", "tau_vs_all", "n", "mean_value", "leader"])]
    if res["pairs"]:
        lines += [
            "",
            table(
                res["pairs"][:50], ["a", "b", "kendall_tau", "pearson", "n_matched", "jaccard", "n_jaccard"]
            ),
        ]
        if len(res["pairs"]) > 50:
            lines.append(f"... {len(res['pairs']) - 50} more pairs (use --json)")
    if res.get("jaccard_sample"):
        lines.append(jaccard_line(res["jaccard_sample"]))
    if res.get("dataset_rule"):
        lines.append(DATASET_RULES[res["dataset_rule"]])
    lines.append(missing_line(res["missing"]))
    return "\n".join(lines)


#: Columns of the `query impact --all` table (also the report's impact table).
IMPACT_COLUMNS = [
    "rank",
    "param",
    "n_values",
    "variance_share",
    "variance_share_within",
    "kendall_tau",
    "tau_vs_all",
    "pearson",
    "jaccard",
]


def render_impact_all(res: dict) -> str:
    lines = _header(res, f"hyperparameters ranked by {res['ranked_by']}")
    lines.append(
        table(
            res["rows"],
            IMPACT_COLUMNS,
        )
    )
    if res.get("jaccard_sample"):
        lines.append(jaccard_line(res["jaccard_sample"]))
    for row in res["rows"]:
        if row.get("estimable") is False:
            lines.append(f"{row['param']}: {row['reason']}")
    if res["single_valued"]:
        lines.append(f"single-valued (not ranked): {', '.join(res['single_valued'])}")
    lines.append(missing_line(res["missing"]))
    return "\n".join(lines)


def render_stability(res: dict) -> str:
    lines = _header(
        res, f"stability: tau of the leaderboard from k random {res['unit']} units vs all {res['n_units']}"
    )
    lines.append(table(res["curve"], ["k", "repeats", "mean", "std", "p10", "p90", "min"]))
    k_min = res["k_min"]
    lines.append(
        f"smallest k with mean tau >= {res['target']}: {k_min if k_min is not None else 'never reached'}"
    )
    lines.append(missing_line(res["missing"]))
    return "\n".join(lines)


def render_compare(res: dict) -> str:
    lines = _header(res, f"{res['a']} vs {res['b']} over {res['n_pairs']} matched experiments")
    lines.append(
        table([res], ["wins", "ties", "losses", "mean_a", "mean_b", "mean_diff", "wilcoxon_p", "effect_size"])
    )
    lines.append(f"effect size: {res['effect_size_name']} (+1: {res['a']} better in every pair)")
    if res.get("note"):
        lines.append(res["note"])
    lines.append(missing_line(res["missing"]))
    return "\n".join(lines)


def render_cd(res: dict) -> str:
    lines = _header(res, f"Friedman + Nemenyi over {res['n_datasets']} datasets")
    lines.append(
        f"Friedman chi2 = {res['friedman_chi2']:.4f}, p = {res['friedman_p']:.4g}; "
        f"critical difference (alpha {res['alpha']}) = {res['cd']:.4f}"
    )
    lines.append(table(res["rows"], ["strategy", "implementation", "mean_rank", "mean_value"]))
    for c in res["cliques"]:
        lines.append("not significantly different: " + ", ".join(c))
    if res["dropped"]:
        lines.append("left out (not on every dataset): " + ", ".join(res["dropped"]))
    lines.append(missing_line(res["missing"]))
    return "\n".join(lines)


def render_runtime(res: dict) -> str:
    cols = ["n", "ok", "failed", "timeout", "fit_s_per_cycle", "query_s_per_cycle", "wall_s_per_exp"]
    lines = ["runtime per strategy", table(res["by_strategy"], ["strategy", "implementation", *cols]), ""]
    lines += ["per learner", table(res["by_learner"], ["learner", *cols]), ""]
    lines += ["per dataset", table(res["by_dataset"], ["dataset", "rows", "max_labeled", *cols])]
    if res["failures"]:
        lines += [
            "",
            "failures and timeouts",
            table(res["failures"], ["strategy", "implementation", "status", "n", "error"]),
        ]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(res["status_counts"].items()))
    pend = f", pending {res['pending']}" if res.get("pending") is not None else ""
    lines.append(f"status: {counts}{pend}")
    return "\n".join(lines)
