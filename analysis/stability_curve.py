"""Prior-study minimal study design: Kendall tau of the leaderboard from k random (dataset, start, batch size,
learner, split, ...) combinations against the full leaderboard, as a function of k; optionally saves the plot.

    python analysis/stability_curve.py results/demo --repeats 50 --png stability.png
    python analysis/stability_curve.py results/demo --dimension dataset
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _common import guard, parser

from algrid.analysis import open_store, stability
from algrid.analysis.tables import render_stability


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument(
        "--dimension", default=None, help="sample values of this dimension instead of combinations"
    )
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--png", default=None, help="write the tau(k) plot here")
    args = ap.parse_args()
    with open_store(args.store, args.where) as store:
        res = stability(store, args.dimension, args.repeats, args.metric, args.summary, args.missing)
    if args.png:
        from algrid.analysis.plots import stability_curve

        stability_curve(res, Path(args.png))
    print(json.dumps(res, indent=2) if args.json else render_stability(res))


if __name__ == "__main__":
    sys.exit(guard(main))
