"""Gaussian-process surrogate of the objective (already log EDP) over encoded genomes.

ARD kernel (one length scale per feature) so that genes that do not matter get long length scales; targets are
normalised; the training set is capped (best points + most recent ones) so a fit stays well under a second.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, Matern, WhiteKernel
from threadpoolctl import ThreadpoolController

from tvm_codesign.errors import CodesignError

KERNELS = ("matern", "rbf")


_CONTROLLER: ThreadpoolController | None = None


def single_thread_blas():
    """Context limiting BLAS to one thread: GP matrices here are small (<= a few hundred rows), and threaded
    OpenBLAS on a loaded machine made fits ~10x slower (spinning threads fighting other workers). The controller
    is built once: discovering the loaded libraries scans the process maps and costs milliseconds."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def make_kernel(name: str, n_features: int) -> Kernel:
    """``amplitude * (Matern 2.5 | RBF)`` with ARD length scales, plus a small white-noise term.

    The noise term keeps the Cholesky stable when near-duplicate encodings occur (different genomes can encode
    to nearby features) and absorbs modelling error of a deterministic but rough objective.
    """
    scales = np.full(n_features, 0.5)
    bounds = (1e-2, 1e2)
    if name == "matern":
        base: Kernel = Matern(length_scale=scales, length_scale_bounds=bounds, nu=2.5)
    elif name == "rbf":
        base = RBF(length_scale=scales, length_scale_bounds=bounds)
    else:
        raise CodesignError(f"unknown kernel {name!r}; choose one of {', '.join(KERNELS)}")
    return ConstantKernel(1.0, (1e-2, 1e2)) * base + WhiteKernel(1e-3, (1e-6, 1e-1))


def cap_training_set(y: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` rows: the best half by value, then the most recent of the rest."""
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    n_best = max_points // 2
    best = np.argsort(y, kind="stable")[:n_best]
    rest = np.setdiff1d(np.arange(n), best)
    return np.sort(np.concatenate([best, rest[-(max_points - n_best):]]))


class GPSurrogate:
    """GP regression on ``(features, value)`` with normalised targets.

    Parameters
    ----------
    kernel
        ``"matern"`` (Matérn ν=2.5, default) or ``"rbf"``.
    max_points
        Training-set cap (see :func:`cap_training_set`).
    n_restarts
        Extra restarts of the hyper-parameter optimiser.
    seed
        Seed of the optimiser restarts.
    reoptimise_growth
        Hyper-parameters are re-optimised (from the previous optimum, plus restarts) only once the training set has
        grown by this fraction since the last optimisation; in between, the posterior is refitted with them fixed.
        Fits then cost one Cholesky instead of hundreds, and the hyper-parameters barely move point to point.
    """

    def __init__(
        self,
        kernel: str = "matern",
        max_points: int = 300,
        n_restarts: int = 1,
        seed: int = 0,
        reoptimise_growth: float = 0.2,
    ) -> None:
        if kernel not in KERNELS:
            raise CodesignError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
        self.kernel, self.max_points, self.n_restarts, self.seed = kernel, max_points, n_restarts, seed
        self.reoptimise_growth = reoptimise_growth
        self._optimised_at = 0  # training-set size at the last hyper-parameter optimisation
        self._learned: Kernel | None = None
        self.gp: GaussianProcessRegressor | None = None
        self._X = np.zeros((0, 0))
        self._y = np.zeros(0)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "GPSurrogate":
        """Fit hyper-parameters and posterior on finite targets (at most ``max_points`` of them)."""
        X, y = np.asarray(X, float), np.asarray(y, float)
        ok = np.isfinite(y)
        X, y = X[ok], y[ok]
        keep = cap_training_set(y, self.max_points)
        X, y = X[keep], y[keep]
        reuse = self._learned is not None and len(y) < self._optimised_at * (1 + self.reoptimise_growth)
        if reuse:
            self.gp = GaussianProcessRegressor(kernel=self._learned, normalize_y=True, optimizer=None)
        else:
            # From the default start, not the last optimum: optima learned on few points (e.g. very long length
            # scales) are poor starts that the optimiser does not leave.
            self.gp = GaussianProcessRegressor(
                kernel=make_kernel(self.kernel, X.shape[1]),
                normalize_y=True,
                n_restarts_optimizer=self.n_restarts,
                random_state=self.seed,
            )
        with warnings.catch_warnings(), single_thread_blas():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(X, y)
        if not reuse:
            self._learned, self._optimised_at = self.gp.kernel_, len(y)
        self._X, self._y = X, y
        return self

    def condition(self, X_extra: np.ndarray, y_extra: np.ndarray) -> "GPSurrogate":
        """A copy conditioned on extra (e.g. fantasised) points with the fitted hyper-parameters kept."""
        if self.gp is None:
            raise RuntimeError("fit the surrogate first")
        other = GPSurrogate(self.kernel, self.max_points + len(y_extra), 0, self.seed)
        other.gp = GaussianProcessRegressor(kernel=self.gp.kernel_, normalize_y=True, optimizer=None)
        other._X = np.concatenate([self._X, np.asarray(X_extra, float)])
        other._y = np.concatenate([self._y, np.asarray(y_extra, float)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            with single_thread_blas():
                other.gp.fit(other._X, other._y)
        return other

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``X`` (in target units)."""
        if self.gp is None:
            raise RuntimeError("fit the surrogate first")
        with single_thread_blas():
            mu, sigma = self.gp.predict(np.asarray(X, float), return_std=True)
        return mu, np.maximum(sigma, 1e-12)
