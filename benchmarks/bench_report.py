"""Time `algrid report` on synthetic stores and measure the page it writes (section 7 of BENCHMARKS.md).

Each run is the real CLI in a fresh Python process (the child reports time inside the command, CPU and peak RSS;
the parent the wall time). The interactive page and the static one (`--static`, the baseline: the same analyses
plus matplotlib PNGs) alternate, so both see the same machine load. The page size shows the report is bounded:
it is built from aggregates, so a store 10x larger gives a page of about the same size.

    python benchmarks/make_synthetic_store.py /tmp/algrid-bench-store
    python benchmarks/make_synthetic_store.py /tmp/algrid-bench-small --starts 2
    python benchmarks/bench_report.py /tmp/algrid-bench-small /tmp/algrid-bench-store --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time, io, contextlib
t0 = time.perf_counter()
from algrid.cli import main
code = 0
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:], standalone_mode=False)
    except SystemExit as exc:
        code = exc.code or 0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": ru.ru_utime + ru.ru_stime,
                  "peak_rss_mb": ru.ru_maxrss / 1024, "code": code}), file=sys.stderr)
"""


def _run(args: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    stats = json.loads(proc.stderr.strip().splitlines()[-1])
    if stats["code"]:
        raise SystemExit(f"failed: algrid {' '.join(args)}\n{proc.stderr[-2000:]}")
    return stats | {"wall": wall}


def _store_facts(store: Path) -> dict:
    import duckdb

    runs = f"'{store}/runs/*.parquet'"
    curves = f"'{store}/curves/*.parquet'"
    n_exp = duckdb.sql(f"SELECT count(*) FROM read_parquet({runs})").fetchall()[0][0]
    n_curve = duckdb.sql(f"SELECT count(*) FROM read_parquet({curves})").fetchall()[0][0]
    size = sum(p.stat().st_size for p in store.rglob("*.parquet"))
    return {"experiments": n_exp, "curve_rows": n_curve, "bytes": size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stores", nargs="+", type=Path)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "report.md")
    args = ap.parse_args(argv)
    lines = [
        "| store | experiments | curve rows | Parquet (GiB) | report | repeats | median wall (s) | median in-command (s) "
        "| median CPU (s) | peak RSS (MiB) | index.html (MiB) | data (KiB) | curve points |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    load = os.getloadavg()[0]
    for store in args.stores:
        facts = _store_facts(store)
        samples: dict[str, list[dict]] = {"interactive": [], "static": []}
        out = Path(tempfile.mkdtemp(prefix="algrid-bench-report-"))
        page_mb = data_kb = points = None
        for _ in range(args.repeats):
            for kind in ("interactive", "static"):
                target = out / kind
                shutil.rmtree(target, ignore_errors=True)
                extra = ["--static"] if kind == "static" else []
                samples[kind].append(_run(["report", str(store), "--out", str(target), *extra]))
                if kind == "interactive":
                    page = (target / "index.html").read_text(encoding="utf-8")
                    page_mb = len(page.encode()) / 2**20
                    blob = re.search(r"id='algrid-data'>(.*?)</script>", page, re.S).group(1)
                    data_kb = len(blob.encode()) / 1024
                    points = json.loads((target / "summary.json").read_text())["curves"]["n_points"]
        shutil.rmtree(out, ignore_errors=True)
        for kind, runs in samples.items():
            med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "seconds", "cpu")}
            rss = max(r["peak_rss_mb"] for r in runs)
            size = f"{page_mb:.2f}" if kind == "interactive" else "-"
            data = f"{data_kb:.0f}" if kind == "interactive" else "-"
            pts = f"{points:,}" if kind == "interactive" else "-"
            lines.append(
                f"| {store.name} | {facts['experiments']:,} | {facts['curve_rows']:,} | {facts['bytes'] / 2**30:.2f} "
                f"| {kind} | {len(runs)} | {med['wall']:.1f} | {med['seconds']:.1f} | {med['cpu']:.1f} | {rss:.0f} "
                f"| {size} | {data} | {pts} |"
            )
        print("\n".join(lines[-2:]), flush=True)
    header = (
        f"Command: `python benchmarks/bench_report.py {' '.join(str(s) for s in args.stores)} --repeats {args.repeats}`\n\n"
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average at start {load:.1f}; "
        f"measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.\n\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(header + "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
