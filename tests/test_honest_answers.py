"""Honest answers (issue 15): a design that cannot answer says so, one missing cell does not change other datasets'
answers, sampled figures say that they are sampled, and a rank that depends on the missing-data policy is flagged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from helpers import invoke as cli
from helpers import invoke_json as cli_json
from helpers.analysis_stores import DATASETS, missing_store, simple_store, structured_store

from algrid.analysis import impact, open_store
from algrid.analysis.synthetic import write_synthetic_store

ROOT = Path(__file__).resolve().parents[1]


def _drop_runs(store: Path, keep) -> None:
    """Rewrite the runs parts keeping only rows where ``keep(table)`` is true (curves/queries become orphans)."""
    for part in (store / "runs").glob("part-*.parquet"):
        table = pq.read_table(part)
        pq.write_table(table.filter(keep(table)), part)


# -- impact that cannot be estimated ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def confounded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every strategy run in exactly one implementation: implementation is confounded with strategy."""
    path = tmp_path_factory.mktemp("confounded") / "store"
    write_synthetic_store(
        path,
        {
            "dataset": DATASETS,
            "strategy": ["a", "b", "c"],
            "implementation": ["native", "modal"],
            "seed": [0, 1],
        },
        cycles=5,
        effects={"strategy": {"a@native": 0.1, "b@modal": -0.1}},
    )

    def diagonal(t):
        s, i = pc.cast(t["strategy"], "string"), pc.cast(t["implementation"], "string")
        native = pc.and_(pc.is_in(s, value_set=pc.cast(["a", "c"], "string")), pc.equal(i, "native"))
        return pc.or_(native, pc.and_(pc.equal(s, "b"), pc.equal(i, "modal")))

    _drop_runs(path, diagonal)
    return path


def test_confounded_impact_cannot_be_estimated(confounded: Path) -> None:
    res = cli_json("query", "impact", confounded, "--param", "implementation")
    assert res["estimable"] is False and res["n_matched_blocks"] == 0
    assert "cannot be estimated" in res["reason"] and "differ only in implementation" in res["reason"]
    for key in ("variance_share", "variance_share_within", "kendall_tau", "tau_vs_all", "pearson", "jaccard"):
        assert res[key] is None, key
    assert res["pairs"] == []
    text = cli("query", "impact", confounded, "--param", "implementation").output
    assert "cannot be estimated" in text and "variance_share" not in text
    everything = cli_json("query", "impact", confounded, "--all")
    row = next(r for r in everything["rows"] if r["param"] == "implementation")
    assert row["estimable"] is False and row["variance_share"] is None and everything["rows"][-1] == row
    # a parameter that can be estimated still gets numbers
    seed = cli_json("query", "impact", confounded, "--param", "seed")
    assert seed["estimable"] is True and seed["variance_share"] is not None and seed["reason"] is None


# -- per-dataset leaderboards -------------------------------------------------------------------------------------
def _tau_store(path: Path) -> Path:
    write_synthetic_store(
        path,
        {"dataset": DATASETS, "strategy": ["best", "mid", "random", "low", "worse"], "seed": [0, 1]},
        cycles=5,
        effects={"strategy": {"best": 0.3, "mid": 0.2, "random": 0.1, "low": 0.0, "worse": -0.1}},
        interactions=[
            ("dataset", "b", {"low": 0.25}),
            ("dataset", "c", {"worse": 0.35}),
            ("dataset", "d", {"random": 0.15}),
        ],  # fmt: skip
        noise=0.002,
    )
    return path


def _taus(store: Path, rule: str) -> dict[str, float]:
    with open_store(store) as s:
        res = impact(s, "dataset", jaccard_blocks=0, dataset_rule=rule)
    return {r["value"]: r["tau_vs_all"] for r in res["per_value"]}


def test_a_missing_cell_leaves_the_other_datasets_tau_unchanged(tmp_path: Path) -> None:
    full = _tau_store(tmp_path / "full")
    # The same store without 'best' on dataset 'a' (it ranks first everywhere, so the leaderboard of all
    # datasets keeps its order and each other dataset's tau must not move).
    holed = _tau_store(tmp_path / "holed")
    _drop_runs(holed, lambda t: pc.invert(pc.and_(pc.equal(pc.cast(t["dataset"], "string"), "a"),
                                                  pc.equal(pc.cast(t["strategy"], "string"), "best"))))  # fmt: skip
    before, after = _taus(full, "present"), _taus(holed, "present")
    assert min(before.values()) < 0.9  # the datasets disagree: tau is informative
    for ds in ("b", "c", "d"):
        assert after[ds] == pytest.approx(before[ds]), ds
    # the earlier rule (blocks covering every dataset) dropped 'best' from every dataset's leaderboard
    old_before, old_after = _taus(full, "complete"), _taus(holed, "complete")
    assert old_before == pytest.approx(before)
    assert any(old_after[ds] != pytest.approx(old_before[ds]) for ds in ("b", "c", "d"))
    # the script and the CLI use the new rule and say so
    proc = subprocess.run(
        [sys.executable, str(ROOT / "analysis" / "dataset_tau.py"), str(holed), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["dataset_rule"] == "present"
    assert {r["value"]: r["tau_vs_all"] for r in out["datasets"]} == pytest.approx(after)
    res = cli_json("query", "impact", holed, "--param", "dataset", "--jaccard-blocks", "0")
    assert res["dataset_rule"] == "present"
    assert {r["value"]: r["tau_vs_all"] for r in res["per_value"]} == pytest.approx(after)


# -- sampled figures ----------------------------------------------------------------------------------------------
def test_sampled_jaccard_says_so_and_exact_computes_all(tmp_path: Path) -> None:
    store = tmp_path / "s"
    structured_store(store)
    sampled = cli_json("query", "impact", store, "--param", "learner", "--jaccard-blocks", "3")
    assert sampled["jaccard_sample"] == {"blocks": 3, "of": sampled["n_matched_blocks"], "exact": False}
    assert sampled["n_matched_blocks"] > 3
    text = cli("query", "impact", store, "--param", "learner", "--jaccard-blocks", "3").output
    assert "jaccard: sampled, 3 of" in text and "--exact" in text
    exact = cli_json("query", "impact", store, "--param", "learner", "--exact")
    assert exact["jaccard_sample"]["exact"] is True
    assert exact["jaccard_sample"]["blocks"] == exact["n_matched_blocks"]
    assert exact["pairs"][0]["n_jaccard"] == exact["n_matched_blocks"]
    every = cli_json("query", "impact", store, "--all")
    assert every["jaccard_sample"] == {"blocks_per_param": 50, "exact": False}
    assert "jaccard: sampled" in cli("query", "impact", store, "--all").output
    assert (
        cli("query", "impact", store, "--param", "learner", "--exact", "--jaccard-blocks", "3").exit_code == 2
    )


# -- rank sensitivity ---------------------------------------------------------------------------------------------
def test_a_rank_that_depends_on_the_missing_policy_is_flagged(tmp_path: Path) -> None:
    store = tmp_path / "m"
    missing_store(store)  # 'slow' would be best but times out in about half its experiments
    res = cli_json("query", "leaderboard", store)
    rows = {r["strategy"]: r for r in res["rows"]}
    slow = rows["slow"]
    assert slow["rank_sensitive"] is True and slow["failures"] > 0
    assert slow["ranks_by_policy"]["zero"] != slow["ranks_by_policy"]["penalty"]
    assert set(slow["ranks_by_policy"]) == {"zero", "drop", "penalty"}
    assert "slow@native" in res["rank_sensitive"]
    for r in res["rows"]:
        assert r["rank_sensitive"] == (len(set(r["ranks_by_policy"].values())) > 1)
    text = cli("query", "leaderboard", store).output
    assert "rank sensitivity (!)" in text and "slow@native" in text
    # no failures, no sensitivity
    calm = tmp_path / "c"
    simple_store(calm)
    res = cli_json("query", "leaderboard", calm)
    assert res["rank_sensitive"] == [] and all(r["failures"] == 0 for r in res["rows"])
    assert "no rank changes" in cli("query", "leaderboard", calm).output


def test_the_report_flags_rank_sensitive_strategies(tmp_path: Path) -> None:
    from algrid.analysis.report import write_report

    store = tmp_path / "m"
    missing_store(store)
    with open_store(store) as s:
        index = write_report(s, tmp_path / "report", repeats=2)
    html = index.read_text()
    assert "rank sensitivity (!)" in html and "slow@native" in html and "policy_ranks" in html
    assert "jaccard: sampled" in html
