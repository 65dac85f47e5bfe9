"""Prior-study leaderboard: per dataset, rank strategies by the summary averaged over all other settings; mean
rank over datasets.

    python analysis/leaderboard.py results/demo --summary aulc --missing zero
"""

from __future__ import annotations

import json
import sys

from _common import guard, parser

from algrid.analysis import leaderboard, open_store
from algrid.analysis.tables import render_leaderboard


def main() -> None:
    args = parser(__doc__).parse_args()
    with open_store(args.store, args.where) as store:
        res = leaderboard(store, args.metric, args.summary, args.missing)
    print(json.dumps(res, indent=2) if args.json else render_leaderboard(res))


if __name__ == "__main__":
    sys.exit(guard(main))
