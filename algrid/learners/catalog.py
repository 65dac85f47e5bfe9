"""What each learner name means: its class, parameters, where the definition comes from, what it needs installed.

Why a catalogue beside the factories (:mod:`algrid.learners`): ``algrid learners`` and grid validation must answer
without importing scikit-learn, XGBoost or LightGBM, and a user comparing with the published study needs the
definitions side by side (docs/learners.md). A test checks every entry against the estimator its factory builds.

Identity rule: a learner name's definition never changes, because the name is what enters ``exp_key``. A changed
definition is a new name (``mlp_paper``, ``svm_rbf_v2``), so stored results of the old one keep their keys.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

STUDY = "published study (Gonsior et al. 2025)"


@dataclass(frozen=True)
class LearnerInfo:
    """One learner name: the estimator it builds and what it needs."""

    name: str
    cls: str  # the estimator class, as module.Class
    params: dict[str, Any]  # parameters set by algrid (all others are the library's defaults); seed excluded
    source: str  # where the definition comes from
    library: str  # distribution whose version is reported
    modules: tuple[str, ...] = ()  # importable modules it needs beyond the core dependencies
    extra: str = ""  # the optional extra that installs them
    notes: str = ""
    removed_in: tuple[int, int] | None = None  # first scikit-learn (major, minor) without what it uses ...
    removed: str = ""  # ... namely this
    replacement: str = ""  # the learner to use there


CATALOG: dict[str, LearnerInfo] = {
    info.name: info
    for info in [
        LearnerInfo(
            "rf",
            "algrid.learners.fast_forest.FastRandomForestClassifier",
            {"n_estimators": 100, "n_jobs": 1},
            "algrid; same definition as the study's RandomForestClassifier (scikit-learn defaults)",
            "scikit-learn",
            notes="scikit-learn's RandomForestClassifier results, faster on small labelled sets",
        ),
        LearnerInfo(
            "svm_rbf",
            "sklearn.svm.SVC",
            {"kernel": "rbf", "probability": True},
            "algrid; same definition as the study's RBF-SVM",
            "scikit-learn",
            notes="libsvm Platt probabilities; SVC(probability=True) is removed in scikit-learn 1.11",
            removed_in=(1, 11),
            removed="SVC(probability=True)",
            replacement="svm_rbf_v2",
        ),
        LearnerInfo(
            "svm_rbf_v2",
            "algrid.learners.sigmoid_svc.SigmoidCalibratedSVC",
            {"C": 1.0, "gamma": "scale", "cv": 5},
            "algrid; svm_rbf for scikit-learn >= 1.11 (CalibratedClassifierCV instead of probability=True)",
            "scikit-learn",
            notes="SVC(kernel='rbf') + CalibratedClassifierCV(method='sigmoid', ensemble=False), folds <= class size",
        ),
        LearnerInfo(
            "mlp",
            "sklearn.neural_network.MLPClassifier",
            {"hidden_layer_sizes": [100], "max_iter": 200},
            "algrid",
            "scikit-learn",
        ),
        LearnerInfo(
            "mlp_paper",
            "sklearn.neural_network.MLPClassifier",
            {
                "hidden_layer_sizes": [100],
                "activation": "relu",
                "solver": "adam",
                "learning_rate": "adaptive",
                "max_iter": 1000,
                "warm_start": False,
                "early_stopping": False,
            },
            STUDY,
            "scikit-learn",
            notes="learning_rate acts only with solver='sgd'; differs from mlp in max_iter",
        ),
        LearnerInfo(
            "lr", "sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, "algrid", "scikit-learn"
        ),
        LearnerInfo("dt", "sklearn.tree.DecisionTreeClassifier", {}, "algrid", "scikit-learn"),
        LearnerInfo(
            "knn",
            "sklearn.neighbors.KNeighborsClassifier",
            {"n_neighbors": 5, "n_jobs": 1},
            "algrid",
            "scikit-learn",
            notes="n_neighbors capped at the labelled count",
        ),
        LearnerInfo("gnb", "sklearn.naive_bayes.GaussianNB", {}, "algrid", "scikit-learn"),
        LearnerInfo("hgb", "sklearn.ensemble.HistGradientBoostingClassifier", {}, "algrid", "scikit-learn"),
        LearnerInfo(
            "xgb",
            "algrid.learners.boosting.EncodedXGBClassifier",
            {"n_estimators": 100, "tree_method": "hist", "n_jobs": 1},
            "algrid (optional extra boosting)",
            "xgboost",
            modules=("xgboost",),
            extra="boosting",
            notes="xgboost.XGBClassifier on labels encoded to 0..k-1",
        ),
        LearnerInfo(
            "lgbm",
            "lightgbm.LGBMClassifier",
            {
                "n_estimators": 100,
                "min_child_samples": 2,
                "n_jobs": 1,
                "deterministic": True,
                "force_row_wise": True,
            },
            "algrid (optional extra boosting)",
            "lightgbm",
            modules=("lightgbm",),
            extra="boosting",
        ),
    ]
}


def _sklearn_version() -> tuple[int, int]:
    parts = metadata.version("scikit-learn").split(".")
    return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)


@cache
def unavailable_reason(name: str) -> str:
    """Why learner ``name`` cannot be built here ('' if it can). Never imports the learner's library."""
    info = CATALOG.get(name)
    if info is None:
        return ""
    missing = [m for m in info.modules if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed: pip install 'algrid[{info.extra}]'"
    if info.removed_in is not None and _sklearn_version() >= info.removed_in:
        version = metadata.version("scikit-learn")
        return f"scikit-learn {version} removed {info.removed}; use {info.replacement}"
    return ""


def library_version(info: LearnerInfo) -> str | None:
    """Installed version of the learner's library (the import's ``__version__`` when the distribution name differs,
    as for ``xgboost-cpu``)."""
    try:
        return metadata.version(info.library)
    except metadata.PackageNotFoundError:
        pass
    if info.modules and importlib.util.find_spec(info.modules[0]) is not None:
        module = importlib.import_module(info.modules[0])
        return getattr(module, "__version__", None)
    return None


#: The labelled set at which ``relative_cost`` compares fit costs: (rows, features, classes).
COST_SHAPE: tuple[int, int, int] = (100, 16, 3)


def relative_costs() -> dict[str, float]:
    """CPU cost of one fit at :data:`COST_SHAPE`, relative to ``lr``, from the shipped cost calibration
    (``algrid/cost/calibration.json``, measured by ``benchmarks/calibrate.py``; what ``grid estimate`` uses).
    Learners without a measured law keep the registry's hand-set value."""
    import numpy as np

    from algrid.cost.estimate import load_calibration
    from algrid.learners import LEARNERS

    cal = load_calibration()
    n, d, k = COST_SHAPE
    base = float(cal.fit_s("lr", np.array([n]), d, k)[0])
    out = {}
    for name, (_, static) in LEARNERS.items():
        if name in cal.learners:
            out[name] = round(float(cal.fit_s(name, np.array([n]), d, k)[0]) / base, 2)
        else:
            out[name] = static
    return out


def learner_rows() -> list[dict[str, Any]]:
    """One dict per learner, as ``algrid learners --json`` prints them."""
    from algrid.learners import LEARNERS

    costs = relative_costs()
    rows = []
    for name in LEARNERS:
        info = CATALOG[name]
        reason = unavailable_reason(name)
        rows.append(
            {
                "name": name,
                "class": info.cls,
                "params": info.params,
                "source": info.source,
                "relative_cost": costs[name],
                "available": not reason,
                "unavailable_reason": reason,
                "library": info.library,
                "library_version": library_version(info),
                "extra": info.extra or None,
                "notes": info.notes,
            }
        )
    return rows
