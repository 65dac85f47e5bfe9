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
    source: str  # where the definition comes from: algrid, paper (the published study), algrid[<extra>]
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
            "algrid",
            "scikit-learn",
            notes="scikit-learn's RandomForestClassifier (the study's RF) with identical results, faster small fits",
        ),
        LearnerInfo(
            "svm_rbf",
            "sklearn.svm.SVC",
            {"kernel": "rbf", "probability": True},
            "algrid",
            "scikit-learn",
            notes="the study's RBF-SVM; SVC(probability=True) is removed in scikit-learn 1.11 (use svm_rbf_v2)",
            removed_in=(1, 11),
            removed="SVC(probability=True)",
            replacement="svm_rbf_v2",
        ),
        LearnerInfo(
            "svm_rbf_v2",
            "algrid.learners.sigmoid_svc.SigmoidCalibratedSVC",
            {"C": 1.0, "gamma": "scale", "cv": 5},
            "algrid",
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
            "paper",
            "scikit-learn",
            notes=f"the MLP of the {STUDY}; learning_rate acts only with solver='sgd', so it differs from mlp in max_iter",
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
            "algrid[boosting]",
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
            "algrid[boosting]",
            "lightgbm",
            modules=("lightgbm",),
            extra="boosting",
            notes="deterministic, row-wise histograms; min_child_samples=2 so small labelled sets split",
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
