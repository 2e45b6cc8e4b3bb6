"""The one Pareto filter: indices of the non-dominated rows of a set of objective vectors (all minimised).

Used by the searches (a layer's energy–cycles front), the model's EDP choice over layers and the report's plots.
"""

from __future__ import annotations

import numpy as np


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``points`` (all objectives minimised); duplicates kept once.

    Two objectives: sorted by the first (ties by the second), a row is kept when its second objective is below
    every earlier row's — O(n log n), vectorised. More objectives: O(n²).

    Parameters
    ----------
    points
        ``(n, k)`` objective values.

    Returns
    -------
    numpy.ndarray
        ``int64`` indices into ``points``; for two objectives sorted by the first objective.
    """
    points = np.asarray(points, dtype=float)
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if points.shape[1] == 2:
        order = np.lexsort((points[:, 1], points[:, 0]))
        second = points[order, 1]
        best_before = np.minimum.accumulate(np.concatenate(([np.inf], second[:-1])))
        return order[second < best_before].astype(np.int64)
    keep = []
    for i in range(n):
        dominated = np.all(points <= points[i], axis=1) & np.any(points < points[i], axis=1)
        duplicate_before = np.all(points[:i] == points[i], axis=1).any()
        if not dominated.any() and not duplicate_before:
            keep.append(i)
    return np.array(keep, dtype=np.int64)
