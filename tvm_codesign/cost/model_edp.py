"""A model's EDP from per-layer Pareto sets: pick one (energy, cycles) point per layer to minimise the product.

A model's EDP is (Σ count·energy) × (Σ count·cycles) over its layers. That does not decompose per layer — the best
mapping of each layer alone is not the best set — so each inner search keeps a few energy–cycles Pareto points and
this module chooses one per layer.

The choice is exact: a dynamic program over layers keeps the Pareto front of the partial sums (every other partial
choice is dominated, so it cannot lead to a smaller product), then takes the point of the final front with the
smallest product. Fronts stay small in practice (a few points per layer); ``max_front`` thins them (keeping the
extremes and the current best-product points) only if they grow beyond it.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from tvm_codesign.pareto import pareto_front


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """The chosen point per layer and the model's totals."""

    choice: tuple[int, ...]  # index into each layer's points
    energy_pj: float
    cycles: float

    @property
    def edp(self) -> float:
        return self.energy_pj * self.cycles


def choose_points(
    layers: Sequence[tuple[int, Sequence[tuple[float, float]]]], max_front: int = 4096
) -> ModelChoice:
    """Choose one point per layer minimising (Σ count·energy) × (Σ count·cycles).

    Parameters
    ----------
    layers
        ``(count, points)`` per layer, ``points`` a non-empty list of ``(energy_pj, cycles)`` of one instance.
    max_front
        Bound on the partial front kept between layers (thinned beyond it; exact below it).
    """
    if not layers:
        raise ValueError("no layers to combine")
    # Partial front: arrays of summed energy and cycles, and the choice that led to each.
    energy = np.zeros(1)
    cycles = np.zeros(1)
    choices = np.zeros((1, 0), dtype=np.int64)
    for count, points in layers:
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        if len(pts) == 0:
            raise ValueError("a layer has no points to choose from")
        e = (energy[:, None] + count * pts[None, :, 0]).ravel()
        t = (cycles[:, None] + count * pts[None, :, 1]).ravel()
        prev = np.repeat(np.arange(len(energy)), len(pts))
        pick = np.tile(np.arange(len(pts)), len(energy))
        keep = pareto_front(np.stack([e, t], axis=1))
        if len(keep) > max_front:
            # Keep the extremes and the best products, then evenly spaced points along the front.
            prod = e[keep] * t[keep]
            best = keep[np.argsort(prod)[: max_front // 2]]
            spread = keep[np.linspace(0, len(keep) - 1, max_front - len(best)).round().astype(int)]
            keep = np.unique(np.concatenate([best, spread]))
        energy, cycles = e[keep], t[keep]
        choices = np.concatenate([choices[prev[keep]], pick[keep, None]], axis=1)
    i = int(np.argmin(energy * cycles))
    return ModelChoice(tuple(int(c) for c in choices[i]), float(energy[i]), float(cycles[i]))
