"""Measure the per-cycle cost model that `algrid grid estimate` ships (algrid/cost/calibration.json).

Why a fitted model and not a lookup table: a paper-scale grid crosses ~100 datasets (100 to 20,000 rows) with
labelled sets that grow every cycle, so the estimate needs cost as a *function* of rows, features, classes, pool
size and batch size. We time the real pieces of one AL cycle on synthetic data (CPU seconds, one thread):

* learner fit on n labelled rows (n, d features, k classes)   -> ``fit = a + b * n^n * d^d * k^k``
* learner predict_proba on m rows after a fit on n rows       -> ``predict = a + b * m * n^n * d^d``
* strategy ``select`` over a pool of p rows for a batch of b  -> ``query = a + b * p^p * batch^batch * d^d * k^k``
  plus ``learner_work`` x (one fit on the labelled set + one predict over the pool) for strategies that fit
  models of their own (committees, oracle candidates, discriminators, expected error reduction).

Usage::

    python benchmarks/calibrate.py [--learners rf,svm_rbf] [--strategies all|none|margin@native,...] [--out FILE]

Without --out it rewrites algrid/cost/calibration.json, keeping entries it did not re-measure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

# One thread per process, as algrid's workers run: a BLAS/OpenMP pool that spins on tiny matrices multiplies the
# CPU time of small fits (measured: logistic regression 10-50x on 2 cores).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.optimize import least_squares  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "algrid" / "estimate_calibration.json"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine_info  # noqa: E402

FIT_N = (8, 32, 128, 512, 2048)
FIT_D = (2, 16, 64)
FIT_K = (2, 6)
PRED_M = (500, 5000)
Q_POOL = (250, 1000, 4000)
Q_BATCH = (1, 10)
Q_D = (4, 32)
Q_K = (2, 5)
Q_LABELED = 40


def _data(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian classes with 10% label noise, every class present, float64 like the loader's output.

    Why hard data: on well-separated blobs an SVM keeps a handful of support vectors and trees stay shallow, so
    costs measured there grow far slower with n than on real tabular data (checked against paper-scale runs).
    """
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    rng.shuffle(y)
    centers = rng.normal(scale=1.0, size=(k, d)) / np.sqrt(max(d, 1) / 4.0)
    X = centers[y] + rng.normal(size=(n, d))
    noisy = rng.random(n) < 0.1
    y = np.where(noisy, rng.integers(0, k, n), y)
    y[:k] = np.arange(k)  # keep every class present
    return X, y.astype(np.int64)


def _cpu(fn, min_time: float = 0.05, max_reps: int = 20) -> float:
    """Median CPU seconds of ``fn()`` over enough repetitions to exceed ``min_time`` in total."""
    times: list[float] = []
    total = 0.0
    while len(times) < 3 or (total < min_time and len(times) < max_reps):
        t0 = time.process_time()
        fn()
        dt = time.process_time() - t0
        times.append(dt)
        total += dt
    return float(np.median(times))


def fit_power_law(X: dict[str, np.ndarray], t: np.ndarray, names: list[str]) -> dict[str, float]:
    """Least squares in log space for ``t = a + b * prod(X[v]^e_v)`` (a, b >= 0)."""
    t = np.maximum(np.asarray(t, dtype=np.float64), 1e-7)
    logs = {v: np.log(np.asarray(X[v], dtype=np.float64)) for v in names}

    def model(p: np.ndarray) -> np.ndarray:
        la, lb, *e = p
        return np.exp(la) + np.exp(lb + sum(ei * logs[v] for ei, v in zip(e, names, strict=True)))

    def resid(p: np.ndarray) -> np.ndarray:
        return np.log(model(p)) - np.log(t)

    bounds = ([-25.0, -40.0, *([-0.5] * len(names))], [5.0, 10.0, *([3.0] * len(names))])
    best = None
    for frac in (0.0, 0.5, 0.9):  # starts: no floor, half and most of the smallest time as the floor
        floor = t.min() * frac
        A = np.column_stack([np.ones_like(t), *(logs[v] for v in names)])
        coef, *_ = np.linalg.lstsq(A, np.log(np.maximum(t - floor, t.min() * 0.05)), rcond=None)
        p0 = np.array([np.log(max(floor, 1e-9)), coef[0], *coef[1:]])
        p0 = np.clip(p0, np.array(bounds[0]) + 1e-6, np.array(bounds[1]) - 1e-6)
        fit = least_squares(resid, p0, bounds=bounds, loss="soft_l1", f_scale=0.2)
        if best is None or fit.cost < best.cost:
            best = fit
    fit = best
    la, lb, *e = fit.x
    out = {"a": float(np.exp(la)), "b": float(np.exp(lb))}
    out.update({v: round(float(ei), 4) for v, ei in zip(names, e, strict=True)})
    rel = np.exp(np.abs(resid(fit.x)))
    out["median_rel_error"] = round(float(np.median(rel) - 1.0), 4)
    return out


def measure_learner(name: str, seed: int = 0) -> dict[str, Any]:
    """Fit and predict costs of one learner (as the loop wraps it) over the design grid."""
    from algrid.learners import make_al_learner

    fit_rows: dict[str, list[float]] = {"n": [], "d": [], "k": [], "t": []}
    pred_rows: dict[str, list[float]] = {"m": [], "n": [], "d": [], "t": []}
    for d in FIT_D:
        for k in FIT_K:
            Xp, _ = _data(max(PRED_M), d, k, seed + 1)
            for n in FIT_N:
                X, y = _data(n, d, k, seed)
                classes = np.arange(k)
                model = make_al_learner(name, seed, classes)

                def fit(model=model, X=X, y=y):
                    model.fit(X, y)

                fit_rows["n"].append(n)
                fit_rows["d"].append(d)
                fit_rows["k"].append(k)
                fit_rows["t"].append(_cpu(fit))
                if k == FIT_K[0]:
                    for m in PRED_M:
                        Xm = Xp[:m]
                        pred_rows["m"].append(m)
                        pred_rows["n"].append(n)
                        pred_rows["d"].append(d)
                        pred_rows["t"].append(_cpu(lambda model=model, Xm=Xm: model.predict_proba(Xm)))
    fit_law = fit_power_law(
        {k: np.array(v) for k, v in fit_rows.items()}, np.array(fit_rows["t"]), ["n", "d", "k"]
    )
    # predict cost = per-call constant + rows x per-row cost (which depends on the fitted model's size)
    pr = {k: np.array(v, dtype=np.float64) for k, v in pred_rows.items()}
    lo, hi = pr["m"] == min(PRED_M), pr["m"] == max(PRED_M)
    per_row = np.maximum((pr["t"][hi] - pr["t"][lo]) / (max(PRED_M) - min(PRED_M)), 1e-9)
    pred_law = fit_power_law({"n": pr["n"][hi], "d": pr["d"][hi]}, per_row, ["n", "d"])
    pred_law["call"] = float(max(np.median(pr["t"][lo] - per_row * min(PRED_M)), 0.0))
    return {"fit": fit_law, "predict": pred_law, "points": len(fit_rows["t"]) + len(pred_rows["t"])}


def _query_ctx(spec, learner: str, p: int, b: int, d: int, k: int, seed: int):
    from algrid.learners import make_al_learner
    from algrid.strategies.base import QueryContext

    X, y = _data(p + Q_LABELED, d, k, seed)
    Xl, yl, Xp, yp = X[:Q_LABELED], y[:Q_LABELED], X[Q_LABELED:], y[Q_LABELED:]
    classes = np.arange(k)
    model = make_al_learner(learner, seed, classes).fit(Xl, yl)
    Xt, yt = _data(200, d, k, seed + 7)

    def make(s: int):
        return make_al_learner(learner, s, classes)

    def evaluate(positions: np.ndarray) -> float:
        m = make(seed).fit(np.vstack([Xl, Xp[positions]]), np.concatenate([yl, yp[positions]]))
        return float((m.predict(Xt) == yt).mean())

    def build() -> QueryContext:
        ctx = QueryContext(
            model=model,
            X_pool=Xp,
            X_labeled=Xl,
            y_labeled=yl,
            classes=classes,
            batch_size=b,
            rng=np.random.default_rng(seed),
            seed=seed,
            make_learner=make,
            proba_pool=None,
        )
        if spec.uses_oracle:
            ctx.oracle_labels = yp
            ctx.evaluate = evaluate
        return ctx

    proba = model.predict_proba(Xp) if spec.needs_proba else None
    return build, proba, model


def measure_strategy(spec, seed: int = 0, budget_s: float = 8.0) -> dict[str, Any] | None:
    """Query cost of one (strategy, implementation) pair; learner_work from gnb (cheap) vs rf (costly) fits."""
    rows: dict[str, list[float]] = {"p": [], "batch": [], "d": [], "k": [], "t": []}
    work_gap: list[tuple[float, int]] = []
    started = time.process_time()
    for k in Q_K:
        if spec.binary_only and k != 2:
            continue
        for d in Q_D:
            for p in Q_POOL:
                for b in Q_BATCH:
                    if time.process_time() - started > budget_s and p > Q_POOL[0]:
                        continue  # an expensive strategy: keep the small points only

                    def timed(learner: str, p=p, b=b, d=d, k=k) -> float:
                        build, proba, _ = _query_ctx(spec, learner, p, b, d, k, seed)

                        def call():
                            ctx = build()
                            ctx.proba_pool = proba
                            np.random.seed(seed)
                            spec.select(ctx)

                        return _cpu(call, min_time=0.02, max_reps=5)

                    t_cheap = timed("gnb")
                    rows["p"].append(p)
                    rows["batch"].append(b)
                    rows["d"].append(d)
                    rows["k"].append(k)
                    rows["t"].append(t_cheap)
                    if p == Q_POOL[1] and d == Q_D[0] and (spec.uses_oracle or _fits_models(spec)):
                        work_gap.append((timed("rf") - t_cheap, k))
    names = ["p", "batch", "d"] + (["k"] if len(set(rows["k"])) > 1 else [])
    law = fit_power_law({k: np.array(v) for k, v in rows.items()}, np.array(rows["t"]), names)
    law.setdefault("k", 0.0)
    law["learner_work"] = 0.0
    law["learner_work_k"] = 0.0
    if work_gap:
        law["learner_work"], law["learner_work_k"] = _learner_work(work_gap)
    law["needs_proba"] = bool(spec.needs_proba)
    return law


def _fits_models(spec) -> bool:
    """Strategies whose cost depends on the learner (they fit or query extra models)."""
    return any(
        s in spec.name for s in ("qbc", "oracle", "expected_error", "eer", "discriminative", "dal", "badge")
    )


def _learner_work(gaps: list[tuple[float, int]]) -> tuple[float, float]:
    """Learner work of one query, in units of (rf fit on the labelled set + rf predict over the pool).

    From the rf-minus-gnb time gap, per number of classes k: returns (units at k=2, exponent in k/2), because
    strategies such as expected error reduction fit one model per candidate label.
    """
    from algrid.learners import make_al_learner

    per_k: dict[int, float] = {}
    for k in sorted({k for _, k in gaps}):
        X, y = _data(Q_LABELED, Q_D[0], k, 0)
        Xp, _ = _data(Q_POOL[1], Q_D[0], k, 1)
        rf = make_al_learner("rf", 0, np.arange(k))
        unit = _cpu(lambda rf=rf, X=X, y=y: rf.fit(X, y), min_time=0.1)
        unit += _cpu(lambda rf=rf, Xp=Xp: rf.predict_proba(Xp), min_time=0.1)
        per_k[k] = max(float(np.median([g for g, kk in gaps if kk == k])) / unit, 0.0)
    ks = sorted(per_k)
    base = per_k[ks[0]]
    exponent = 0.0
    if len(ks) > 1 and base > 0 and per_k[ks[-1]] > 0:
        exponent = float(np.log(per_k[ks[-1]] / base) / np.log(ks[-1] / ks[0]))
    return round(base, 3), round(min(max(exponent, 0.0), 2.0), 3)


def loop_overhead() -> dict[str, float]:
    """CPU seconds the loop spends outside learner and strategy per cycle (metrics, bookkeeping)."""
    from algrid.engine.metrics import classification_metrics

    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 2000)
    p = rng.integers(0, 5, 2000)
    per_cycle = _cpu(lambda: classification_metrics(y, p, 5), min_time=0.1, max_reps=200)
    return {"per_cycle": round(per_cycle + 2e-4, 6), "per_experiment": 0.01}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", default="all")
    ap.add_argument("--strategies", default="all", help="all | none | comma list of name@implementation")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from algrid.learners import learner_names
    from algrid.strategies import all_strategies

    out = Path(args.out)
    calib: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    calib.setdefault("version", 1)
    calib.setdefault("learners", {})
    calib.setdefault("strategies", {})
    learners = learner_names() if args.learners == "all" else args.learners.split(",")
    if args.learners != "none":
        for name in learners:
            t0 = time.perf_counter()
            calib["learners"][name] = measure_learner(name)
            print(
                f"learner {name}: {time.perf_counter() - t0:.1f}s {calib['learners'][name]['fit']}",
                flush=True,
            )
    if args.strategies != "none":
        wanted = None if args.strategies == "all" else set(args.strategies.split(","))
        for spec in all_strategies():
            key = f"{spec.name}@{spec.implementation}"
            if not spec.available or (wanted is not None and key not in wanted):
                continue
            t0 = time.perf_counter()
            try:
                calib["strategies"][key] = measure_strategy(spec)
            except Exception as exc:  # noqa: BLE001 - report and keep calibrating the others
                print(f"strategy {key}: FAILED {type(exc).__name__}: {exc}", flush=True)
                continue
            print(f"strategy {key}: {time.perf_counter() - t0:.1f}s {calib['strategies'][key]}", flush=True)
    calib["overhead"] = loop_overhead()
    calib["machine"] = machine_info()
    calib["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    calib["command"] = "python benchmarks/calibrate.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    out.write_text(json.dumps(calib, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
