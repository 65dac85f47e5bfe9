"""ALiPy as the fifth implementation, libact listed as unavailable: every ALiPy strategy runs through the AL loop on a
binary and a multiclass dataset, deterministically; uncertainty sampling agrees with native on binary data; the
``collections.Iterable`` compatibility step is lazy and leaves other implementations alone."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest
from click.testing import CliRunner

from algrid.engine.loop import run_experiment
from algrid.strategies import all_strategies, get_strategy

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SETTINGS = {"name": "t", "cycles": 2, "test_size": 0.4, "timeout_s": 120.0, "memory_mb": None}
ALIPY = [s for s in all_strategies() if s.implementation == "alipy" and s.available]


def _config(strategy: str, dataset: str, implementation: str = "alipy", **over) -> dict:
    config = dict(
        dataset=dataset,
        strategy=strategy,
        implementation=implementation,
        batch_size=3,
        initial_pool="per_class:2",
        learner="lr",
        split=0,
        start=0,
        seed=0,
    )
    config.update(over)
    return config


def test_the_studys_alipy_strategies_are_registered():
    names = {s.name for s in ALIPY}
    study = {
        "random",
        "least_confidence",
        "margin",
        "entropy",
        "graph_density",
        "coreset",
        "density_weighted",
    }
    assert study <= names
    assert {"qbc_vote_entropy", "expected_error_reduction", "quire"} <= names
    for name in ("bmdr", "spal", "lal"):
        assert get_strategy(name, "alipy").binary_only
    assert not get_strategy("lal", "alipy").available
    assert "download" in get_strategy("lal", "alipy").unavailable_reason


_RUNS = [
    pytest.param(spec.name, ds, id=f"{spec.name}-{ds}")
    for spec in ALIPY
    for ds in (("sonar",) if spec.binary_only else ("sonar", "iris"))
]


@pytest.mark.parametrize(("strategy", "dataset"), _RUNS)
def test_alipy_strategy_runs_through_the_loop(strategy, dataset):
    result = run_experiment(_config(strategy, dataset), SETTINGS, cache=False)
    assert result.status == "ok", result.error
    assert result.cycles_done == 2
    picked = [row for cycle in result.selected[1:] for row in cycle]
    assert len(picked) == 6 and len(set(picked)) == 6
    assert not set(picked) & set(result.selected[0])


@pytest.mark.parametrize("strategy", ["random", "qbc_vote_entropy", "quire"])
def test_alipy_randomised_strategies_are_deterministic(strategy):
    config = _config(strategy, "iris", batch_size=2)
    a = run_experiment(config, SETTINGS, cache=False)
    np.random.seed(12345)  # whatever the global RNG holds before, the adapter reseeds it
    b = run_experiment(config, SETTINGS, cache=False)
    assert a.status == b.status == "ok", (a.error, b.error)
    assert a.selected == b.selected


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_uncertainty_matches_native_through_the_loop_on_binary_data(strategy):
    """Same model, same pool: ALiPy's uncertainty sampling picks native's batch in every cycle (as sets: ALiPy
    lists a batch in ascending score order, native in descending)."""
    settings = {**SETTINGS, "cycles": 4}
    ours = run_experiment(_config(strategy, "sonar", "native", batch_size=5), settings, cache=False)
    theirs = run_experiment(_config(strategy, "sonar", "alipy", batch_size=5), settings, cache=False)
    assert ours.status == theirs.status == "ok"
    assert [sorted(s) for s in ours.selected] == [sorted(s) for s in theirs.selected]
    assert [r["accuracy"] for r in ours.curve] == [r["accuracy"] for r in theirs.curve]


def test_binary_only_alipy_strategy_is_excluded_from_multiclass_datasets(tmp_path):
    from algrid.grid import load_grid

    path = tmp_path / "g.yaml"
    path.write_text(
        "name: g\ncycles: 2\ndimensions:\n  dataset: [sonar, iris]\n  strategy: [bmdr, margin]\n"
        "  implementation: [alipy, libact]\n  batch_size: [2]\n  learner: [lr]\n"
    )
    grid = load_grid(path)
    pairs = {(c["dataset"], c["strategy"], c["implementation"]) for c in grid.configs(range(len(grid)))}
    assert pairs == {("sonar", "bmdr", "alipy"), ("sonar", "margin", "alipy"), ("iris", "margin", "alipy")}
    reasons = grid.excluded_by_reason
    assert reasons["binary-only strategy on a multiclass dataset"] == 1
    assert any(r.startswith("margin@libact unavailable: no libact release installs") for r in reasons)


def test_strategies_json_lists_alipy_with_its_version_and_libact_as_unavailable():
    from algrid.cli import main

    result = CliRunner().invoke(main, ["strategies", "--json"])
    assert result.exit_code == 0, result.output
    rows = {(r["strategy"], r["implementation"]): r for r in json.loads(result.output)}
    for name in (
        "random",
        "least_confidence",
        "margin",
        "entropy",
        "graph_density",
        "coreset",
        "density_weighted",
    ):
        row = rows[(name, "alipy")]
        assert row["available"] is True
        assert row["library"] == "alipy"
        assert row["library_version"] == metadata.version("alipy") == "1.2.5"
    libact = [r for (_, impl), r in rows.items() if impl == "libact"]
    assert {r["strategy"] for r in libact} == {
        "least_confidence",
        "margin",
        "entropy",
        "qbc_vote_entropy",
        "density_weighted",
    }
    assert all(r["available"] is False and "scikit-learn<=0.19.2" in r["reason"] for r in libact)


def test_compatibility_step_is_lazy_and_only_fills_a_missing_name():
    code = (
        "import collections, sys\n"
        "from algrid.strategies import all_strategies\n"
        "all_strategies()\n"
        "print(hasattr(collections, 'Iterable'), 'alipy' in sys.modules)\n"
        "from algrid.strategies.alipy import _query_labels\n"
        "_query_labels()\n"
        "import collections.abc\n"
        "print(collections.Iterable is collections.abc.Iterable, 'alipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["False False", "True True"]


@pytest.mark.parametrize(
    "strategy",
    ["random", "least_confidence", "margin", "entropy", "coreset", "density_weighted", "quire", "spal"],
)
def test_alipy_strategy_passes_the_plugin_conformance_checks(strategy):
    """algrid.testing.check_strategy: binary and multiclass, pool < batch, batch 1, one-class labelled set, same
    picks under the same seed, inputs unchanged (the slower ALiPy strategies run through the loop above)."""
    from algrid.testing import check_strategy

    check_strategy(f"{strategy}@alipy")
