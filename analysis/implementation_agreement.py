#!/usr/bin/env python
"""How far do implementations of the same strategy diverge in a result store?

    python analysis/implementation_agreement.py STORE [--metric f1_weighted_aulc] [--where SQL] [--per-cycle] [--json]

For every strategy that two or more implementations ran, experiments are matched on everything else (dataset,
batch_size, initial_pool, learner, split, start, seed). Per matched pair and cycle (cycle 0, the shared start set,
is skipped) the selected sets are compared with Jaccard |A & B| / |A | B|; once two runs pick differently their pools
differ too, so later cycles measure how far the trajectories drift apart. The learning-curve summary ``--metric``
(a runs column, e.g. ``f1_weighted_aulc``) is compared on pairs where both experiments finished ``ok``:
``diff = mean(metric of impl_a - metric of impl_b)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from algrid.analysis.source import open_store
from algrid.errors import AlgridError

MATCH = ("dataset", "batch_size", "initial_pool", "learner", "split", "start", "seed")


class AgreementError(AlgridError):
    exit_code = 2


def implementation_agreement(
    store: str, metric: str = "f1_weighted_aulc", where: str | None = None
) -> dict[str, Any]:
    """``{"metric", "pairs": [...]}`` with one entry per (strategy, impl_a, impl_b), impl_a < impl_b."""
    with open_store(store, where) as data:
        if metric not in data.columns:
            summaries = sorted(
                c for c in data.columns if c.endswith(("_aulc", "_mean", "_final", "_first5", "_last5"))
            )
            raise AgreementError(
                f"--metric {metric!r}: not a runs column (try one of: {', '.join(summaries)})"
            )
        on = " AND ".join(f"a.{c} = b.{c}" for c in MATCH)
        data.sql(
            f"""CREATE TEMP TABLE matched AS
            SELECT CAST(a.strategy AS VARCHAR) AS strategy, CAST(a.implementation AS VARCHAR) AS impl_a,
                   CAST(b.implementation AS VARCHAR) AS impl_b, a.exp_key AS key_a, b.exp_key AS key_b,
                   a.status = 'ok' AND b.status = 'ok' AS both_ok,
                   CAST(a.{metric} AS DOUBLE) AS m_a, CAST(b.{metric} AS DOUBLE) AS m_b
            FROM runs a JOIN runs b ON a.strategy = b.strategy AND {on}
             AND CAST(a.implementation AS VARCHAR) < CAST(b.implementation AS VARCHAR)"""
        )
        summary = data.sql(
            """SELECT strategy, impl_a, impl_b, count(*) AS matched, count(*) FILTER (both_ok) AS both_ok,
                      avg(m_a) FILTER (both_ok) AS metric_a, avg(m_b) FILTER (both_ok) AS metric_b,
                      avg(m_a - m_b) FILTER (both_ok) AS diff, stddev_samp(m_a - m_b) FILTER (both_ok) AS diff_sd
               FROM matched GROUP BY ALL ORDER BY strategy, impl_a, impl_b"""
        ).fetchall()
        per_cycle: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        overall: dict[tuple[str, str, str], tuple[float | None, int]] = {}
        if data.has_queries:
            data.sql(
                """CREATE TEMP TABLE jac AS
                SELECT m.strategy, m.impl_a, m.impl_b, qa.cycle,
                       len(list_intersect(qa.selected, qb.selected)) AS inter,
                       len(qa.selected) AS na, len(qb.selected) AS nb
                FROM matched m JOIN queries qa ON qa.exp_key = m.key_a
                JOIN queries qb ON qb.exp_key = m.key_b AND qb.cycle = qa.cycle
                WHERE qa.cycle >= 1"""
            )
            jexpr = "CASE WHEN na + nb - inter = 0 THEN 1.0 ELSE inter::DOUBLE / (na + nb - inter) END"
            for s, a, b, cycle, mean, n in data.sql(
                f"""SELECT strategy, impl_a, impl_b, cycle, avg({jexpr}), count(*) FROM jac
                    GROUP BY ALL ORDER BY strategy, impl_a, impl_b, cycle"""
            ).fetchall():
                per_cycle.setdefault((s, a, b), []).append(
                    {"cycle": int(cycle), "jaccard": mean, "n": int(n)}
                )
            for s, a, b, mean, n in data.sql(
                f"SELECT strategy, impl_a, impl_b, avg({jexpr}), count(*) FROM jac GROUP BY ALL"
            ).fetchall():
                overall[(s, a, b)] = (mean, int(n))
    pairs = []
    for s, a, b, matched, both_ok, m_a, m_b, diff, diff_sd in summary:
        cycles = per_cycle.get((s, a, b), [])
        pairs.append(
            {
                "strategy": s,
                "impl_a": a,
                "impl_b": b,
                "matched": int(matched),
                "both_ok": int(both_ok),
                "jaccard_first": cycles[0]["jaccard"] if cycles and cycles[0]["cycle"] == 1 else None,
                "jaccard_mean": overall.get((s, a, b), (None, 0))[0],
                "jaccard_per_cycle": cycles,
                "metric_a": m_a,
                "metric_b": m_b,
                "diff": diff,
                "diff_sd": diff_sd,
            }
        )
    return {"store": str(store), "metric": metric, "match_on": list(MATCH), "pairs": pairs}


def _fmt(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_table(result: dict[str, Any], per_cycle: bool = False) -> str:
    if not result["pairs"]:
        return "no strategy was run by two implementations on matched experiments"
    head = [
        "strategy",
        "impl_a",
        "impl_b",
        "matched",
        "both_ok",
        "J@1",
        "J mean",
        "metric_a",
        "metric_b",
        "diff",
    ]
    rows = [
        [
            p["strategy"],
            p["impl_a"],
            p["impl_b"],
            str(p["matched"]),
            str(p["both_ok"]),
            _fmt(p["jaccard_first"]),
            _fmt(p["jaccard_mean"]),
            _fmt(p["metric_a"], 4),
            _fmt(p["metric_b"], 4),
            "-" if p["diff"] is None else f"{p['diff']:+.4f}",
        ]
        for p in result["pairs"]
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [f"metric: {result['metric']} (diff = impl_a - impl_b); Jaccard of selections per cycle >= 1"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]]
    if per_cycle:
        for p in result["pairs"]:
            cyc = " ".join(f"{c['cycle']}:{c['jaccard']:.2f}" for c in p["jaccard_per_cycle"])
            lines.append(f"{p['strategy']} {p['impl_a']} vs {p['impl_b']}: {cyc or '-'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", help="result store directory (results/<grid name>)")
    parser.add_argument(
        "--metric", default="f1_weighted_aulc", help="runs summary column (default f1_weighted_aulc)"
    )
    parser.add_argument(
        "--where", default=None, help="SQL condition on runs columns, e.g. \"learner = 'rf'\""
    )
    parser.add_argument("--per-cycle", action="store_true", help="also print the mean Jaccard of every cycle")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        result = implementation_agreement(args.store, args.metric, args.where)
    except AlgridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(result, indent=2) if args.json else format_table(result, args.per_cycle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
