"""Acquisition functions (all returned as scores to *maximise*) for minimisation problems.

``ei`` is expected improvement; ``lcb`` the lower confidence bound turned into an optimistic improvement. Both are
multiplied by the probability of feasibility (the paper's constrained acquisition, Gardner et al. 2014): a point
likely to break an unknown constraint is worth little however good its predicted value.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from tvm_codesign.errors import CodesignError

ACQUISITIONS = ("ei", "lcb")


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """E[max(best - xi - f, 0)] under ``f ~ N(mu, sigma²)``."""
    sigma = np.maximum(sigma, 1e-12)
    imp = best - xi - mu
    z = imp / sigma
    return np.maximum(imp * norm.cdf(z) + sigma * norm.pdf(z), 0.0)


def lower_confidence_bound(mu: np.ndarray, sigma: np.ndarray, kappa: float = 2.0) -> np.ndarray:
    """``mu - kappa * sigma`` (smaller is more promising)."""
    return mu - kappa * sigma


def score(
    kind: str,
    mu: np.ndarray,
    sigma: np.ndarray,
    best: float,
    pof: np.ndarray | None = None,
    xi: float = 0.0,
    kappa: float = 2.0,
) -> np.ndarray:
    """Acquisition × probability of feasibility (``pof=None``: unconstrained).

    For ``lcb`` the score is the optimistic improvement ``max(best - LCB, 0)``; where no candidate has any, it
    falls back to ``LCB`` shifted to be positive, so the ranking stays the LCB ranking and PoF still weighs in.
    """
    if kind == "ei":
        value = expected_improvement(mu, sigma, best, xi)
    elif kind == "lcb":
        lcb = lower_confidence_bound(mu, sigma, kappa)
        value = np.maximum(best - lcb, 0.0)
        if not (value > 0).any():
            value = (lcb.max() - lcb) + 1e-9
    else:
        raise CodesignError(f"unknown acquisition {kind!r}; choose one of {', '.join(ACQUISITIONS)}")
    if value.max() <= 0:  # EI underflowed everywhere (far from the best): rank by the mean instead
        value = np.exp(-(mu - mu.min()) / max(float(np.std(mu)), 1e-12)) * 1e-12
    return value if pof is None else value * np.asarray(pof)
