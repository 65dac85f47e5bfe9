"""``benchmarks/run.py --peers``: algrid against what a researcher would run with stock libraries (issue 19).

One invocation exports the peer grid once (``export.py``), then runs, ``reps`` times in interleaved rounds
(algrid, a, b, c, d, algrid, a, ...; a load that drifts over time biases nobody), ``algrid run --jobs 2`` and the
four peer scripts (each ``joblib.Parallel(n_jobs=2)`` over experiments), every command measured as the CPU of its
whole process tree from a fresh cgroup (``benchmarks/meter.py``). Reported: median CPU per side, the ratio
peer / algrid of each interleaved pair and of the medians, and how many learning curves (test accuracy per cycle)
are identical to algrid's, per learner.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
PEER_GRID = BENCH / "grids" / "peers.yaml"
#: script -> what a researcher would run instead of algrid
PEERS = {
    "peer_sklearn.py": "one process, joblib.Parallel(n_jobs=2) over experiments, stock scikit-learn, hand-written loop",
    "peer_skactiveml.py": "a plain scikit-activeml loop (UncertaintySampling, SklearnClassifier)",
    "peer_smalltext.py": "small-text PoolBasedActiveLearner",
    "peer_modal.py": "modAL query functions on your own fitted estimator (its teach fails on scikit-learn >= 1.8)",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def peer_grid(work: Path, starts: int, batches: list[int] | None = None) -> Path:
    """The peer grid with start sets 0..starts-1 (and only ``batches``, if given)."""
    doc = yaml.safe_load(PEER_GRID.read_text())
    doc["dimensions"]["start"] = list(range(starts))
    if batches:
        doc["dimensions"]["batch_size"] = list(batches)
    path = work / "peers.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def algrid_curves(store: Path) -> dict[str, list[float]]:
    from algrid.store import Store

    cur = Store.open(store).curves(columns=["exp_key", "cycle", "accuracy"]).to_pydict()
    out: dict[str, dict[int, float]] = {}
    for k, c, a in zip(cur["exp_key"], cur["cycle"], cur["accuracy"], strict=True):
        out.setdefault(k, {})[int(c)] = float(a)
    return {k: [v[c] for c in sorted(v)] for k, v in out.items()}


def agreement(ours: dict[str, list[float]], theirs: dict[str, dict], learner_of: dict[str, str]) -> dict:
    """Identical accuracy curves (same length, equal to 1e-6), overall and per learner."""
    res: dict[str, Any] = {"compared": 0, "identical_curves": 0, "per_learner": {}}
    for key, curve in ours.items():
        other = theirs.get(key)
        if other is None:
            continue
        same = len(curve) == len(other["accuracy"]) and bool(
            np.allclose(curve, np.asarray(other["accuracy"], dtype=np.float32), atol=1e-6)
        )
        per = res["per_learner"].setdefault(learner_of[key], {"compared": 0, "identical_curves": 0})
        for bucket in (res, per):
            bucket["compared"] += 1
            bucket["identical_curves"] += same
    return res


def run_peers(
    work: Path,
    reps: int,
    starts: int,
    batches: list[int] | None = None,
    jobs: int = 2,
    checkpoint: Callable[[dict], None] | None = None,
) -> dict:
    """``reps`` interleaved rounds; after each round ``checkpoint`` gets the summary so far (a long run stopped
    early still leaves its finished rounds)."""
    from export import export  # noqa: PLC0415 - benchmarks/peers is on sys.path (run.py puts it there)
    from meter import TreeMeter

    grid = peer_grid(work, starts, batches)
    doc = export(grid, work / "export")
    learner_of = {e["exp_key"]: e["learner"] for e in doc["experiments"]}
    meter = TreeMeter()
    sides: dict[str, list[dict]] = {"algrid": [], **{p: [] for p in PEERS}}
    curves: dict[str, Any] = {}
    for r in range(reps):
        store = work / f"store-{r}"
        cmd = [sys.executable, "-m", "algrid", "run", str(grid), "--jobs", str(jobs), "--store", str(store),
               "--no-progress", "--json"]  # fmt: skip
        m = meter.run(cmd)
        if m.returncode != 0:
            raise RuntimeError(f"algrid run failed ({m.returncode}): {m.stderr[-2000:]}")
        sides["algrid"].append({"cpu_s": m.cpu_s, "wall_s": m.wall_s, "cpu_method": m.cpu_method})
        curves["algrid"] = algrid_curves(store)
        log(f"algrid --jobs {jobs} #{r + 1}: cpu {m.cpu_s:.1f}s wall {m.wall_s:.1f}s")
        for script in PEERS:
            out = work / f"{script}-{r}.json"
            m = meter.run([sys.executable, str(HERE / script), str(work / "export"), "--out", str(out),
                           "--jobs", str(jobs)])  # fmt: skip
            if m.returncode != 0:
                raise RuntimeError(f"{script} failed ({m.returncode}): {m.stderr[-2000:]}")
            sides[script].append({"cpu_s": m.cpu_s, "wall_s": m.wall_s, "cpu_method": m.cpu_method})
            curves[script] = json.loads(out.read_text())["curves"]
            log(f"{script} #{r + 1}: cpu {m.cpu_s:.1f}s wall {m.wall_s:.1f}s")
        if checkpoint is not None:
            checkpoint(summarize(doc, sides, curves, learner_of, starts, batches, r + 1, jobs))
    return summarize(doc, sides, curves, learner_of, starts, batches, reps, jobs)


def summarize(
    doc: dict,
    sides: dict[str, list[dict]],
    curves: dict[str, Any],
    learner_of: dict[str, str],
    starts: int,
    batches: list[int] | None,
    reps: int,
    jobs: int,
) -> dict:
    """Medians, per-pair ratios and curve agreement of the ``reps`` finished rounds."""
    med = statistics.median
    a_cpu = [x["cpu_s"] for x in sides["algrid"]]
    res: dict[str, Any] = {
        "experiments": len(doc["experiments"]),
        "starts": starts,
        "batches": batches or "all",
        "reps": reps,
        "jobs": jobs,
        "algrid": {
            "median_cpu_s": med(a_cpu),
            "median_wall_s": med(x["wall_s"] for x in sides["algrid"]),
            "runs": sides["algrid"],
        },  # fmt: skip
        "peers": {},
    }
    for script, what in PEERS.items():
        p_cpu = [x["cpu_s"] for x in sides[script]]
        res["peers"][script] = {
            "what": what,
            "median_cpu_s": med(p_cpu),
            "median_wall_s": med(x["wall_s"] for x in sides[script]),
            "ratio_cpu": med(p_cpu) / med(a_cpu),
            "pair_ratios_cpu": [p / a for p, a in zip(p_cpu, a_cpu, strict=True)],
            "agreement": agreement(curves["algrid"], curves[script], learner_of),
            "runs": sides[script],
        }
    best = min(res["peers"], key=lambda s: res["peers"][s]["median_cpu_s"])
    res["best_peer"] = best
    res["ratio_vs_best_peer"] = res["peers"][best]["ratio_cpu"]
    return res


def markdown(res: dict) -> str:
    lines = [
        f"{res['experiments']} experiments, medians of {res['reps']} interleaved rounds, `--jobs {res['jobs']}` / "
        f"`n_jobs={res['jobs']}` on every side; algrid median {res['algrid']['median_cpu_s']:.1f} CPU-s.",
        "",
        "| what a researcher would run instead | its CPU-s (median) | algrid's advantage, CPU (median; per pair) "
        "| identical curves: rf | lr |",
        "|---|---|---|---|---|",
    ]
    for p in res["peers"].values():
        pl = p["agreement"]["per_learner"]
        cells = [
            f"{pl[lr]['identical_curves']}/{pl[lr]['compared']}" if lr in pl else "-" for lr in ("rf", "lr")
        ]
        pairs = ", ".join(f"{x:.2f}" for x in p["pair_ratios_cpu"])
        lines.append(
            f"| {p['what']} | {p['median_cpu_s']:.1f} | **{p['ratio_cpu']:.2f}x** ({pairs}) | {cells[0]} | {cells[1]} |"
        )
    return "\n".join(lines)
