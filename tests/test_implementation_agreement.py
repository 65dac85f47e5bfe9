"""Same model, same pool: do margin, least_confidence and entropy pick the same first batch in every implementation?

One logistic regression (no probability ties) is fit on a start set of a shipped binary (breast_cancer) and a
multiclass (wine) dataset; each implementation's strategy picks the first batch of 10 from the rest. Implementations
of the same concept must agree exactly; on a binary problem the three concepts are monotone transforms of the top
probability, so all fifteen batches must coincide. ``python tests/test_implementation_agreement.py [rf]`` prints the
Jaccard matrices (reproduced in docs/implementations.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from algrid.datasets import load_dataset
from algrid.learners import make_al_learner
from algrid.strategies import IMPLEMENTATIONS, QueryContext, get_strategy

STRATEGIES = ("margin", "least_confidence", "entropy")
BATCH = 10
#: Implementations that run the three concepts here (libact's are listed but cannot be installed).
RUNNABLE = tuple(impl for impl in IMPLEMENTATIONS if get_strategy("margin", impl).available)


def first_batches(
    dataset: str, learner: str = "lr", per_class: int = 3, seed: int = 0
) -> dict[str, np.ndarray]:
    """``{"strategy@implementation": first batch (sorted pool positions)}`` for one fitted model."""
    data = load_dataset(dataset)
    X, y = data.X, data.y
    classes = np.unique(y)
    rng = np.random.default_rng(seed)
    lab = np.sort(
        np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes])
    )
    pool = np.setdiff1d(np.arange(len(y)), lab)
    model = make_al_learner(learner, seed, classes).fit(X[lab], y[lab])
    proba = model.predict_proba(X[pool])
    batches = {}
    for name in STRATEGIES:
        for impl in RUNNABLE:
            spec = get_strategy(name, impl)
            ctx = QueryContext(
                model=model,
                X_pool=X[pool],
                X_labeled=X[lab],
                y_labeled=y[lab],
                classes=classes,
                batch_size=BATCH,
                rng=np.random.default_rng(seed),
                seed=seed,
                make_learner=lambda s: make_al_learner(learner, s, classes),
                proba_pool=proba,
            )
            np.random.seed(seed)
            batches[f"{name}@{impl}"] = np.sort(spec.select(ctx))
    return batches


def jaccard_matrix(batches: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    labels = list(batches)
    m = np.empty((len(labels), len(labels)))
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            sa, sb = set(batches[a].tolist()), set(batches[b].tolist())
            m[i, j] = len(sa & sb) / len(sa | sb)
    return labels, m


def markdown(labels: list[str], m: np.ndarray) -> str:
    short = [lab.replace("least_confidence", "lc").replace("@", " ") for lab in labels]
    lines = ["| | " + " | ".join(short) + " |", "|---" * (len(labels) + 1) + "|"]
    for lab, row in zip(short, m, strict=True):
        lines.append(f"| {lab} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    return "\n".join(lines)


@pytest.fixture(scope="module", params=["breast_cancer", "wine"])
def batches(request):
    return request.param, first_batches(request.param)


def test_each_concept_agrees_across_all_implementations(batches):
    dataset, b = batches
    for name in STRATEGIES:
        picks = {impl: b[f"{name}@{impl}"] for impl in RUNNABLE}
        ref = picks["native"]
        assert len(ref) == BATCH
        for impl, got in picks.items():
            assert np.array_equal(got, ref), f"{dataset}: {name} differs between native and {impl}"


def test_binary_concepts_coincide_and_multiclass_concepts_differ(batches):
    dataset, b = batches
    labels, m = jaccard_matrix(b)
    if dataset == "breast_cancer":
        # lc, margin and entropy all rank by max probability when there are two classes
        assert np.all(m == 1.0)
    else:
        i, j = labels.index("margin@native"), labels.index("entropy@native")
        assert m[i, j] < 1.0, (
            "on wine margin and entropy should pick different batches (else the test is blind)"
        )


def test_model_has_no_ties_at_the_batch_boundary(batches):
    """The agreement assertions are only meaningful without ties around the k-th score."""
    dataset, _ = batches
    data = load_dataset(dataset)
    classes = np.unique(data.y)
    rng = np.random.default_rng(0)
    lab = np.sort(
        np.concatenate([rng.choice(np.flatnonzero(data.y == c), 3, replace=False) for c in classes])
    )
    pool = np.setdiff1d(np.arange(len(data.y)), lab)
    proba = make_al_learner("lr", 0, classes).fit(data.X[lab], data.y[lab]).predict_proba(data.X[pool])
    top = np.sort(proba.max(axis=1))
    assert top[BATCH] - top[BATCH - 1] > 1e-9


if __name__ == "__main__":
    import sys

    # ``python tests/test_implementation_agreement.py [LEARNER ...]``: lr (no ties) by default; rf shows tie-breaking
    for learner in sys.argv[1:] or ["lr"]:
        for ds in ("breast_cancer", "wine"):
            labels, m = jaccard_matrix(first_batches(ds, learner=learner))
            print(f"\n{ds} (learner {learner}, 3 labelled per class, batch {BATCH})\n")
            print(markdown(labels, m))


# ------------------------------------------------------------------ analysis/implementation_agreement.py on a store


def _write_store(path):
    """A schema-1 store built with pyarrow: margin run by native and modal on two settings, random by native only.

    Setting seed=0: both implementations pick {1,2} then {3,4} / {3,5}; seed=1: {1,2} vs {1,3}, then {4} vs {4}.
    f1_weighted_aulc: native 0.80 / 0.70, modal 0.75 / 0.60 (diff +0.05 / +0.10 -> mean +0.075).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [  # (exp_key, strategy, implementation, seed, status, aulc)
        ("k1", "margin", "native", 0, "ok", 0.80),
        ("k2", "margin", "modal", 0, "ok", 0.75),
        ("k3", "margin", "native", 1, "ok", 0.70),
        ("k4", "margin", "modal", 1, "ok", 0.60),
        ("k5", "random", "native", 0, "ok", 0.50),
        ("k6", "margin", "smalltext", 1, "failed", None),
    ]
    n = len(rows)
    dictionary = lambda values: pa.array(values).dictionary_encode()  # noqa: E731
    runs = pa.table(
        {
            "exp_key": [r[0] for r in rows],
            "exp_index": pa.array(range(n), pa.int64()),
            "dataset": dictionary(["iris"] * n),
            "strategy": dictionary([r[1] for r in rows]),
            "implementation": dictionary([r[2] for r in rows]),
            "batch_size": pa.array([2] * n, pa.int32()),
            "initial_pool": dictionary(["per_class:1"] * n),
            "learner": dictionary(["lr"] * n),
            "split": pa.array([0] * n, pa.int32()),
            "start": pa.array([0] * n, pa.int32()),
            "seed": pa.array([r[3] for r in rows], pa.int32()),
            "status": dictionary([r[4] for r in rows]),
            "error": [None if r[4] == "ok" else "ValueError: boom" for r in rows],
            "f1_weighted_aulc": pa.array([r[5] for r in rows], pa.float32()),
        }
    )
    selected = {
        "k1": [[0, 9], [1, 2], [3, 4]],
        "k2": [[0, 9], [1, 2], [3, 5]],
        "k3": [[0, 9], [1, 2], [4]],
        "k4": [[0, 9], [1, 3], [4]],
        "k5": [[0, 9], [7, 8], [6, 5]],
    }
    keys, cycles, sel = [], [], []
    for key, per_cycle in selected.items():
        for c, s in enumerate(per_cycle):
            keys.append(key)
            cycles.append(c)
            sel.append(s)
    queries = pa.table(
        {
            "exp_key": keys,
            "cycle": pa.array(cycles, pa.int32()),
            "selected": pa.array(sel, pa.list_(pa.int32())),
        }
    )
    for sub, table in (("runs", runs), ("queries", queries)):
        (path / sub).mkdir(parents=True)
        pq.write_table(table, path / sub / "part-0.parquet")
    (path / "meta.json").write_text('{"schema_version": 1, "grid_name": "t"}')
    return path


def _agreement_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "analysis" / "implementation_agreement.py"
    spec = importlib.util.spec_from_file_location("implementation_agreement", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def test_agreement_script_reports_jaccard_and_curve_difference(tmp_path):
    module, _ = _agreement_module()
    store = _write_store(tmp_path / "store")
    result = module.implementation_agreement(str(store))
    pairs = {(p["strategy"], p["impl_a"], p["impl_b"]): p for p in result["pairs"]}
    # random has one implementation; the failed smalltext run matches but never counts for the metric
    assert set(pairs) == {
        ("margin", "modal", "native"),
        ("margin", "modal", "smalltext"),
        ("margin", "native", "smalltext"),
    }
    p = pairs[("margin", "modal", "native")]
    assert p["matched"] == 2 and p["both_ok"] == 2
    # cycle 1: seed 0 {1,2}/{1,2} -> 1, seed 1 {1,2}/{1,3} -> 1/3; cycle 2: {3,4}/{3,5} -> 1/3, {4}/{4} -> 1
    assert p["jaccard_per_cycle"] == [
        {"cycle": 1, "jaccard": pytest.approx(2 / 3), "n": 2},
        {"cycle": 2, "jaccard": pytest.approx(2 / 3), "n": 2},
    ]
    assert p["jaccard_first"] == pytest.approx(2 / 3)
    assert p["jaccard_mean"] == pytest.approx(2 / 3)
    assert p["diff"] == pytest.approx(-0.075, abs=1e-6)  # modal - native
    assert p["metric_a"] == pytest.approx(0.675, abs=1e-6) and p["metric_b"] == pytest.approx(0.75, abs=1e-6)
    failed = pairs[("margin", "native", "smalltext")]
    assert failed["matched"] == 1 and failed["both_ok"] == 0 and failed["diff"] is None


def test_agreement_script_cli(tmp_path, capsys):
    import json
    import subprocess
    import sys

    module, script = _agreement_module()
    store = _write_store(tmp_path / "store")
    out = subprocess.run([sys.executable, str(script), str(store), "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["metric"] == "f1_weighted_aulc"
    assert module.main([str(store), "--per-cycle"]) == 0
    table = capsys.readouterr().out
    assert "margin" in table and "-0.0750" in table and "1:0.67 2:0.67" in table
    assert module.main([str(store), "--metric", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err
    assert module.main([str(tmp_path / "none")]) != 0
    assert "no result store" in capsys.readouterr().err
