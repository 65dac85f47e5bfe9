"""Learner catalogue: the study's definitions under new names (old keys unchanged), svm_rbf without
SVC(probability=True), xgb/lgbm from the boosting extra (seeded, single-threaded, deterministic), `algrid learners`,
and the one-line exit-2 error for a grid that names a learner whose extra is missing."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from algrid.cli import main
from algrid.engine.loop import run_experiment
from algrid.learners import LEARNERS, make_al_learner, make_learner
from algrid.learners.catalog import CATALOG, unavailable_reason

SETTINGS = {"name": "t", "cycles": 3, "test_size": 0.4, "timeout_s": 120.0, "memory_mb": None}


def _config(learner: str, dataset: str, **over) -> dict:
    config = dict(
        dataset=dataset,
        strategy="margin",
        implementation="native",
        batch_size=4,
        initial_pool="per_class:1",
        learner=learner,
        split=0,
        start=0,
        seed=0,
    )
    config.update(over)
    return config


def test_existing_learners_keep_their_exp_keys():
    """Keys computed by algrid before the new learners existed (commit 82a2bd8)."""
    from algrid.grid import grid_from_dict

    doc = {
        "name": "k",
        "cycles": 3,
        "dimensions": {
            "dataset": ["iris"],
            "strategy": ["margin"],
            "batch_size": [2],
            "learner": ["rf", "svm_rbf", "mlp", "lr", "mlp_paper", "svm_rbf_v2"],
        },
    }
    keys = {c["learner"]: c["exp_key"] for c in grid_from_dict(doc).configs(range(6))}
    assert keys["rf"] == "9dbc97ff48de981f"
    assert keys["svm_rbf"] == "7b4fdec4db0a6124"
    assert keys["mlp"] == "2d09ad1ee34df817"
    assert keys["lr"] == "013f8caca2e66a30"
    assert len(set(keys.values())) == 6  # new definitions are new experiments


def test_catalog_describes_what_each_factory_builds():
    assert set(CATALOG) == set(LEARNERS)
    for name, info in CATALOG.items():
        if unavailable_reason(name):
            continue
        est = make_learner(name, 3)
        assert f"{type(est).__module__}.{type(est).__name__}".endswith(info.cls.rsplit(".", 1)[1])
        got = est.get_params(deep=False)
        for key, value in info.params.items():
            if key in got:
                want = tuple(value) if isinstance(value, list) else value
                assert got[key] == want, f"{name}.{key}: catalogue {value!r}, factory {got[key]!r}"
        if info.cls.startswith("sklearn."):
            assert set(info.params) <= set(got), name


def test_mlp_paper_is_the_studys_mlp():
    est = make_learner("mlp_paper", 0)
    p = est.get_params()
    assert p["hidden_layer_sizes"] == (100,) and p["activation"] == "relu" and p["solver"] == "adam"
    assert p["learning_rate"] == "adaptive" and p["max_iter"] == 1000
    assert make_learner("mlp", 0).get_params()["max_iter"] == 200


def test_svm_rbf_v2_gives_probabilities_without_libsvm_platt_scaling():
    from sklearn.datasets import load_iris

    est = make_learner("svm_rbf_v2", 0)
    assert "probability" not in est.get_params()
    X, y = load_iris(return_X_y=True)
    for rows in ([0, 50, 100], [0, 1, 50, 51, 100, 101], list(range(0, 150, 3))):  # 1, 2 and 17 per class
        proba = make_learner("svm_rbf_v2", 0).fit(X[rows], y[rows]).predict_proba(X)
        assert proba.shape == (150, 3)
        assert np.allclose(proba.sum(axis=1), 1.0)
    again = make_learner("svm_rbf_v2", 0).fit(X[rows], y[rows]).predict_proba(X)
    assert np.array_equal(proba, again)
    assert (proba.argmax(axis=1) == y).mean() > 0.9


@pytest.mark.parametrize("learner", ["xgb", "lgbm", "svm_rbf_v2", "mlp_paper"])
@pytest.mark.parametrize("dataset", ["sonar", "iris"])
def test_new_learner_runs_through_the_loop_deterministically(learner, dataset):
    a = run_experiment(_config(learner, dataset), SETTINGS, cache=False)
    b = run_experiment(_config(learner, dataset), SETTINGS, cache=False)
    assert a.status == "ok", a.error
    assert a.cycles_done == 3
    assert a.selected == b.selected
    assert [r["accuracy"] for r in a.curve] == [r["accuracy"] for r in b.curve]


@pytest.mark.parametrize("learner", ["xgb", "lgbm"])
def test_boosting_learners_are_single_threaded_and_handle_a_missing_class(learner):
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    rows = np.r_[np.flatnonzero(y == 0)[:4], np.flatnonzero(y == 2)[:4]]  # class 1 absent
    model = make_al_learner(learner, 5, np.array([0, 1, 2])).fit(X[rows], y[rows])
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 3) and np.all(proba[:, 1] == 0)
    assert set(np.unique(model.predict(X))) <= {0, 2}
    inner = model.estimator_
    threads = inner.model_.get_params()["n_jobs"] if learner == "xgb" else inner.get_params()["n_jobs"]
    assert threads == 1


def test_learners_json_lists_every_learner_with_the_contract_keys():
    result = CliRunner().invoke(main, ["learners", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(LEARNERS) <= set(rows)
    keys = {"name", "class", "params", "source", "relative_cost", "available", "unavailable_reason"}
    for row in rows.values():
        assert keys <= set(row)
    for name in ("xgb", "lgbm"):
        assert rows[name]["available"] is True and rows[name]["unavailable_reason"] == ""
        assert rows[name]["source"] == "algrid[boosting]" and rows[name]["extra"] == "boosting"
        assert rows[name]["library_version"]
        assert rows[name]["relative_cost"] > rows["lr"]["relative_cost"]
    assert rows["lgbm"]["class"] == "lightgbm.LGBMClassifier"
    assert rows["lgbm"]["params"]["min_child_samples"] == 2
    assert rows["mlp_paper"]["source"] == "paper" and rows["mlp_paper"]["params"]["max_iter"] == 1000


def test_learners_table_fits_100_columns():
    result = CliRunner().invoke(main, ["learners"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["name", "cost", "class"]
    assert all(len(line) <= 100 for line in lines)
    assert any(line.startswith("xgb ") for line in lines) and any(line.startswith("lgbm ") for line in lines)


def test_learners_json_says_which_extra_a_missing_learner_needs(monkeypatch):
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    unavailable_reason.cache_clear()
    try:
        result = CliRunner().invoke(main, ["learners", "--json"])
        assert result.exit_code == 0, result.output
        lgbm = [r for r in json.loads(result.output) if r["name"] == "lgbm"][0]
        assert lgbm["available"] is False
        assert lgbm["unavailable_reason"] == "lightgbm not installed: pip install 'algrid[boosting]'"
        assert lgbm["class"] == "lightgbm.LGBMClassifier"
    finally:
        unavailable_reason.cache_clear()


def test_grid_naming_a_learner_without_its_extra_fails_at_load_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "xgboost", None)  # importlib finds no xgboost: as if not installed
    unavailable_reason.cache_clear()
    try:
        grid = tmp_path / "boost.yaml"
        grid.write_text(
            "name: boost\ncycles: 2\ndimensions:\n  dataset: [iris]\n  strategy: [margin]\n"
            "  batch_size: [2]\n  learner: [lr, xgb]\n"
        )
        result = CliRunner().invoke(main, ["grid", "info", str(grid)])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1
        assert str(grid) in lines[0] and "dimensions.learner[1]" in lines[0]
        assert "pip install 'algrid[boosting]'" in lines[0]
        with pytest.raises(RuntimeError, match=r"algrid\[boosting\]"):
            make_learner("xgb", 0)
    finally:
        unavailable_reason.cache_clear()


def test_svm_rbf_is_reported_unavailable_where_scikit_learn_removed_probability(monkeypatch):
    import algrid.learners.catalog as catalog

    monkeypatch.setattr(catalog, "_sklearn_version", lambda: (1, 11))
    catalog.unavailable_reason.cache_clear()
    try:
        reason = catalog.unavailable_reason("svm_rbf")
        assert "SVC(probability=True)" in reason and "svm_rbf_v2" in reason
        assert catalog.unavailable_reason("svm_rbf_v2") == ""
    finally:
        catalog.unavailable_reason.cache_clear()


def test_grid_estimate_has_measured_costs_for_every_learner(tmp_path):
    from algrid.cost.estimate import load_calibration

    cal = load_calibration()
    assert set(LEARNERS) <= set(cal.learners), "benchmarks/calibrate.py --learners <new learner>"
    grid = tmp_path / "boost.yaml"
    grid.write_text(
        "name: boost\ncycles: 20\ndimensions:\n  dataset: [sonar, vehicle]\n  strategy: [margin]\n"
        "  batch_size: [5]\n  learner: [lr, rf, xgb, lgbm, svm_rbf_v2, mlp_paper]\n"
    )
    result = CliRunner().invoke(main, ["grid", "estimate", str(grid), "--json"])
    assert result.exit_code == 0, result.output
    per_learner = {k: v["cpu_hours"] for k, v in json.loads(result.output)["per_learner"].items()}
    assert set(per_learner) == {"lr", "rf", "xgb", "lgbm", "svm_rbf_v2", "mlp_paper"}
    for name in ("xgb", "lgbm", "svm_rbf_v2", "mlp_paper"):
        assert per_learner[name] > per_learner["lr"] > 0


@pytest.mark.parametrize("learner", ["xgb", "lgbm", "svm_rbf_v2", "mlp_paper"])
def test_new_learner_passes_the_plugin_conformance_checks(learner):
    from algrid.testing import check_learner

    check_learner(learner)
