"""Shared argument parsing for the analysis scripts (each script is a thin wrapper over algrid.analysis)."""

from __future__ import annotations

import argparse
import sys

from algrid.analysis.values import MISSING_POLICIES, SUMMARY_CHOICES


def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("store", help="result store directory, e.g. results/demo")
    ap.add_argument("--metric", default="f1_weighted")
    ap.add_argument("--summary", default="aulc", choices=SUMMARY_CHOICES)
    ap.add_argument(
        "--missing",
        default="zero",
        choices=MISSING_POLICIES,
        help="zero reproduces the prior study (missing runs count as 0)",
    )
    ap.add_argument("--where", default=None, help="SQL condition on runs columns")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return ap


def guard(main) -> int:
    """Run a script's main; user errors print one line (like the CLI) instead of a traceback."""
    from algrid.errors import AlgridError

    try:
        main()
    except AlgridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
