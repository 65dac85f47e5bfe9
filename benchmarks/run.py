"""algrid's performance benchmark (issue 8): throughput, the prior-study baseline, overhead, scaling, cache.

    python benchmarks/run.py [--quick] [--reps 3] [--out FILE]
    python benchmarks/run.py --peers [--peer-starts 3] [--reps 3]   # peer baselines (benchmarks/peers/)

Measures, each as the median of ``--reps`` runs where it is a timing, on work groups of the fixed benchmark grid
``benchmarks/grids/bench.yaml`` (a work group = one dataset, learner, batch size and start set with every strategy
pair; --quick takes 2 groups and 6 pairs, the default 6 groups x 15 pairs):

1. throughput: experiments per CPU-hour of ``algrid run --jobs 1`` (CPU of the whole process tree, workers included);
2. the same experiments through ``benchmarks/baseline.py``, one process each (the prior study's way), and the ratio
   algrid / baseline from this one invocation; the baseline's final accuracies are compared with algrid's store to
   show both did the same experiments;
3. overhead of algrid's loop: (wall - time inside learner fit/predict/predict_proba and strategy select) / wall,
   instrumented in-process over the same experiments with the cache on;
4. scaling: wall-clock throughput of ``--jobs 2`` vs ``--jobs 1`` on the whole fixed grid (1,080 experiments,
   72 work groups; ``--scaling-grid subset`` or --quick: on the measured subset); per-query cost of every native strategy on
   synthetic pools of 1k, 5k and 20k rows at batch 1 and 10, flagging growth faster than O(pool x batch);
5. cache: hit rate and CPU speed-up (cache on vs off, in-process) on the same experiments and on a slice of
   ``grids/implementations.yaml`` if it exists;
6. estimate check: ``algrid grid estimate`` of the measured experiments vs their measured CPU.

Results go to ``benchmarks/results/performance-<mode>.json`` with the machine description; a Markdown summary is
printed. Other processes on the machine distort wall-clock numbers (CPU numbers much less): the load average
before and after is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from machine import machine_info  # noqa: E402
from meter import TreeMeter, env_with  # noqa: E402

BENCH_GRID = HERE / "grids" / "bench.yaml"
IMPL_GRID = ROOT / "grids" / "implementations.yaml"
IMPL_SLICE = HERE / "grids" / "implementations_slice.yaml"  # used when grids/implementations.yaml is absent
QUICK_PAIRS = [
    ("random", "native"),
    ("margin", "native"),
    ("margin", "modal"),
    ("entropy", "skactiveml"),
    ("least_confidence", "modal"),
    ("coreset", "native"),
]
#: (dataset, learner, batch_size) of the work groups measured (start set 0); quick uses the first two.
GROUPS = [
    ("wine", "rf", 10),
    ("iris", "svm_rbf", 10),
    ("breast_cancer", "rf", 1),
    ("pima", "svm_rbf", 1),
    ("vehicle", "rf", 10),
    ("xor_2x2", "svm_rbf", 10),
]
POOL_SIZES = (1000, 5000, 20000)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- the subset grid


def subset_grid(
    path: Path, groups: list[tuple[str, str, int]], pairs: list[tuple[str, str]] | None, name: str
) -> Path:
    """A grid file of whole work groups of the benchmark grid (one block per group, start set 0)."""
    base = yaml.safe_load(BENCH_GRID.read_text())
    dims = base["dimensions"]
    blocks = []
    for ds, learner, batch in groups:
        block = {"dataset": [ds], "learner": [learner], "batch_size": [batch], "start": [0]}
        if (
            pairs is not None
        ):  # one block per pair keeps only those pairs (a block crosses strategy x implementation)
            for s, i in pairs:
                blocks.append({**block, "strategy": [s], "implementation": [i]})
        else:
            blocks.append(block)
    shared = {k: v for k, v in dims.items() if k not in ("dataset", "learner", "batch_size", "start")}
    if pairs is not None:
        shared = {k: v for k, v in shared.items() if k not in ("strategy", "implementation")}
    doc = {k: v for k, v in base.items() if k != "dimensions"}
    doc.update(name=name, description=f"benchmark subset: {len(groups)} work groups of bench.yaml")
    doc["dimensions"] = shared
    doc["blocks"] = blocks
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# ------------------------------------------------------------------------------------------------- 1. algrid


def algrid_runs(
    grid_path: Path, jobs: int, reps: int, work: Path, extra_env: dict[str, str] | None = None
) -> dict:
    """``algrid run`` into a fresh store ``reps`` times; per run wall, tree CPU, counts; medians."""
    meter = TreeMeter()
    runs = []
    for r in range(reps):
        store = work / f"store-j{jobs}-{r}-{time.time_ns()}"
        cmd = [
            "algrid",
            "run",
            str(grid_path),
            "--jobs",
            str(jobs),
            "--store",
            str(store),
            "--no-progress",
            "--json",
        ]
        m = meter.run(cmd, env=env_with(**(extra_env or {})))
        if m.returncode != 0:
            raise RuntimeError(f"algrid run failed ({m.returncode}): {m.stderr[-2000:]}")
        summary = json.loads(m.stdout)
        from algrid.store import Store

        tab = Store.open(store).runs(columns=["exp_key", "status", "cpu_s", "wall_s"]).to_pydict()
        runs.append(
            {
                "wall_s": m.wall_s,
                "cpu_s": m.cpu_s,
                "cpu_waited_s": m.cpu_waited_s,
                "cpu_workers_autoreaped_s": m.cpu_autoreaped_s,
                "cpu_method": m.cpu_method,
                "ran": summary["ran"],
                "ok": summary["ok"],
                "failed": summary["failed"],
                "sum_experiment_cpu_s": float(sum(tab["cpu_s"])),
                "sum_experiment_wall_s": float(sum(tab["wall_s"])),
                "store": str(store),
            }
        )
        log(
            f"algrid run --jobs {jobs} #{r + 1}: {summary['ran']} exp, wall {m.wall_s:.1f}s, cpu {m.cpu_s:.1f}s"
        )
    return _summarise(jobs, runs)


def _summarise(jobs: int, runs: list[dict]) -> dict:
    """Medians and throughputs of ``algrid run`` repetitions (the per-run records are kept under ``runs``)."""
    n = runs[0]["ran"]
    cpu = statistics.median(r["cpu_s"] for r in runs)
    wall = statistics.median(r["wall_s"] for r in runs)
    inner = statistics.median(r["sum_experiment_cpu_s"] for r in runs)
    return {
        "jobs": jobs,
        "experiments": n,
        "failed": runs[0]["failed"],
        "median_cpu_s": cpu,
        "median_wall_s": wall,
        "experiments_per_cpu_hour": n / cpu * 3600,
        "experiments_per_wall_hour": n / wall * 3600,
        "runner_overhead_cpu_share": 1 - inner / cpu,
        "runs": runs,
    }


def interleaved_runs(grid_path: Path, reps: int, work: Path) -> tuple[dict, dict]:
    """--jobs 1 and --jobs 2 alternately, so a load that drifts over time biases neither (medians per setting)."""
    one, two = [], []
    for _ in range(reps):
        one.append(algrid_runs(grid_path, 1, 1, work))
        two.append(algrid_runs(grid_path, 2, 1, work))

    def merge(parts: list[dict]) -> dict:
        return {**_summarise(parts[0]["jobs"], [r for p in parts for r in p["runs"]]), "interleaved": True}

    return merge(one), merge(two)


# ----------------------------------------------------------------------------------------------- 2. baseline


def baseline_runs(grid_path: Path, reps: int, work: Path) -> dict:
    """Every experiment of the grid through benchmarks/baseline.py, one process each, ``reps`` times."""
    from algrid.grid.lazy import load_grid

    grid = load_grid(grid_path)
    configs = grid.configs(range(len(grid)))
    settings = {k: grid.settings[k] for k in ("cycles", "test_size", "preprocessing")}
    meter = TreeMeter()
    runs = []
    outputs: dict[str, dict] = {}
    for r in range(reps):
        csv = work / f"baseline-{r}.csv"
        cpu = wall = 0.0
        failed = 0
        for cfg in configs:
            conf = {k: v for k, v in cfg.items() if k not in ("exp_index", "exp_key")}
            cmd = [sys.executable, str(HERE / "baseline.py"), "--config", json.dumps(conf),
                   "--settings", json.dumps(settings), "--csv", str(csv)]  # fmt: skip
            m = meter.run(cmd)
            if m.returncode != 0:
                raise RuntimeError(f"baseline failed for {conf}: {m.stderr[-2000:]}")
            out = json.loads(m.stdout.strip().splitlines()[-1])
            failed += out["status"] != "ok"
            outputs[cfg["exp_key"]] = out
            cpu += m.cpu_s
            wall += m.wall_s
        runs.append({"cpu_s": cpu, "wall_s": wall, "failed": failed})
        log(f"baseline #{r + 1}: {len(configs)} exp, wall {wall:.1f}s, cpu {cpu:.1f}s")
    cpu = statistics.median(r["cpu_s"] for r in runs)
    wall = statistics.median(r["wall_s"] for r in runs)
    return {
        "experiments": len(configs),
        "failed": runs[0]["failed"],
        "median_cpu_s": cpu,
        "median_wall_s": wall,
        "experiments_per_cpu_hour": len(configs) / cpu * 3600,
        "runs": runs,
        "_outputs": outputs,
    }


def agreement(store: str, outputs: dict[str, dict]) -> dict:
    """How many experiments have the same final accuracy in algrid's store and in the baseline."""
    from algrid.store import Store

    st = Store.open(store)
    runs = st.runs(columns=["exp_key", "status", "cycles_done"]).to_pydict()
    curves = st.curves(columns=["exp_key", "cycle", "accuracy"]).to_pydict()
    acc: dict[str, dict[int, float]] = {}
    for k, c, a in zip(curves["exp_key"], curves["cycle"], curves["accuracy"], strict=True):
        acc.setdefault(k, {})[c] = a
    same = compared = 0
    for key, status in zip(runs["exp_key"], runs["status"], strict=True):
        out = outputs.get(key)
        if out is None or status != "ok" or out["status"] != "ok":
            continue
        compared += 1
        ours = [acc[key][c] for c in sorted(acc[key])]
        theirs = np.asarray(out["accuracies"], dtype=np.float32)
        same += len(ours) == len(theirs) and bool(np.allclose(ours, theirs, atol=1e-6))
    return {"compared": compared, "identical_curves": same}


# ---------------------------------------------------------------------------------- 3 + 5. in-process probes


class _Probe:
    """Times the outermost learner fit/predict/predict_proba and strategy select calls (nested calls once)."""

    def __init__(self) -> None:
        self.depth = 0
        self.learner_s = 0.0
        self.strategy_s = 0.0

    def wrap(self, fn, bucket: str):
        probe = self

        def timed(*args, **kwargs):
            if probe.depth:
                return fn(*args, **kwargs)
            probe.depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(probe, bucket, getattr(probe, bucket) + time.perf_counter() - t0)
                probe.depth -= 1

        return timed


def _instrument() -> tuple[_Probe, callable]:
    """Patch the learner wrapper and every registered strategy; returns the probe and an undo function."""
    import dataclasses

    import algrid.strategies as strategies
    from algrid.learners import AllClassesClassifier

    probe = _Probe()
    # predict_and_proba (issue 19: test and pool rows in one pass) where this algrid has it
    methods = ("fit", "predict", "predict_proba", "predict_and_proba")
    saved = {m: AllClassesClassifier.__dict__[m] for m in methods if m in AllClassesClassifier.__dict__}
    for m, fn in saved.items():
        setattr(AllClassesClassifier, m, probe.wrap(fn, "learner_s"))
    reg = strategies._registry()
    old = dict(reg)
    for pair, spec in old.items():
        if spec.select is not None:
            reg[pair] = dataclasses.replace(spec, select=probe.wrap(spec.select, "strategy_s"))

    def undo() -> None:
        for m, fn in saved.items():
            setattr(AllClassesClassifier, m, fn)
        reg.clear()
        reg.update(old)

    return probe, undo


def in_process(
    grid_path: Path,
    cache: bool,
    instrument: bool,
    limit: int | None = None,
    capacity: int = 256,
    where: dict[str, list] | None = None,
) -> dict:
    """Run the grid's experiments in shard order in this process (one worker's view)."""
    from threadpoolctl import threadpool_limits

    from algrid.engine.cache import ModelCache
    from algrid.engine.loop import run_experiment
    from algrid.execute.worker import freeze_imports
    from algrid.grid.lazy import load_grid

    freeze_imports()  # as a worker does after its imports
    grid = load_grid(grid_path)
    order = grid.shard(0, 1)
    if limit is not None:
        order = order[:limit]
    configs = grid.configs(order)
    if where:  # whole work groups of chosen values (shard order kept)
        configs = [c for c in configs if all(c[d] in v for d, v in where.items())]
    from algrid.datasets import load_dataset

    for name in sorted({c["dataset"] for c in configs}):  # loaded before the clock, as a worker does
        load_dataset(name)
    mc = ModelCache(capacity) if cache else False
    probe, undo = _instrument() if instrument else (None, lambda: None)
    wall = cpu = 0.0
    try:
        with threadpool_limits(1):
            for cfg in configs:
                res = run_experiment(cfg, grid.settings, exp_key=cfg["exp_key"], cache=mc)
                wall += res.wall_s
                cpu += res.cpu_s
    finally:
        undo()
    out: dict[str, Any] = {"experiments": len(configs), "wall_s": wall, "cpu_s": cpu}
    if cache:
        out["cache"] = mc.stats()
    if probe is not None:
        work = probe.learner_s + probe.strategy_s
        out.update(learner_s=probe.learner_s, strategy_s=probe.strategy_s, overhead=(wall - work) / wall)
    return out


def overhead_and_cache(
    grid_path: Path, reps: int, limit: int | None = None, unbounded: bool = False, where: dict | None = None
) -> dict:
    """Loop overhead and cache hit rate (instrumented, cache on, ``reps`` runs) and one cache-off run.

    The instrumentation adds a Python call per fit/predict/select (microseconds against milliseconds of work), so
    the instrumented runs also give the cache-on CPU.
    """
    import algrid.engine.loop  # noqa: F401  - import costs out of the measurement

    over = []
    for r in range(reps):
        over.append(in_process(grid_path, cache=True, instrument=True, limit=limit, where=where))
        o = over[-1]
        log(
            f"in-process #{r + 1}: overhead {o['overhead']:.2%}, cpu {o['cpu_s']:.1f}s, hit rate {o['cache']['hit_rate']:.1%}"
        )
    off = in_process(grid_path, cache=False, instrument=False, limit=limit, where=where)
    log(f"in-process cache off: cpu {off['cpu_s']:.1f}s")
    med = statistics.median
    cpu_on = med(o["cpu_s"] for o in over)
    out = {
        "experiments": over[0]["experiments"],
        "overhead": med(o["overhead"] for o in over),
        "overhead_runs": [o["overhead"] for o in over],
        "learner_share": med(o["learner_s"] / o["wall_s"] for o in over),
        "strategy_share": med(o["strategy_s"] / o["wall_s"] for o in over),
        "cache_hit_rate": over[0]["cache"]["hit_rate"],
        "cache_hits": over[0]["cache"]["hits"],
        "cache_misses": over[0]["cache"]["misses"],
        "cache_evictions": over[0]["cache"]["evictions"],
        "cpu_cache_on_s": cpu_on,
        "cpu_cache_off_s": off["cpu_s"],
        "cache_speedup": off["cpu_s"] / cpu_on,
    }
    if unbounded:
        big = in_process(
            grid_path, cache=True, instrument=False, limit=limit, capacity=1_000_000, where=where
        )
        out["cache_hit_rate_unbounded"] = big["cache"]["hit_rate"]
    return out


# --------------------------------------------------------------------------------------- 4. pool-size scaling


def pool_scaling(sizes=POOL_SIZES, batches=(1, 10), reps: int = 3, budget_s: float = 30.0) -> dict:
    """select() time of every native strategy on synthetic pools (lr model, 10 features, 3 classes)."""
    from threadpoolctl import threadpool_limits

    from algrid.learners import make_al_learner
    from algrid.strategies import all_strategies
    from algrid.strategies.base import QueryContext

    rng = np.random.default_rng(0)
    d, k, n_lab = 10, 3, 30
    n_max = max(sizes)
    centers = rng.normal(scale=2.0, size=(k, d))
    y_all = rng.integers(0, k, n_max + n_lab + 500)
    X_all = centers[y_all] + rng.normal(size=(len(y_all), d))
    Xl, yl = X_all[:n_lab], y_all[:n_lab]
    Xt, yt = X_all[n_lab : n_lab + 500], y_all[n_lab : n_lab + 500]
    classes = np.arange(k)
    model = make_al_learner("lr", 0, classes).fit(Xl, yl)
    out: dict[str, Any] = {}
    specs = [s for s in all_strategies() if s.implementation == "native" and s.available]
    with threadpool_limits(1):
        for spec in specs:
            rows = {}
            skip_larger = False
            for p in sizes:
                Xp, yp = X_all[n_lab + 500 : n_lab + 500 + p], y_all[n_lab + 500 : n_lab + 500 + p]
                proba = model.predict_proba(Xp) if spec.needs_proba else None
                for b in batches:
                    if skip_larger:
                        rows[f"{p}x{b}"] = None
                        continue

                    def evaluate(pos, Xp=Xp, yp=yp):
                        m = make_al_learner("lr", 0, classes).fit(
                            np.vstack([Xl, Xp[pos]]), np.concatenate([yl, yp[pos]])
                        )
                        return float((m.predict(Xt) == yt).mean())

                    times = []
                    for r in range(reps):
                        ctx = QueryContext(
                            model=model, X_pool=Xp, X_labeled=Xl, y_labeled=yl, classes=classes, batch_size=b,
                            rng=np.random.default_rng(r), seed=r, make_learner=lambda s: make_al_learner("lr", s, classes),
                            proba_pool=proba,
                        )  # fmt: skip
                        if spec.uses_oracle:
                            ctx.oracle_labels, ctx.evaluate = yp, evaluate
                        t0 = time.process_time()
                        spec.select(ctx)
                        times.append(time.process_time() - t0)
                        if times[-1] > budget_s / 3:
                            break
                    rows[f"{p}x{b}"] = statistics.median(times)
                    if rows[f"{p}x{b}"] > budget_s:
                        skip_larger = True
            out[spec.name] = {"seconds": rows, **_growth(rows, sizes, batches)}
            log(f"pool scaling {spec.name}: {rows} {out[spec.name]['flag'] or ''}")
    return out


def _growth(rows: dict, sizes, batches) -> dict:
    """Exponents of query time in pool size (per batch) and in batch size; flag super-linear growth."""
    lo, hi = sizes[0], sizes[-1]
    res: dict[str, Any] = {"flag": None}
    exps = []
    for b in batches:
        a, z = rows.get(f"{lo}x{b}"), rows.get(f"{hi}x{b}")
        if a and z:
            exps.append(np.log(z / a) / np.log(hi / lo))
    mid = sizes[len(sizes) // 2]
    a, z = rows.get(f"{mid}x{batches[0]}"), rows.get(f"{mid}x{batches[-1]}")
    res["pool_exponent"] = round(float(max(exps)), 2) if exps else None
    res["batch_exponent"] = (
        round(float(np.log(z / a) / np.log(batches[-1] / batches[0])), 2) if a and z else None
    )
    flags = []
    if res["pool_exponent"] is not None and res["pool_exponent"] > 1.25:
        flags.append(f"query time grows like pool^{res['pool_exponent']}")
    if res["batch_exponent"] is not None and res["batch_exponent"] > 1.25:
        flags.append(f"query time grows like batch^{res['batch_exponent']}")
    if any(v is None for v in rows.values()):
        flags.append("too slow to measure at the largest pools")
    res["flag"] = "; ".join(flags) or None
    return res


# ------------------------------------------------------------------------------------------------- 6. estimate


def estimate_check(grid_path: Path, measured_cpu_s: float, sum_experiment_cpu_s: float) -> dict:
    from algrid.cost.estimate import estimate_grid
    from algrid.grid.lazy import load_grid

    est = estimate_grid(load_grid(grid_path))
    projected = est["cpu_hours"] * 3600
    return {
        "projected_cpu_s": projected,
        "measured_experiment_cpu_s": sum_experiment_cpu_s,
        "ratio_projected_to_measured": projected / sum_experiment_cpu_s if sum_experiment_cpu_s else None,
    }


# ----------------------------------------------------------------------------------------------------- report


def markdown(res: dict) -> str:
    a1, base = res["algrid_jobs1"], res["baseline"]
    lines = [
        f"### Performance benchmark ({res['mode']}, {res['machine']['measured_at']})",
        "",
        f"Machine: {res['machine']['cpu']}, {res['machine']['cores']} cores, Python {res['machine']['python']}, "
        f"load average before/after {res['load_before']} / {res['load_after']}.",
        f"Command: `{res['command']}`; subset: {a1['experiments']} experiments ({res['groups']} work groups of "
        f"bench.yaml); medians of {res['reps']} runs.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| algrid throughput (`algrid run --jobs 1`) | {a1['experiments_per_cpu_hour']:,.0f} experiments / CPU-hour | |",
        f"| baseline throughput (prior-study way) | {base['experiments_per_cpu_hour']:,.0f} experiments / CPU-hour | |",
        f"| **algrid / baseline** | **{res['speedup']:.1f}x** | >= 5x |",
        f"| baseline curves identical to algrid's | {res['agreement']['identical_curves']} / {res['agreement']['compared']} | |",
        f"| loop overhead (outside learner + strategy) | {res['loop']['overhead']:.1%} | <= 5% |",
        f"| runner overhead (process tree CPU outside experiments) | {a1['runner_overhead_cpu_share']:.1%} | |",
    ]
    if "algrid_jobs2" in res:
        lines.append(
            f"| --jobs 2 vs --jobs 1 (wall-clock throughput, {res.get('scaling_grid', 'the subset')}) "
            f"| {res['jobs_scaling']:.2f}x | >= 1.8x |"
        )
    lines += [
        f"| cache hit rate (fits) | {res['loop']['cache_hit_rate']:.1%} | |",
        f"| cache speed-up (CPU off / on) | {res['loop']['cache_speedup']:.2f}x | |",
    ]
    if res.get("cache_impl"):
        ci = res["cache_impl"]
        lines.append(
            f"| cache on {ci['grid']} ({ci['experiments']} exp: {ci['where']}) | hit rate "
            f"{ci['cache_hit_rate']:.1%}, speed-up {ci['cache_speedup']:.2f}x | |"
        )
    if res.get("estimate"):
        lines.append(
            f"| `grid estimate` projection / measured CPU | {res['estimate']['ratio_projected_to_measured']:.2f} | |"
        )
    if res.get("pool_scaling"):
        lines += [
            "",
            "| native strategy | "
            + " | ".join(res["pool_scaling_columns"])
            + " | pool exp. | batch exp. | flag |",
        ]
        lines.append("|---" * (len(res["pool_scaling_columns"]) + 4) + "|")
        for name, row in res["pool_scaling"].items():
            cells = [
                "-" if row["seconds"][c] is None else f"{row['seconds'][c] * 1000:.1f} ms"
                for c in res["pool_scaling_columns"]
            ]
            lines.append(
                f"| {name} | "
                + " | ".join(cells)
                + f" | {row['pool_exponent']} | {row['batch_exponent']} | {row['flag'] or ''} |"
            )
    return "\n".join(lines)


IMPL_WHERE = {"learner": ["rf"], "dataset": ["breast_cancer", "vehicle"], "split": [0], "start": [0]}


def impl_cache_only(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Cache hit rate and speed-up on whole work groups of the implementations grid (or the stand-in slice)."""
    impl = IMPL_GRID if IMPL_GRID.exists() else IMPL_SLICE
    where = {**IMPL_WHERE, "dataset": ["breast_cancer"]} if args.quick else dict(IMPL_WHERE)
    res = overhead_and_cache(impl, args.reps, where=where)
    res.update(grid=str(impl.relative_to(ROOT)), where=where, machine=machine_info())
    res["command"] = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    out = Path(args.out) if args.out else HERE / "results" / "cache-implementations.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=float) + "\n")
    log(f"wrote {out}: hit rate {res['cache_hit_rate']:.1%}, speed-up {res['cache_speedup']:.2f}x")
    return 0


def peers_only(args: argparse.Namespace, argv: list[str] | None) -> int:
    """algrid against the peer baselines (benchmarks/peers/), written to results/peers.json and printed."""
    sys.path.insert(0, str(HERE / "peers"))
    import bench as peers  # noqa: PLC0415

    res: dict[str, Any] = {
        "command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "machine": machine_info(),
    }
    out = Path(args.out) if args.out else HERE / "results" / "peers.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    def save(summary: dict[str, Any], done: bool = False) -> None:
        """Write the rounds finished so far (``complete`` false until the last one)."""
        res.update(summary)
        res["load_after"] = [round(x, 2) for x in os.getloadavg()]
        res["complete"] = done
        out.write_text(json.dumps(res, indent=1, default=float) + "\n")

    with tempfile.TemporaryDirectory(prefix="algrid-peers-") as tmp:
        batches = [int(b) for b in args.peer_batches.split(",") if b]
        save(peers.run_peers(Path(tmp), args.reps, args.peer_starts, batches, checkpoint=save), done=True)
    print(peers.markdown(res))
    log(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="2 work groups x 6 pairs, smaller pool-scaling sizes"
    )
    ap.add_argument("--reps", type=int, default=3, help="repetitions per timing (median reported)")
    ap.add_argument(
        "--groups", type=int, default=None, help="number of work groups (default 2 quick, 6 full)"
    )
    ap.add_argument("--skip", default="", help="comma list of parts to skip: baseline,jobs2,loop,pool,impl")
    ap.add_argument("--out", default=None, help="JSON results file")
    ap.add_argument(
        "--scaling-grid",
        choices=["subset", "full"],
        default=None,
        help="grid of the --jobs 1 vs 2 runs: the measured subset, or all of benchmarks/grids/bench.yaml "
        "(default: full, subset with --quick)",
    )
    ap.add_argument(
        "--quick-pairs", action="store_true", help="the 6 quick strategy pairs even without --quick"
    )
    ap.add_argument(
        "--peers",
        action="store_true",
        help="only the peer baselines (issue 19): algrid --jobs 2 against four scripts on stock libraries, "
        "interleaved, on benchmarks/grids/peers.yaml",
    )
    ap.add_argument(
        "--peer-starts",
        type=int,
        default=3,
        help="start sets of the peer grid to run (3 = all 216 experiments)",
    )
    ap.add_argument(
        "--peer-batches",
        default="",
        help="comma list: only these batch sizes of the peer grid (default both)",
    )
    ap.add_argument(
        "--impl-cache-only",
        action="store_true",
        help="only the cache measurement on whole rf work groups (breast_cancer, vehicle; --quick: breast_cancer) "
        "of grids/implementations.yaml",
    )
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.impl_cache_only:
        return impl_cache_only(args, argv)
    if args.peers:
        return peers_only(args, argv)
    skip = set(filter(None, args.skip.split(",")))
    args.scaling_grid = args.scaling_grid or ("subset" if args.quick else "full")
    mode = "quick" if args.quick else "full"
    n_groups = args.groups or (2 if args.quick else len(GROUPS))
    groups = GROUPS[:n_groups]
    res: dict[str, Any] = {
        "mode": mode,
        "command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "reps": args.reps,
        "groups": n_groups,
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "machine": machine_info(),
    }
    with tempfile.TemporaryDirectory(prefix="algrid-bench-") as tmp:
        work = Path(tmp)
        grid_path = subset_grid(
            work / "subset.yaml",
            groups,
            QUICK_PAIRS if args.quick or args.quick_pairs else None,
            f"bench_{mode}",
        )
        scaling_full = "jobs2" not in skip and args.scaling_grid == "full"
        if "jobs2" in skip or scaling_full:
            res["algrid_jobs1"] = algrid_runs(grid_path, 1, args.reps, work)
        else:
            res["algrid_jobs1"], res["algrid_jobs2"] = interleaved_runs(grid_path, args.reps, work)
        if scaling_full:  # the whole fixed grid: enough work groups to keep two workers busy to the end
            res["scaling_grid"] = str(BENCH_GRID.relative_to(ROOT))
            res["scaling_jobs1"], res["algrid_jobs2"] = interleaved_runs(BENCH_GRID, args.reps, work)
        if "baseline" not in skip:
            base = baseline_runs(grid_path, args.reps, work)
            outputs = base.pop("_outputs")
            res["baseline"] = base
            res["agreement"] = agreement(res["algrid_jobs1"]["runs"][0]["store"], outputs)
            res["speedup"] = (
                res["algrid_jobs1"]["experiments_per_cpu_hour"] / base["experiments_per_cpu_hour"]
            )
            log(f"algrid / baseline = {res['speedup']:.2f}x")
        if "jobs2" not in skip:
            one = res.get("scaling_jobs1", res["algrid_jobs1"])
            res["jobs_scaling"] = (
                res["algrid_jobs2"]["experiments_per_wall_hour"] / one["experiments_per_wall_hour"]
            )
            log(f"--jobs 2 / --jobs 1 = {res['jobs_scaling']:.2f}x")
        if "loop" not in skip:
            res["loop"] = overhead_and_cache(grid_path, args.reps)
        if "impl" not in skip:
            impl = IMPL_GRID if IMPL_GRID.exists() else IMPL_SLICE
            where = dict(IMPL_WHERE)
            if args.quick:
                where["dataset"] = ["breast_cancer"]
            res["cache_impl"] = overhead_and_cache(impl, 1, where=where)
            res["cache_impl"]["where"] = where
            res["cache_impl"]["grid"] = str(impl.relative_to(ROOT))
        sum_exp = statistics.median(r["sum_experiment_cpu_s"] for r in res["algrid_jobs1"]["runs"])
        res["estimate"] = estimate_check(grid_path, res["algrid_jobs1"]["median_cpu_s"], sum_exp)
        for r in [
            r
            for k in ("algrid_jobs1", "algrid_jobs2", "scaling_jobs1")
            for r in res.get(k, {}).get("runs", [])
        ]:
            r.pop("store", None)
    if "pool" not in skip:
        res["pool_scaling"] = pool_scaling(reps=1 if args.quick else 3, budget_s=10.0 if args.quick else 30.0)
        res["pool_scaling_columns"] = [f"{p}x{b}" for p in POOL_SIZES for b in (1, 10)]
    res["load_after"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out) if args.out else HERE / "results" / f"performance-{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=float) + "\n")
    if "baseline" in res and "loop" in res:
        print(markdown(res))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
