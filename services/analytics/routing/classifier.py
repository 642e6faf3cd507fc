"""The routing classifier: a linear SVM and an NBSVM on the same features, their scores added.

NBSVM (Wang & Manning, 2012) scales each feature, per class, by its log-count ratio — how much
more often it occurs in that class's messages than in the others' — and trains a binary SVM on
the scaled features. It leans on the words that single a class out; the plain one-vs-rest SVM
on the unscaled features leans on the common vocabulary; their errors differ. Both are linear in
the features, so their sum is one linear model: `coef_` and `intercept_` are the sum, and
`decision_function` is `X @ coef_.T + intercept_` (what the fast scorer computes).

On the development split (inner 5-fold, near-duplicate groups kept in one fold) the sum scored
+0.007 macro-F1 over the SVM alone, +0.005 over the NBSVM alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC


class SvmNbsvm(ClassifierMixin, BaseEstimator):
    """One-vs-rest LinearSVC (C = `c_svm`) + per-class NBSVM (C = `c_nb`, ratio smoothing
    `alpha`), both class-balanced; the decision is the sum of their scores."""

    def __init__(
        self, c_svm: float = 0.5, c_nb: float = 0.3, alpha: float = 1.0, random_state: int = 0
    ) -> None:
        self.c_svm = c_svm
        self.c_nb = c_nb
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> SvmNbsvm:
        x = sp.csr_matrix(x, dtype=np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("SvmNbsvm needs two classes or more")
        svm = LinearSVC(C=self.c_svm, class_weight="balanced", random_state=self.random_state)
        svm.fit(x, y, sample_weight=sample_weight)
        coef = np.asarray(svm.coef_, dtype=np.float64).copy()
        intercept = np.asarray(svm.intercept_, dtype=np.float64).copy()
        present = x.copy()
        present.data[:] = 1.0
        # Two classes: one score, for the second class (scikit-learn's binary convention).
        scored = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        for k, c in enumerate(scored):
            ratio = self._log_count_ratio(present, y == c)
            nb = LinearSVC(C=self.c_nb, class_weight="balanced", random_state=self.random_state)
            nb.fit(sp.csr_matrix(x.multiply(ratio)), y == c, sample_weight=sample_weight)
            coef[k] += nb.coef_.ravel() * ratio
            intercept[k] += nb.intercept_[0]
        self.coef_ = coef
        self.intercept_ = intercept
        self.n_features_in_ = x.shape[1]
        return self

    def _log_count_ratio(self, present: sp.csr_matrix, positive: np.ndarray) -> np.ndarray:
        p = self.alpha + np.asarray(present[positive].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
        return np.log((p / p.sum()) / (q / q.sum()))

    def decision_function(self, x: Any) -> np.ndarray:
        scores = np.asarray(sp.csr_matrix(x) @ self.coef_.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict(self, x: Any) -> np.ndarray:
        scores = self.decision_function(x)
        best = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return np.asarray(self.classes_[best])
