"""An RBF support vector classifier with Platt (sigmoid) probabilities that does not need ``SVC(probability=True)``.

Why: scikit-learn 1.11 removes ``SVC(probability=True)``, the probability path of the ``svm_rbf`` learner (and of
the published study's RBF-SVM). libsvm's Platt scaling fits a sigmoid to decision values from an internal 5-fold
cross-validation and keeps one SVC trained on all rows; ``CalibratedClassifierCV(method="sigmoid",
ensemble=False)`` does the same with scikit-learn's public API. Active learning starts from one labelled row per
class, where no fold split exists, so the number of folds shrinks to the smallest class count and, below two rows
per class, the sigmoid is fitted on the training decision values of the one SVC. The probabilities are close to
but not the same as libsvm's, hence a new learner name (``svm_rbf_v2``): stored ``svm_rbf`` results keep their keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

#: Folds of the sigmoid's cross-validation (libsvm's Platt scaling uses 5).
CV_FOLDS = 5


class SigmoidCalibratedSVC(ClassifierMixin, BaseEstimator):
    """``SVC(kernel="rbf")`` + sigmoid calibration via ``CalibratedClassifierCV``; seeded fold shuffling."""

    def __init__(self, C: float = 1.0, gamma: Any = "scale", cv: int = CV_FOLDS, random_state: Any = None):
        self.C = C
        self.gamma = gamma
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> SigmoidCalibratedSVC:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import SVC

        y = np.asarray(y)
        _, counts = np.unique(y, return_counts=True)
        svc = SVC(kernel="rbf", C=self.C, gamma=self.gamma)
        folds = min(int(self.cv), int(counts.min()))
        if folds >= 2:
            split: Any = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        else:  # too few rows for any fold split: one "fold" that trains and scores on every row
            rows = np.arange(len(y))
            split = [(rows, rows)]
        model = CalibratedClassifierCV(svc, method="sigmoid", cv=split, ensemble=False)
        self.model_ = model.fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(X)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The SVC's decision values (what ``SVC.decision_function`` returns), for margin-based strategies."""
        return self.model_.calibrated_classifiers_[0].estimator.decision_function(X)
