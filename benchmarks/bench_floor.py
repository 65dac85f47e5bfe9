"""The floor for every learner (issue 19): the engine's CPU against a minimal hand-written loop, and loop overhead.

    python benchmarks/bench_floor.py [--learners all] [--reps 3] [--before /work/main] [--out results/floor.json]

For each built-in learner the bench grid's experiments (``benchmarks/grids/bench.yaml``; by default its native
strategies, batch 10, start set 0 on all six datasets, with the grid's ``learner`` replaced) run in a fresh child
process, which measures, in CPU seconds of that process (``time.process_time``; the machine is shared):

* **engine**: ``run_experiment`` over the experiments, shard order, one model cache (as a worker does);
* **loop overhead**: the same run instrumented as ``benchmarks/run.py`` does (part ``loop``), but in CPU time:
  (engine - CPU inside the learner wrapper's fit/predict/predict_proba - CPU inside strategy ``select``) / engine;
* **floor**: a hand-written loop doing only what the learner must do for the same experiments: for every
  *distinct* labelled set the engine reached (replayed from its selections, so the same sets), build the estimator
  (``algrid.learners.make_learner``: the same learner code), ``fit``, ``predict`` the test rows, and
  ``predict_proba`` the pool rows when the strategy reads probabilities; for ``rf`` the forest is written out by
  hand on scikit-learn's Cython tree builder (the same trees; one splitter for all trees) with one traversal for
  test and pool rows. Plus the
  strategies' own ``select`` CPU from the instrumented run (strategy work is not the engine's). The floor's test
  accuracies are checked against the engine's curves (``floor_identical``). scikit-learn's per-call checks
  (parameters, NaN/inf scans) are skipped in the floor as in the engine (``algrid.engine.trusted``): a hand-written
  loop can skip them too.

Every learner is measured in ``--reps`` rounds; with ``--before PATH`` each round also runs the same child with
``PYTHONPATH=PATH`` (e.g. main's checkout), interleaved (after, before / before, after), and the curves and
selections of both are compared (``same_results``). Medians are reported; ratios per pair are in the JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GRID = HERE / "grids" / "bench.yaml"
DATASETS = "iris,wine,breast_cancer,pima,vehicle,xor_2x2"
STRATEGIES = "random,least_confidence,margin,entropy,coreset,density_weighted"


# ------------------------------------------------------------------------------------------------ child process


class _Probe:
    """CPU inside the outermost learner-wrapper and strategy calls (nested calls count once)."""

    def __init__(self) -> None:
        self.depth = 0
        self.learner_s = 0.0
        self.strategy_s = 0.0

    def wrap(self, fn: Any, bucket: str) -> Any:
        probe = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            if probe.depth:
                return fn(*args, **kwargs)
            probe.depth += 1
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(probe, bucket, getattr(probe, bucket) + time.process_time() - t0)
                probe.depth -= 1

        return timed


def _instrument() -> tuple[_Probe, Any]:
    import dataclasses

    import algrid.strategies as strategies
    from algrid.learners.al_classifier import AllClassesClassifier

    probe = _Probe()
    saved = {m: getattr(AllClassesClassifier, m) for m in ("fit", "predict", "predict_proba")}
    extra = {
        m: AllClassesClassifier.__dict__[m]
        for m in ("predict_and_proba",)
        if m in AllClassesClassifier.__dict__
    }
    for m, fn in {**saved, **extra}.items():
        setattr(AllClassesClassifier, m, probe.wrap(fn, "learner_s"))
    reg = strategies._registry()
    old = dict(reg)
    for pair, spec in old.items():
        if spec.select is not None:
            reg[pair] = dataclasses.replace(spec, select=probe.wrap(spec.select, "strategy_s"))

    def undo() -> None:
        for m, fn in {**saved, **extra}.items():
            setattr(AllClassesClassifier, m, fn)
        reg.clear()
        reg.update(old)

    return probe, undo


def _configs(args: argparse.Namespace, learner: str) -> tuple[list[dict], dict]:
    from algrid.grid.lazy import load_grid

    grid = load_grid(GRID)
    want = {
        "dataset": set(args.datasets.split(",")),
        "strategy": set(args.strategies.split(",")),
        "implementation": set(args.implementations.split(",")),
        "batch_size": {int(b) for b in str(args.batch).split(",")},
        "start": {int(s) for s in str(args.starts).split(",")},
        "learner": {"rf"},  # the grid's work groups, with the learner replaced below
    }
    configs = [c for c in grid.configs(grid.shard(0, 1)) if all(c[d] in v for d, v in want.items())]
    for c in configs:
        c["learner"] = learner
    settings = dict(grid.settings)
    if args.cycles:
        settings["cycles"] = int(args.cycles)
    return configs, settings


def _engine(configs: list[dict], settings: dict, instrument: bool) -> dict[str, Any]:
    from algrid.engine.cache import ModelCache
    from algrid.engine.loop import run_experiment

    probe, undo = _instrument() if instrument else (None, lambda: None)
    cache = ModelCache()
    results = []
    t0 = time.process_time()
    try:
        for cfg in configs:
            results.append(run_experiment(cfg, settings, exp_key="bench", cache=cache))
    finally:
        undo()
    cpu = time.process_time() - t0
    bad = [r.error for r in results if r.status != "ok"]
    if bad:
        raise RuntimeError(f"{len(bad)} experiments failed: {bad[0]}")
    out: dict[str, Any] = {"cpu_s": cpu, "results": results}
    if probe is not None:
        out.update(learner_s=probe.learner_s, strategy_s=probe.strategy_s)
    return out


def _digest(results: list[Any]) -> str:
    """Curves (every metric, exact) and selections of a run, as one hash."""
    h = hashlib.blake2b(digest_size=16)
    for r in results:
        rows = [{k: v for k, v in row.items() if k not in ("fit_s", "query_s")} for row in r.curve]
        h.update(json.dumps([rows, r.selected], sort_keys=True).encode())
    return h.hexdigest()


def _rf_floor(seed: int, X: Any, y: Any, X_eval: Any) -> Any:
    """A 100-tree forest written out on scikit-learn's Cython tree builder (the trees RandomForestClassifier
    builds), and one traversal of ``X_eval``: the compiled work a hand-written loop cannot avoid."""
    import numpy as np
    from sklearn.tree._criterion import Gini
    from sklearn.tree._splitter import BestSplitter
    from sklearn.tree._tree import DepthFirstTreeBuilder, Tree

    int32_max = np.iinfo(np.int32).max
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X32.shape
    classes, encoded = np.unique(y, return_inverse=True)
    y_col = np.ascontiguousarray(encoded.reshape(-1, 1), dtype=np.float64)
    n_classes = np.array([len(classes)], dtype=np.intp)
    max_features = max(1, int(np.sqrt(d)))
    seeds = np.random.RandomState(seed).randint(int32_max, size=100)
    rng = np.random.RandomState()
    E32 = np.ascontiguousarray(X_eval, dtype=np.float32)
    k = len(classes)
    proba = np.zeros((len(E32), k), dtype=np.float64)
    builder = DepthFirstTreeBuilder(
        BestSplitter(Gini(1, n_classes), max_features, 1, 0.0, rng, None), 2, 1, 0.0, int32_max, 0.0
    )
    for tree_seed in seeds.tolist():
        rng.seed(tree_seed)  # the bootstrap, then the splitter's seed: RandomForestClassifier's draws
        weight = np.bincount(rng.randint(0, n, n), minlength=n).astype(np.float64)
        rng.seed(tree_seed)
        tree = Tree(d, n_classes, 1)
        builder.build(tree, X32, y_col, weight, None)
        proba += tree.predict(E32)[:, :k]
    proba /= 100
    return classes, proba


def _floor(configs: list[dict], settings: dict, results: list[Any], learner: str) -> dict[str, Any]:
    """CPU of the hand-written loop over the distinct labelled sets of ``results`` (see the module docstring)."""
    import numpy as np

    from algrid.datasets import load_dataset

    try:
        from algrid.engine.seeds import _int_seed, seed_sequence
        from algrid.engine.split import pool_order, train_test_ids
    except ImportError:  # a checkout from before the engine's split into seeds/split (--before)
        from algrid.engine.loop import _int_seed, pool_order, seed_sequence, train_test_ids  # type: ignore
    from algrid.learners import make_learner
    from algrid.strategies import get_strategy

    # What to fit, prepared outside the clock: (dataset, labelled ids, needs proba, engine accuracy)
    jobs: dict[tuple, list] = {}
    for cfg, res in zip(configs, results, strict=True):
        ds = str(cfg["dataset"])
        needs = get_strategy(cfg["strategy"], cfg["implementation"]).needs_proba
        labelled: list[int] = []
        for c, picked in enumerate(res.selected):
            labelled = sorted(labelled + list(picked))
            key = (ds, tuple(labelled))
            queried = needs and c + 1 < len(
                res.selected
            )  # the engine scores the pool of every set it queries
            if key in jobs:
                jobs[key][0] = jobs[key][0] or queried
            else:
                jobs[key] = [queried, res.curve[c]["accuracy"], cfg]
    data = {}
    for ds in {k[0] for k in jobs}:
        d = load_dataset(ds)
        cfg = next(j[2] for k, j in jobs.items() if k[0] == ds)
        train, test = train_test_ids(ds, int(cfg["split"]), float(settings["test_size"]))
        order = pool_order(ds, int(cfg["split"]), float(settings["test_size"]), int(cfg["seed"]))
        seed = _int_seed(seed_sequence("learner", ds, int(cfg["split"]), learner, int(cfg["seed"])))
        data[ds] = (d.X, d.y, d.X[test], d.y[test], order, seed)
    plan = []
    for (ds, ids), (queried, acc, _) in jobs.items():
        X, y, X_test, y_test, order, seed = data[ds]
        lab = np.array(ids, dtype=np.int64)
        pool = order[~np.isin(order, lab)] if queried else None
        plan.append((X, y, X_test, y_test, lab, pool, seed, acc))

    same = 0
    from sklearn import config_context
    from threadpoolctl import threadpool_limits

    limit = threadpool_limits(1)  # one BLAS/OpenMP thread, as the engine runs its learners
    # scikit-learn's per-call checks of constant parameters and finite data are avoidable work, skipped here as
    # the engine skips them for built-in learners (algrid.engine.trusted)
    checks = config_context(skip_parameter_validation=True, assume_finite=True)
    checks.__enter__()
    t0 = time.process_time()
    for X, y, X_test, y_test, lab, pool, seed, acc in plan:
        X_lab, y_lab = X[lab], y[lab]
        if len(np.unique(y_lab)) < 2:  # one class: a constant model, no library work
            pred = np.full(len(y_test), y_lab[0])
        elif learner == "rf":
            X_eval = X_test if pool is None else np.concatenate([X_test, X[pool]])
            classes, proba = _rf_floor(seed % 2**32, X_lab, y_lab, X_eval)
            pred = classes[np.argmax(proba[: len(X_test)], axis=1)]
        else:
            est = make_learner(learner, seed)
            if getattr(est, "n_neighbors", 0) > len(y_lab):
                est.set_params(n_neighbors=len(y_lab))
            est.fit(X_lab, y_lab)
            pred = est.predict(X_test)
            if pool is not None:
                est.predict_proba(X[pool])
        same += float(np.mean(pred == y_test)) == acc
    cpu = time.process_time() - t0
    checks.__exit__(None, None, None)
    limit.restore_original_limits()
    return {"cpu_s": cpu, "fits": len(plan), "identical_accuracy": same}


def child(args: argparse.Namespace) -> dict[str, Any]:
    import algrid
    from algrid.datasets import load_dataset
    from algrid.execute.worker import freeze_imports

    configs, settings = _configs(args, args.child)
    for name in sorted({c["dataset"] for c in configs}):
        load_dataset(name)
    freeze_imports()
    import algrid.engine.loop as loop

    if hasattr(loop, "hold_one_thread"):  # as a worker process does (older checkouts set it per experiment)
        loop.hold_one_thread()
    _engine(configs[:1], settings, instrument=False)  # imports, the fast forest's self-check: off the clock
    plain = _engine(configs, settings, instrument=False)
    floor = _floor(configs, settings, plain["results"], args.child)
    inst = _engine(configs, settings, instrument=True)
    digest = _digest(plain["results"])
    if _digest(inst["results"]) != digest:
        raise RuntimeError("instrumented run gave other results")
    overhead = (inst["cpu_s"] - inst["learner_s"] - inst["strategy_s"]) / inst["cpu_s"]
    floor_s = floor["cpu_s"] + inst["strategy_s"]
    return {
        "algrid": str(Path(algrid.__file__).parent),
        "learner": args.child,
        "experiments": len(configs),
        "engine_cpu_s": plain["cpu_s"],
        "instrumented_cpu_s": inst["cpu_s"],
        "learner_cpu_s": inst["learner_s"],
        "strategy_cpu_s": inst["strategy_s"],
        "loop_overhead": overhead,
        "floor_learner_cpu_s": floor["cpu_s"],
        "floor_cpu_s": floor_s,
        "floor_fits": floor["fits"],
        "floor_identical": floor["identical_accuracy"],
        "ratio": plain["cpu_s"] / floor_s,
        "digest": digest,
    }


# ----------------------------------------------------------------------------------------------- parent process


def _spawn(args: argparse.Namespace, learner: str, path: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", learner]
    for opt in ("datasets", "strategies", "implementations", "batch", "starts", "cycles"):
        cmd += [f"--{opt}", str(getattr(args, opt))]
    env = {**os.environ, "PYTHONPATH": path, "ALGRID_CACHE": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd="/tmp")
    if done.returncode != 0:
        raise RuntimeError(f"{learner} @ {path}: {done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(out["algrid"]).resolve() != (Path(path) / "algrid").resolve():
        raise RuntimeError(f"child imported {out['algrid']}, not {path}")
    return out


def _learners(spec: str) -> list[str]:
    from algrid.learners import BUILTIN_LEARNERS, learner_names
    from algrid.learners.catalog import unavailable_reason

    names = [n for n in learner_names() if n in BUILTIN_LEARNERS] if spec == "all" else spec.split(",")
    return [n for n in names if not unavailable_reason(n)]


def _summary(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", default="all", help="comma list, or all (every built-in learner available)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--before", default="", help="another algrid checkout (e.g. /work/main) to compare with")
    ap.add_argument("--datasets", default=DATASETS)
    ap.add_argument("--strategies", default=STRATEGIES)
    ap.add_argument("--implementations", default="native")
    ap.add_argument("--batch", default="10")
    ap.add_argument("--starts", default="0")
    ap.add_argument("--cycles", type=int, default=0, help="override the grid's cycles (0: the grid's 30)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0

    sys.path.insert(0, str(HERE))
    from machine import machine_info

    after = str(ROOT)
    sides = {"after": after} | ({"before": args.before} if args.before else {})
    runs: dict[str, dict[str, list[dict]]] = {}
    for rep in range(args.reps):
        for learner in _learners(args.learners):
            order = list(sides) if rep % 2 == 0 else list(reversed(sides))
            for side in order:
                r = _spawn(args, learner, sides[side])
                runs.setdefault(learner, {}).setdefault(side, []).append(r)
                print(
                    f"rep {rep + 1} {learner:<10} {side:<6} engine {r['engine_cpu_s']:7.2f} floor "
                    f"{r['floor_cpu_s']:7.2f} ratio {r['ratio']:.3f} overhead {r['loop_overhead']:6.2%} "
                    f"floor check {r['floor_identical']}/{r['floor_fits']}",
                    file=sys.stderr,
                    flush=True,
                )
        table = _table(runs)
        if args.out:  # after every round: a stopped benchmark keeps its finished rounds
            args.out.parent.mkdir(parents=True, exist_ok=True)
            payload = {"machine": machine_info(), "args": vars(args) | {"out": str(args.out)}}
            payload |= {"rounds": rep + 1, "table": table, "runs": runs}
            args.out.write_text(json.dumps(payload, indent=1, default=str))
    _print_table(_table(runs))
    return 0


def _table(runs: dict[str, dict[str, list[dict]]]) -> dict[str, dict[str, Any]]:
    """Medians per learner over the rounds finished on every side, and the ratios per interleaved pair."""
    table = {}
    for learner, by_side in runs.items():
        done = min(len(v) for v in by_side.values())
        by_side = {side: v[:done] for side, v in by_side.items()}
        a = by_side["after"]
        if not a:
            continue
        row = {
            "experiments": a[0]["experiments"],
            "floor_fits": a[0]["floor_fits"],
            "floor_identical": a[0]["floor_identical"],
            "engine_cpu_s": _summary(a, "engine_cpu_s"),
            "floor_cpu_s": _summary(a, "floor_cpu_s"),
            "ratio": _summary(a, "ratio"),
            "ratio_runs": [r["ratio"] for r in a],
            "loop_overhead": _summary(a, "loop_overhead"),
            "loop_overhead_runs": [r["loop_overhead"] for r in a],
        }
        if "before" in by_side:
            b = by_side["before"]
            row.update(
                before_engine_cpu_s=_summary(b, "engine_cpu_s"),
                before_ratio=_summary(b, "ratio"),
                before_loop_overhead=_summary(b, "loop_overhead"),
                speedup_runs=[x["engine_cpu_s"] / y["engine_cpu_s"] for x, y in zip(b, a, strict=True)],
                same_results=all(x["digest"] == a[0]["digest"] for x in a + b),
            )
            row["speedup"] = statistics.median(row["speedup_runs"])
        table[learner] = row
    return table


def _print_table(table: dict[str, dict[str, Any]]) -> None:
    print("| learner | engine CPU-s | floor CPU-s | engine / floor | loop overhead | before: engine CPU-s | "
          "before: engine / floor | before: overhead | speed-up (before / after) | same results |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for learner, row in table.items():
        before = (
            f"{row['before_engine_cpu_s']:.2f} | {row['before_ratio']:.2f}x | {row['before_loop_overhead']:.1%} | "
            f"{row['speedup']:.2f}x | {'yes' if row['same_results'] else 'NO'}"
            if "before_ratio" in row
            else "- | - | - | - | -"
        )
        print(
            f"| {learner} | {row['engine_cpu_s']:.2f} | {row['floor_cpu_s']:.2f} | {row['ratio']:.2f}x | "
            f"{row['loop_overhead']:.1%} | {before} |"
        )


if __name__ == "__main__":
    raise SystemExit(main())
