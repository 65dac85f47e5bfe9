"""Time the analysis queries on a big synthetic store and write benchmarks/results/analysis.md (section 4 of BENCHMARKS.md).

Each measurement runs the real CLI (`algrid query ... --json`) in a fresh Python process, so caches do not carry
over between repeats; the child reports the time spent inside the command and its peak RSS
(resource.getrusage, which includes DuckDB's native allocations), the parent the end-to-end wall time.

    python benchmarks/make_synthetic_store.py /tmp/algrid-bench-store
    python benchmarks/bench_analysis.py /tmp/algrid-bench-store --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

_CHILD = r"""
import json, resource, sys, time, io, contextlib
t0 = time.perf_counter()
from algrid.cli import main
buf = io.StringIO()
code = 0
with contextlib.redirect_stdout(buf):
    try:
        main(sys.argv[1:], standalone_mode=False)
    except SystemExit as exc:
        code = exc.code or 0
dt = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
rss = ru.ru_maxrss / 1024
print(json.dumps({"seconds": dt, "cpu": ru.ru_utime + ru.ru_stime, "peak_rss_mb": rss, "code": code, "bytes_out": len(buf.getvalue())}), file=sys.stderr)
"""

QUERIES = {
    "leaderboard": ["query", "leaderboard", "{store}", "--json"],
    "leaderboard --missing penalty": ["query", "leaderboard", "{store}", "--missing", "penalty", "--json"],
    "leaderboard --where": [
        "query",
        "leaderboard",
        "{store}",
        "--where",
        "learner = 'rf' AND batch_size <= 10",
        "--json",
    ],
    "impact --param {param}": ["query", "impact", "{store}", "--param", "{param}", "--json"],
    "impact --param {param} --jaccard-blocks 0": [
        "query",
        "impact",
        "{store}",
        "--param",
        "{param}",
        "--jaccard-blocks",
        "0",
        "--json",
    ],
}
EXTRA = {
    "stability --repeats 10": ["query", "stability", "{store}", "--repeats", "10", "--json"],
    "impact --all": ["query", "impact", "{store}", "--all", "--json"],
    "runtime": ["query", "runtime", "{store}", "--json"],
}


def _run(args: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    lines = proc.stderr.strip().splitlines()
    try:
        info = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise SystemExit(f"benchmark child failed: {' '.join(args)}\n{proc.stderr[-2000:]}") from None
    if info["code"]:
        raise SystemExit(f"query failed ({info['code']}): {' '.join(args)}\n{proc.stderr[-2000:]}")
    info["wall"] = wall
    return info


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def _store_facts(store: Path) -> dict:
    con = duckdb.connect()
    n_runs, n_ok = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE status = 'ok') FROM read_parquet('{store}/runs/*.parquet')"
    ).fetchone()
    n_curves = con.execute(f"SELECT count(*) FROM read_parquet('{store}/curves/*.parquet')").fetchone()[0]
    parts = len(list((store / "runs").glob("*.parquet")))
    size = sum(f.stat().st_size for f in store.rglob("*.parquet"))
    return {"experiments": n_runs, "ok": n_ok, "curve_rows": n_curves, "parts": parts, "gib": size / 2**30}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--param", default="batch_size")
    ap.add_argument(
        "--extra", action="store_true", help="also time stability, impact --all and runtime (once)"
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "analysis.md")
    ap.add_argument(
        "--rows-from",
        type=Path,
        default=None,
        help="rewrite the report from the JSON lines a previous run printed (no re-measuring)",
    )
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    load_start = os.getloadavg()[0]
    facts = _store_facts(args.store)
    rows = []
    if args.rows_from:
        rows = [json.loads(x) for x in args.rows_from.read_text().splitlines() if x.startswith('{"query"')]
    plan = [] if args.rows_from else [(name, cmd, args.repeats) for name, cmd in QUERIES.items()]
    if args.extra and not args.rows_from:
        plan += [(name, cmd, 1) for name, cmd in EXTRA.items()]
    for name, cmd, reps in plan:
        full = [c.format(store=args.store, param=args.param) for c in cmd]
        label = name.format(param=args.param)
        results = [_run(full) for _ in range(reps)]
        row = {
            "query": label,
            "repeats": reps,
            "median_s": statistics.median(r["seconds"] for r in results),
            "min_s": min(r["seconds"] for r in results),
            "median_wall_s": statistics.median(r["wall"] for r in results),
            "median_cpu_s": statistics.median(r["cpu"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    threads = os.environ.get("ALGRID_DUCKDB_THREADS", "min(2, cores)")
    memory = os.environ.get("ALGRID_DUCKDB_MEMORY", "4GB")
    lines = [
        "# Analysis benchmarks",
        "",
        f"Command: `python benchmarks/bench_analysis.py {args.store} --repeats {args.repeats} --param {args.param}"
        + (" --extra" if args.extra else "")
        + "`",
        f"(store from `python benchmarks/make_synthetic_store.py {args.store}`).",
        "",
        f"Machine: {_machine()}. DuckDB threads: {threads}, memory limit: {memory}.",
        (
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average at start "
            f"{load_start:.1f} (the machine was shared with other jobs, so wall times are upper bounds)."
            if not args.rows_from
            else f"Rows re-read from {args.rows_from}, measured "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(args.rows_from.stat().st_mtime))} on a machine "
            "shared with other jobs (wall times are upper bounds)."
        ),
        "",
        f"Store: {facts['experiments']:,} experiments ({facts['ok']:,} ok), {facts['curve_rows']:,} curve rows, "
        f"{facts['parts']} Parquet parts per table, {facts['gib']:.1f} GiB on disk.",
        "",
        "Each query runs as `algrid query ... --json` in a fresh process. *in-command* = time inside the command "
        "(opening the store, all SQL, JSON); *wall* adds interpreter start-up and imports; *CPU* is user + system "
        "time of the whole process over all threads, the measure of work that other jobs on a shared machine do "
        "not inflate (with 2 DuckDB threads, wall time on an idle machine lies between CPU / 2 and CPU); peak RSS "
        "is the process maximum (Python + DuckDB).",
        "",
        "| query | repeats | median in-command (s) | min (s) | median wall (s) | median CPU (s) | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['query']}` | {r['repeats']} | {r['median_s']:.2f} | {r['min_s']:.2f} | "
            f"{r['median_wall_s']:.2f} | {r['median_cpu_s']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "Reading the numbers: the runs table is scanned once per query (a few summary columns of 2 million rows); "
        "impact adds one pivot per hyperparameter, and its Jaccard overlap one scan of the queries table (the "
        "`selected` lists dominate that cost; `--jaccard-blocks 0` skips it). `runtime` scans all curve rows. "
        "About 1.2 s of CPU in every row is interpreter start-up and importing pandas/scipy/DuckDB. The store "
        "itself took about 2.4 CPU-minutes to generate (10 minutes wall on the loaded machine).",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
