"""Analysis layer: queries on stores with known structure find that structure, through the CLI contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import invoke, invoke_json
from helpers.analysis_stores import DATASETS, add_retry_rows, simple_store

from algrid.analysis.source import open_store
from algrid.analysis.values import RAMP_FRACTION, build_values


# -- leaderboard ------------------------------------------------------------------------------------------------
def test_leaderboard_finds_always_best_strategy(simple_store_dir):
    out = invoke_json("query", "leaderboard", simple_store_dir)
    assert out["metric"] == "f1_weighted" and out["summary"] == "aulc"
    names = [r["strategy"] for r in out["rows"]]
    assert names == ["best", "mid", "random", "low"]
    top = out["rows"][0]
    assert top["mean_rank"] == 1.0 and top["implementation"] == "native"
    assert [r["mean_rank"] for r in out["rows"]] == [1.0, 2.0, 3.0, 4.0]
    # 4 datasets x 2 learners x 2 seeds x 3 starts per strategy
    assert all(r["n"] == 48 for r in out["rows"])
    assert out["missing"]["missing"] == 0 and out["missing"]["total"] == 192
    assert out["rows"][0]["mean_value"] > out["rows"][1]["mean_value"]


@pytest.mark.parametrize("summary", ["final", "first5", "last5", "mean", "ramp_up", "plateau"])
def test_leaderboard_every_summary(simple_store_dir, summary):
    out = invoke_json("query", "leaderboard", simple_store_dir, "--summary", summary, "--metric", "accuracy")
    assert out["summary"] == summary and out["metric"] == "accuracy"
    assert out["rows"][0]["strategy"] == "best"


def test_leaderboard_table_output_states_missing_policy(missing_store_dir):
    path, info = missing_store_dir
    res = invoke("query", "leaderboard", path, "--missing", "drop")
    assert res.exit_code == 0
    assert "rank" in res.stdout and "slow" in res.stdout
    n_missing = info["failed"] + info["timeout"]
    assert f"missing: {n_missing} of {info['experiments']} experiments" in res.stdout
    assert "policy drop" in res.stdout


def test_missing_policies_change_numbers_as_documented(missing_store_dir):
    path, info = missing_store_dir
    zero = invoke_json("query", "leaderboard", path, "--missing", "zero")
    drop = invoke_json("query", "leaderboard", path, "--missing", "drop")
    pen = invoke_json("query", "leaderboard", path, "--missing", "penalty")
    for out, policy in ((zero, "zero"), (drop, "drop"), (pen, "penalty")):
        m = out["missing"]
        assert m["policy"] == policy
        assert m["timeout"] == info["timeout"] and m["failed"] == info["failed"]
        assert m["missing"] == info["timeout"] + info["failed"]
        assert m["total"] == info["experiments"]
    by = {
        name: {r["strategy"]: r for r in out["rows"]} for name, out in (("z", zero), ("d", drop), ("p", pen))
    }
    # drop: slow is best on what finished and only its finished runs count
    assert drop["rows"][0]["strategy"] == "slow"
    n_slow = info["experiments"] // 4
    n_timeouts = by["z"]["slow"]["n"] - by["d"]["slow"]["n"]
    assert by["z"]["slow"]["n"] == n_slow and 0 < n_timeouts < n_slow
    # zero: timeouts count as 0, which sinks slow; penalty lies between
    assert by["z"]["slow"]["mean_value"] < by["p"]["slow"]["mean_value"] < by["d"]["slow"]["mean_value"]
    assert by["z"]["slow"]["mean_rank"] > by["d"]["slow"]["mean_rank"]
    # strategies without missing runs are unaffected by the policy
    assert by["z"]["best"]["mean_value"] == pytest.approx(by["d"]["best"]["mean_value"])


def test_penalty_uses_worst_value_in_same_setting(missing_store_dir):
    path, _ = missing_store_dir
    with open_store(path) as store:
        vals = build_values(store, "f1_weighted", "aulc", "penalty")
        df = store.sql(f"SELECT * FROM {vals.table}").df()
    setting = ["dataset", "batch_size", "initial_pool", "learner", "split", "start", "seed"]
    worst = df[~df["missing"]].groupby(setting, observed=True)["value"].min().rename("worst")
    filled = df[df["missing"]].merge(worst.reset_index(), on=setting)
    assert len(filled) > 0
    np.testing.assert_allclose(filled["value"], filled["worst"])


def test_where_filter_restricts_experiments(simple_store_dir):
    out = invoke_json("query", "leaderboard", simple_store_dir, "--where", "dataset='a' AND learner = 'rf'")
    assert out["n_datasets"] == 1
    assert out["missing"]["total"] == 4 * 2 * 3  # strategies x seeds x starts
    assert all(r["n"] == 6 for r in out["rows"])
    assert out["where"] == "dataset='a' AND learner = 'rf'"


def test_where_with_numeric_columns(simple_store_dir):
    out = invoke_json(
        "query", "leaderboard", simple_store_dir, "--where", "start IN (0, 1) AND f1_weighted_aulc > 0"
    )
    assert out["missing"]["total"] == 4 * 4 * 2 * 2 * 2


@pytest.mark.parametrize(
    "where, fragment",
    [
        ("nosuchcolumn = 1", "nosuchcolumn"),
        ("dataset='a'; DROP TABLE runs", "';' is not allowed"),
        ("dataset='a') OR (1=1", "unbalanced"),
        ("dataset = 'a", "unterminated quote"),
        ("dataset = 'a' -- comment", "comments"),
        ("dataset = = 3", "Parser Error"),
    ],
)
def test_bad_where_is_one_line_error(simple_store_dir, where, fragment):
    res = invoke("query", "leaderboard", simple_store_dir, "--where", where)
    assert res.exit_code == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --where") and fragment in lines[0]
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["impact", "{s}", "--param", "colour"], 2, "--param 'colour'"),
        (["leaderboard", "{s}", "--metric", "auc"], 2, "--metric 'auc'"),
        (["stability", "{s}", "--dimension", "strategy"], 2, "--dimension 'strategy'"),
        (["compare", "{s}", "--a", "best", "--b", "nosuch"], 2, "--b 'nosuch'"),
        (["compare", "{s}", "--a", "best@modal", "--b", "mid"], 2, "--a 'best@modal'"),
        (["leaderboard", "{missing_dir}"], 2, "no result store"),
    ],
)
def test_bad_arguments_are_one_line_errors(simple_store_dir, tmp_path, args, code, fragment):
    args = [a.format(s=simple_store_dir, missing_dir=tmp_path / "nope") for a in args]
    res = invoke("query", *args)
    assert res.exit_code == code, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], res.stderr


def test_empty_directory_is_not_a_store(tmp_path):
    res = invoke("query", "leaderboard", tmp_path)
    assert res.exit_code == 2 and "runs/*.parquet not found" in res.stderr


def test_retried_failure_counts_once(tmp_path):
    path = tmp_path / "store"
    info = simple_store(path)
    before = invoke_json("query", "leaderboard", path)
    add_retry_rows(path)
    after = invoke_json("query", "leaderboard", path)
    assert after["missing"]["total"] == info["experiments"] and after["missing"]["failed"] == 0
    assert after["rows"] == before["rows"]


def test_orphan_curves_are_ignored(structured_store_dir):
    with open_store(structured_store_dir) as store:
        n_curve_keys = store.sql("SELECT count(DISTINCT exp_key) FROM curves").fetchone()[0]
        n_raw_keys = store.sql("SELECT count(DISTINCT exp_key) FROM curves_raw").fetchone()[0]
        n_runs = store.sql("SELECT count(*) FROM runs").fetchone()[0]
    # the store's snapshot lists committed parts only: the orphan part is never read
    assert n_curve_keys == n_runs and n_raw_keys == n_runs
    rt = invoke_json("query", "runtime", structured_store_dir)
    assert all(r["query_s_per_cycle"] < 1 for r in rt["by_strategy"])  # orphans carry 1e6 s


def test_orphan_curves_of_a_rerun_experiment_are_not_counted_twice(structured_store_dir, tmp_path):
    """A writer killed between renames leaves curves of an experiment that a later run commits again."""
    import shutil

    import pyarrow.parquet as pq

    store = tmp_path / "store"
    shutil.copytree(structured_store_dir, store)
    with open_store(store) as data:
        key = data.sql("SELECT exp_key FROM runs LIMIT 1").fetchone()[0]
        n_rows = data.sql("SELECT count(*) FROM curves WHERE exp_key = ?", [key]).fetchone()[0]
        committed = data.sql("SELECT * FROM curves WHERE exp_key = ?", [key]).to_arrow_table()
    pq.write_table(committed, store / "curves" / "part-killedwriter.parquet")
    with open_store(store) as data:
        assert data.sql("SELECT count(*) FROM curves WHERE exp_key = ?", [key]).fetchone()[0] == n_rows


def test_ramp_up_and_plateau_follow_random_cutoff(simple_store_dir):
    """Recompute the documented rule independently from the raw curves of one setting."""
    with open_store(simple_store_dir) as store:
        runs = store.sql(
            "SELECT exp_key, CAST(strategy AS VARCHAR) s FROM runs WHERE dataset='b' AND learner='rf' "
            "AND seed=1 AND start=2"
        ).df()
        curves = store.sql("SELECT exp_key, cycle, f1_weighted FROM curves").df()
        ramp = build_values(store, "f1_weighted", "ramp_up", "drop")
        plateau = build_values(store, "f1_weighted", "plateau", "drop")
        got_r = dict(store.sql(f"SELECT exp_key, value FROM {ramp.table}").fetchall())
        got_p = dict(store.sql(f"SELECT exp_key, value FROM {plateau.table}").fetchall())
    c = curves.merge(runs, on="exp_key")
    rc = c[(c.s == "random") & (c.cycle >= 1)].sort_values("cycle")
    cutoff = int(rc.cycle[rc.f1_weighted >= RAMP_FRACTION * rc.f1_weighted.max()].min())
    assert 1 <= cutoff <= 8
    for key, grp in c[c.cycle >= 1].groupby("exp_key"):
        exp_r = grp[grp.cycle <= cutoff].f1_weighted.mean()
        exp_p = grp[grp.cycle >= cutoff].f1_weighted.mean()
        assert got_r[key] == pytest.approx(exp_r, rel=1e-6)
        assert got_p[key] == pytest.approx(exp_p, rel=1e-6)


def test_ramp_up_needs_random(simple_store_dir):
    res = invoke(
        "query", "leaderboard", simple_store_dir, "--summary", "ramp_up", "--where", "strategy <> 'random'"
    )
    assert res.exit_code == 0  # the cutoff comes from the unfiltered store
    out = json.loads(
        invoke("query", "leaderboard", simple_store_dir, "--summary", "ramp_up", "--json").stdout
    )
    assert "random" in [r["strategy"] for r in out["rows"]]


# -- impact -----------------------------------------------------------------------------------------------------
def test_impact_of_parameter_without_effect(structured_store_dir):
    out = invoke_json("query", "impact", structured_store_dir, "--param", "seed")
    for key in (
        "param",
        "values",
        "kendall_tau",
        "tau_vs_all",
        "pearson",
        "jaccard",
        "variance_share",
        "missing",
    ):
        assert key in out
    assert out["param"] == "seed" and out["values"] == [0, 1]
    assert out["variance_share"] < 0.01
    assert out["kendall_tau"] >= 0.9 and out["tau_vs_all"] >= 0.9
    assert out["pearson"] > 0.95
    assert out["jaccard"] == pytest.approx(1.0)  # seed does not change the selection
    assert out["n_blocks"] == 4 * 4 * 2 * 2


def test_impact_of_parameter_with_strong_effect(structured_store_dir):
    out = invoke_json("query", "impact", structured_store_dir, "--param", "learner")
    assert out["variance_share"] > 0.5
    assert out["variance_share_within"] > 0.9
    assert out["kendall_tau"] == pytest.approx(1.0)  # shifts every strategy alike: ranking unchanged
    assert out["jaccard"] < 0.2


def test_impact_of_parameter_that_flips_ranking(structured_store_dir):
    out = invoke_json("query", "impact", structured_store_dir, "--param", "batch_size")
    assert out["kendall_tau"] < 0.5
    leaders = {v["value"]: v["leader"] for v in out["per_value"]}
    assert leaders == {1: "best@native", 10: "low@native"}
    assert len(out["pairs"]) == 1 and out["pairs"][0]["n_matched"] == 64


def test_impact_table_output(structured_store_dir):
    res = invoke("query", "impact", structured_store_dir, "--param", "seed")
    assert res.exit_code == 0 and "variance_share" in res.stdout and "missing:" in res.stdout


def test_impact_all_ranks_parameters(structured_store_dir):
    out = invoke_json("query", "impact", structured_store_dir, "--all")
    params = [r["param"] for r in out["rows"]]
    assert set(params) == {"dataset", "learner", "seed", "batch_size"}
    assert params[0] == "learner"
    assert params.index("seed") > params.index("batch_size")
    assert [r["rank"] for r in out["rows"]] == [1, 2, 3, 4]
    assert "implementation" in out["single_valued"]


def test_impact_needs_param_or_all(structured_store_dir):
    res = invoke("query", "impact", structured_store_dir)
    assert res.exit_code == 2


def test_impact_respects_where(structured_store_dir):
    out = invoke_json("query", "impact", structured_store_dir, "--param", "seed", "--where", "batch_size = 1")
    assert out["n_blocks"] == 4 * 4 * 2
    assert out["missing"]["total"] == 4 * 4 * 2 * 2


# -- stability --------------------------------------------------------------------------------------------------
def test_stability_curve(simple_store_dir):
    out = invoke_json("query", "stability", simple_store_dir, "--repeats", "5")
    assert out["n_units"] == 4 * 2 * 2 * 3
    ks = [r["k"] for r in out["curve"]]
    assert ks[0] == 1 and ks[-1] == out["n_units"]
    assert out["curve"][-1]["mean"] == pytest.approx(1.0)
    # with a strictly ordered grid even one combination already recovers the order
    assert out["k_min"] == 1
    assert all(r["repeats"] == 5 for r in out["curve"][:-1])


def test_stability_by_dimension_and_flip(structured_store_dir):
    out = invoke_json(
        "query", "stability", structured_store_dir, "--dimension", "batch_size", "--repeats", "10"
    )
    assert out["n_units"] == 2 and out["dimension"] == "batch_size"
    k1 = out["curve"][0]
    assert k1["k"] == 1 and k1["mean"] < 0.9  # one batch size alone gives a different ranking
    res = invoke("query", "stability", structured_store_dir, "--dimension", "dataset")
    assert res.exit_code == 0 and "smallest k" in res.stdout


# -- compare / cd -----------------------------------------------------------------------------------------------
def test_compare_best_vs_random(simple_store_dir):
    out = invoke_json("query", "compare", simple_store_dir, "--a", "best", "--b", "random@native")
    assert out["n_pairs"] == 48 and out["wins"] == 48 and out["losses"] == 0 and out["ties"] == 0
    assert out["wilcoxon_p"] < 1e-6
    assert out["effect_size"] == pytest.approx(1.0)
    rev = invoke_json("query", "compare", simple_store_dir, "--a", "random", "--b", "best")
    assert rev["losses"] == 48 and rev["effect_size"] == pytest.approx(-1.0)


def test_compare_missing_policy_matters(missing_store_dir):
    path, _ = missing_store_dir
    zero = invoke_json("query", "compare", path, "--a", "slow", "--b", "best", "--missing", "zero")
    drop = invoke_json("query", "compare", path, "--a", "slow", "--b", "best", "--missing", "drop")
    assert drop["losses"] == 0 and drop["wins"] == drop["n_pairs"]
    assert zero["n_pairs"] == 24 and zero["losses"] == zero["n_pairs"] - drop["n_pairs"]


def test_cd(simple_store_dir):
    out = invoke_json("query", "cd", simple_store_dir)
    assert [r["strategy"] for r in out["rows"]] == ["best", "mid", "random", "low"]
    assert out["n_datasets"] == len(DATASETS) and out["n_strategies"] == 4
    assert out["friedman_chi2"] == pytest.approx(12.0)
    assert out["friedman_p"] < 0.01
    assert out["cd"] == pytest.approx(2.569 * np.sqrt(4 * 5 / (6 * 4)), rel=1e-3)
    res = invoke("query", "cd", simple_store_dir, "--where", "strategy IN ('best', 'mid')")
    assert res.exit_code == 2 and ">= 3 strategies" in res.stderr


# -- runtime ----------------------------------------------------------------------------------------------------
def test_runtime_counts_failures(missing_store_dir):
    path, info = missing_store_dir
    out = invoke_json("query", "runtime", path)
    by = {r["strategy"]: r for r in out["by_strategy"]}
    assert by["slow"]["timeout"] + by["mid"]["failed"] == info["timeout"] + info["failed"]
    assert by["best"]["failed"] == 0 and by["best"]["fit_s_per_cycle"] > 0
    assert out["status_counts"]["ok"] == info["ok"]
    assert {r["status"] for r in out["failures"]} == {"failed", "timeout"}
    res = invoke("query", "runtime", path)
    assert res.exit_code == 0 and "failures and timeouts" in res.stdout


# -- a real store from `algrid run` (pending experiments come from the store's grid.yaml) -------------------------
def test_real_store_with_pending(tmp_path):
    grid = tmp_path / "g.yaml"
    grid.write_text(
        "name: g\ncycles: 3\ntest_size: 0.4\ntimeout_s: 60\ndimensions:\n  dataset: [iris]\n"
        "  strategy: [random, margin]\n  batch_size: [3]\n  learner: [lr]\n  start: {range: [0, 4]}\n"
    )
    store = tmp_path / "store"
    res = invoke("run", grid, "--store", store, "--shard", "0/2", "--in-process", "--no-progress")
    assert res.exit_code == 0, res.output
    done = invoke_json("query", "leaderboard", store, "--missing", "drop")
    m = done["missing"]
    assert (
        m["pending_known"] and m["total"] == 8 and m["pending"] == 8 - sum(r["n"] for r in done["rows"]) > 0
    )
    zero = invoke_json("query", "leaderboard", store)
    assert sum(r["n"] for r in zero["rows"]) == 8
    rt = invoke_json("query", "runtime", store)
    assert rt["pending"] == m["pending"]
    pd.testing.assert_index_equal(pd.Index(["lr"]), pd.Index([r["learner"] for r in rt["by_learner"]]))


# -- the prior-study scripts in analysis/ -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "script, args, expect",
    [
        ("leaderboard.py", [], lambda o: o["rows"][0]["strategy"] == "best"),
        ("hyperparameter_impact.py", [], lambda o: o["rows"][0]["param"] == "learner"),
        ("dataset_tau.py", [], lambda o: o["tau_vs_all"]["min"] == pytest.approx(1.0)),
        ("stability_curve.py", ["--repeats", "3"], lambda o: o["k_min"] == 1),
    ],
)
def test_analysis_scripts(simple_store_dir, script, args, expect):
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, str(root / "analysis" / script), str(simple_store_dir), "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert expect(json.loads(proc.stdout))


def test_tau_matrix_matches_scipy():
    from scipy import stats

    from algrid.analysis.leaderboard import kendall, tau_matrix

    rng = np.random.default_rng(1)
    idents = [(f"s{i}", "native") for i in range(9)]
    boards = []
    for _ in range(5):
        ranks = rng.integers(1, 5, size=len(idents)).astype(float)  # plenty of ties
        boards.append(
            pd.DataFrame({"strategy": [s for s, _ in idents], "implementation": "native", "mean_rank": ranks})
        )
    boards.append(boards[0].assign(mean_rank=1.0))  # a board tying everything
    m = tau_matrix(boards)
    for i in range(len(boards)):
        for j in range(len(boards)):
            expected = kendall(boards[i], boards[j])
            assert m[i, j] == pytest.approx(expected), (i, j)
    x, y = boards[0]["mean_rank"], boards[1]["mean_rank"]
    assert m[0, 1] == pytest.approx(stats.kendalltau(x, y).statistic)
    # boards over different identities fall back to pairwise matching
    partial = [boards[0], boards[1].iloc[:5]]
    assert tau_matrix(partial)[0, 1] == pytest.approx(kendall(boards[0], boards[1].iloc[:5]))


def test_where_cannot_read_other_files(tmp_path):
    """--where is user text run by DuckDB: it may filter runs, never read /etc/passwd or load extensions."""
    from algrid.analysis.source import QueryError, StoreData
    from algrid.analysis.synthetic import write_synthetic_store

    write_synthetic_store(tmp_path / "s", {"dataset": ["a", "b"], "strategy": ["x", "y"]}, cycles=3)
    store = tmp_path / "s"
    for where in (
        "exp_key IN (SELECT column0 FROM read_csv('/etc/passwd'))",
        "length(getenv('HOME')) > 0",
        "exp_key IN (SELECT * FROM read_text('/etc/hostname'))",
    ):
        with pytest.raises(QueryError) as info:
            StoreData(store, where=where)
        assert "root:" not in str(info.value)
