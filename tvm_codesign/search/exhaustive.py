"""``exhaustive``: every valid genome of a space small enough to list, in the space's own order."""

from __future__ import annotations

import numpy as np

from ..errors import CodesignError
from .base import SearchSpace, Strategy, SupportsEnumerate


class Exhaustive(Strategy):
    """Evaluate every point of an enumerable space (gives the true optimum; the yardstick for the others).

    Parameters
    ----------
    space
        Must implement ``enumerate(limit)`` (:class:`~tvm_codesign.search.base.SupportsEnumerate`).
    seed
        Unused (the order is the space's); kept for a uniform constructor.
    limit
        Largest space accepted; ``space.size()`` above it is refused rather than silently truncated.

    Raises
    ------
    CodesignError
        If the space cannot be enumerated or is larger than ``limit``.
    """

    name = "exhaustive"

    def __init__(self, space: SearchSpace, seed: int = 0, limit: int = 2_000_000) -> None:
        super().__init__(space, seed)
        if not isinstance(space, SupportsEnumerate):
            raise CodesignError(f"exhaustive search needs a space with enumerate(); {type(space).__name__} has none")
        size = float(space.size())
        if size > limit:
            raise CodesignError(f"space has ~{size:.3g} points, above the exhaustive limit of {limit}")
        # One over the limit tells "exactly at the limit" from "truncated" when size() is only an estimate.
        points = np.asarray(space.enumerate(limit + 1), dtype=np.int64).reshape(-1, space.genome_size)
        if len(points) > limit:
            raise CodesignError(f"space enumerates to more than the exhaustive limit of {limit} points")
        self.points = points
        self._next = 0

    def ask(self, n: int) -> np.ndarray:
        out = []
        count = 0
        while count < n and self._next < len(self.points):
            chunk = self.points[self._next : self._next + (n - count)]
            self._next += len(chunk)
            chunk = chunk[~self.is_told(chunk)] if self._seen else chunk  # skip warm-start points already told
            out.append(chunk)
            count += len(chunk)
        return np.concatenate(out) if out else np.zeros((0, self.space.genome_size), dtype=np.int64)

    @property
    def remaining(self) -> int:
        """Points not yet proposed."""
        return len(self.points) - self._next
