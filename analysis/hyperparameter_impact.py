"""Prior-study hyperparameter impact: for every hyperparameter, compare experiments identical in every other
setting (Pearson of results, Jaccard of selected samples, Kendall tau between per-value leaderboards and against
the full leaderboard) and rank the hyperparameters by the variance share they explain.

    python analysis/hyperparameter_impact.py results/demo              # ranking of all hyperparameters
    python analysis/hyperparameter_impact.py results/demo --param batch_size   # one in detail
"""

from __future__ import annotations

import json
import sys

from _common import guard, parser

from algrid.analysis import impact, impact_all, open_store
from algrid.analysis.tables import render_impact, render_impact_all


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--param", default=None, help="one hyperparameter in detail (default: rank all)")
    args = ap.parse_args()
    with open_store(args.store, args.where) as store:
        if args.param:
            res = impact(store, args.param, args.metric, args.summary, args.missing)
            text = render_impact(res)
        else:
            res = impact_all(store, args.metric, args.summary, args.missing)
            text = render_impact_all(res)
    print(json.dumps(res, indent=2) if args.json else text)


if __name__ == "__main__":
    sys.exit(guard(main))
