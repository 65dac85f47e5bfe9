"""The loop lets scikit-learn skip only the checks algrid made once (algrid.engine.trusted): built-in learners'
parameters and a finite dataset's rows. Bad parameters of a user's learner still fail in scikit-learn's words."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn

from algrid.datasets import load_dataset
from algrid.engine import trusted
from algrid.engine.loop import run_experiment
from algrid.learners import BUILTIN_LEARNERS, make_learner
from algrid.learners.catalog import unavailable_reason

CONFIG = dict(
    dataset="iris",
    strategy="margin",
    implementation="native",
    batch_size=3,
    initial_pool="per_class:2",
    split=0,
    start=0,
    seed=0,
)
SETTINGS = {"name": "t", "cycles": 2, "test_size": 0.3, "timeout_s": 120.0, "memory_mb": None}


@pytest.mark.parametrize("learner", sorted(n for n in BUILTIN_LEARNERS if not unavailable_reason(n)))
def test_builtin_learner_parameters_pass_scikit_learns_own_validation(learner):
    """What lets the loop skip the check on every fit: each built-in learner's constant parameters pass it."""
    ds = load_dataset("iris")
    with sklearn.config_context(skip_parameter_validation=False, assume_finite=False):
        make_learner(learner, 0).fit(ds.X[::3], ds.y[::3])


def test_calls_skip_only_what_algrid_checked(monkeypatch):
    def config_inside(factory):
        with factory():
            return {k: sklearn.get_config()[k] for k in ("skip_parameter_validation", "assume_finite")}

    assert config_inside(trusted.trusted_calls("lr", "iris")) == {
        "skip_parameter_validation": True,
        "assume_finite": True,
    }
    # a grid-defined or plugin learner keeps scikit-learn's parameter check on every fit
    assert config_inside(trusted.trusted_calls("my_forest", "iris"))["skip_parameter_validation"] is False
    monkeypatch.setattr(trusted, "_all_finite", lambda dataset: False)
    assert config_inside(trusted.trusted_calls("lr", "iris"))["assume_finite"] is False
    assert trusted.trusted_calls("my_forest", "iris")().__class__.__name__ == "nullcontext"


def test_a_defined_learners_bad_parameter_still_fails_in_scikit_learns_words():
    settings = SETTINGS | {
        "learners": {
            "bad_et": {"class": "sklearn.ensemble.ExtraTreesClassifier", "params": {"n_estimators": -1}}
        }
    }
    result = run_experiment(CONFIG | {"learner": "bad_et"}, settings, cache=False)
    assert result.status == "failed"
    assert "n_estimators" in result.error and "InvalidParameterError" in result.error


def test_skipping_the_checks_changes_no_result():
    """The same curves with scikit-learn's checks on (the context disabled) and skipped."""
    runs = {}
    for checked in (False, True):
        with pytest.MonkeyPatch.context() as mp:
            if checked:
                mp.setattr(
                    "algrid.engine.loop.trusted_calls", lambda learner, dataset: sklearn.config_context
                )
            runs[checked] = [
                run_experiment(CONFIG | {"learner": learner}, SETTINGS, cache=False)
                for learner in ("lr", "gnb", "knn", "dt")
            ]
    for a, b in zip(runs[False], runs[True], strict=True):
        assert a.status == b.status == "ok"
        assert a.selected == b.selected
        untimed = [
            [{k: v for k, v in row.items() if not k.endswith("_s")} for row in r.curve] for r in (a, b)
        ]
        assert untimed[0] == untimed[1]
        assert np.isfinite([row["accuracy"] for row in a.curve]).all()
