"""Classifier of the constraints only known after evaluation: P(feasible | encoded genome).

Trained only on points that did not fail (a crash says nothing about feasibility). Until both classes have been
seen, every point is predicted feasible with probability 1: there is nothing to learn a boundary from, and an
all-feasible history is no evidence of an infeasible region.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessClassifier
from sklearn.gaussian_process.kernels import ConstantKernel, Matern
from sklearn.linear_model import LogisticRegression

from tvm_codesign.errors import CodesignError
from tvm_codesign.search.surrogate import single_thread_blas

CLASSIFIERS = ("gp", "rf", "logistic")


class FeasibilityModel:
    """P(feasible) from told outcomes.

    Parameters
    ----------
    kind
        ``"gp"`` (GP classifier, Laplace approximation, Matérn 2.5 ARD: smooth calibrated boundaries; default),
        ``"rf"`` (random forest: fast on many points, coarser probabilities) or ``"logistic"`` (linear boundary).
    max_points
        Cap on the training set (GP classifiers are cubic): all infeasible points up to half the cap, the most
        recent feasible ones for the rest.
    seed
        Seed of the classifier.

    Attributes
    ----------
    train_X, train_y
        The data of the last fit (``train_y`` True = feasible); failed points never appear in it.
    """

    def __init__(self, kind: str = "gp", max_points: int = 400, seed: int = 0) -> None:
        if kind not in CLASSIFIERS:
            raise CodesignError(f"unknown feasibility classifier {kind!r}; choose one of {', '.join(CLASSIFIERS)}")
        self.kind, self.max_points, self.seed = kind, max_points, seed
        self.model = None
        self._learned = None  # GP classifier kernel of the last optimisation, reused (warm start, no restarts)
        self._optimised_at = 0
        self.train_X = np.zeros((0, 0))
        self.train_y = np.zeros(0, bool)

    @property
    def active(self) -> bool:
        """Whether a classifier is fitted (both classes seen); otherwise P(feasible) = 1."""
        return self.model is not None

    def fit(self, X: np.ndarray, feasible: np.ndarray, failed: np.ndarray | None = None) -> "FeasibilityModel":
        """Fit on the non-failed rows of ``X`` labelled by ``feasible``."""
        X = np.asarray(X, float)
        feasible = np.asarray(feasible, bool)
        keep = ~np.asarray(failed, bool) if failed is not None else np.ones(len(X), bool)
        X, feasible = X[keep], feasible[keep]
        X, feasible = self._cap(X, feasible)
        self.train_X, self.train_y = X, feasible
        self.model = None
        if len(X) == 0 or feasible.all() or not feasible.any():
            return self
        if self.kind == "gp":
            # Same schedule as the regression GP: optimise the kernel (from the default start) when the data grew
            # by 20 %, else keep the last optimum fixed.
            reuse = self._learned is not None and len(X) < self._optimised_at * 1.2
            kernel = self._learned if reuse else (
                ConstantKernel(1.0, (1e-2, 1e2)) * Matern(np.full(X.shape[1], 0.5), (1e-2, 1e2), nu=2.5))
            model = GaussianProcessClassifier(
                kernel=kernel, optimizer=None if reuse else "fmin_l_bfgs_b", random_state=self.seed)
        elif self.kind == "rf":
            model = RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=self.seed, n_jobs=1)
        else:
            model = LogisticRegression(C=10.0, max_iter=1000)
        with warnings.catch_warnings(), single_thread_blas():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, feasible.astype(int))
        if self.kind == "gp" and not reuse:
            self._learned, self._optimised_at = model.kernel_, len(X)
        self.model = model
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(m,)`` probability that each row is feasible."""
        X = np.asarray(X, float)
        if self.model is None:
            return np.ones(len(X))
        with single_thread_blas():
            proba = self.model.predict_proba(X)
        col = list(self.model.classes_).index(1)
        return proba[:, col]

    def _cap(self, X: np.ndarray, feasible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(X) <= self.max_points:
            return X, feasible
        bad = np.flatnonzero(~feasible)[-(self.max_points // 2):]  # the rare class is kept preferentially
        good = np.flatnonzero(feasible)[-(self.max_points - len(bad)):]
        idx = np.sort(np.concatenate([bad, good]))
        return X[idx], feasible[idx]
