"""Prior-study dataset-level agreement: Kendall tau between each dataset's leaderboard and the leaderboard of all
datasets (the prior study found mean 0.53, range -0.04 to 0.90).

Each dataset's leaderboard ranks the strategies present on that dataset, so a strategy missing on one dataset
leaves the other datasets' tau unchanged; ``--complete-blocks`` applies the earlier rule (only settings that cover
every dataset, which drops such a strategy from every dataset's leaderboard) for comparison.

    python analysis/dataset_tau.py results/demo [--complete-blocks]
"""

from __future__ import annotations

import json
import sys

import numpy as np
from _common import guard, parser

from algrid.analysis import impact, open_store
from algrid.analysis.tables import DATASET_RULES, missing_line, table


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument(
        "--complete-blocks",
        action="store_true",
        help="rank only settings that cover every dataset (the earlier rule)",
    )
    args = ap.parse_args()
    rule = "complete" if args.complete_blocks else "present"
    with open_store(args.store, args.where) as store:
        res = impact(
            store, "dataset", args.metric, args.summary, args.missing, jaccard_blocks=0, dataset_rule=rule
        )
    rows = sorted(res["per_value"], key=lambda r: -(r["tau_vs_all"] if r["tau_vs_all"] is not None else -2))
    taus = np.array([r["tau_vs_all"] for r in rows if r["tau_vs_all"] is not None], dtype=float)
    stats = (
        {"mean": float(taus.mean()), "min": float(taus.min()), "max": float(taus.max())} if len(taus) else {}
    )
    if args.json:
        out = {"datasets": rows, "tau_vs_all": stats, "dataset_rule": rule, "missing": res["missing"]}
        print(json.dumps(out, indent=2))
        return
    print(
        table(
            [
                {"dataset": r["value"], "tau_vs_all": r["tau_vs_all"], "leader": r["leader"], "n": r["n"]}
                for r in rows
            ],
            ["dataset", "tau_vs_all", "leader", "n"],
        )
    )
    if stats:
        print(
            f"tau vs all datasets: mean {stats['mean']:.3f}, range {stats['min']:.3f} to {stats['max']:.3f}"
        )
    print(DATASET_RULES[rule])
    print(missing_line(res["missing"]))


if __name__ == "__main__":
    sys.exit(guard(main))
