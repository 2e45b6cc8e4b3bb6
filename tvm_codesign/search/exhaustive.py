"""``exhaustive``: every valid genome of a space small enough to list, in the space's own order.

The listing is streamed chunk by chunk (a space may have 1e7+ genomes of which only some meet the known
constraints), and filtered by ``space.valid`` when the space has it, so no evaluation is spent on genomes the
space already knows to be invalid.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.search.base import SearchSpace, Strategy, SupportsEnumerate


class Exhaustive(Strategy):
    """Evaluate every point of an enumerable space (gives the true optimum; the yardstick for the others).

    Parameters
    ----------
    space
        Must implement ``enumerate(limit)`` (:class:`~tvm_codesign.search.base.SupportsEnumerate`).
    seed
        Unused (the order is the space's); kept for a uniform constructor.
    limit
        Largest ``space.size()`` accepted (genomes listed, valid or not); above it the search is refused rather
        than silently truncated.

    Raises
    ------
    CodesignError
        If the space cannot be enumerated or is larger than ``limit``.
    """

    name = "exhaustive"

    def __init__(self, space: SearchSpace, seed: int = 0, limit: int = 100_000_000) -> None:
        super().__init__(space, seed)
        if not isinstance(space, SupportsEnumerate):
            raise CodesignError(f"exhaustive search needs a space with enumerate(); {type(space).__name__} has none")
        size = float(space.size())
        if size > limit:
            raise CodesignError(f"space has ~{size:.3g} genomes, above the exhaustive limit of {limit}")
        self.limit = limit
        listing = space.enumerate(limit)
        self._chunks: Iterator[np.ndarray] = iter([listing]) if isinstance(listing, np.ndarray) else iter(listing)
        self._valid = getattr(space, "valid", None)
        self._buffer = np.zeros((0, space.genome_size), dtype=np.int64)
        self.listed = 0  # genomes listed so far (valid or not)
        self.exhausted = False
        self._refill(1)  # surface enumeration errors (e.g. a size limit inside the space) at construction

    def _refill(self, n: int) -> None:
        while len(self._buffer) < n and not self.exhausted:
            try:
                chunk = np.asarray(next(self._chunks), dtype=np.int64).reshape(-1, self.space.genome_size)
            except StopIteration:
                self.exhausted = True
                break
            self.listed += len(chunk)
            if self.listed > self.limit:
                raise CodesignError(f"space enumerates to more than the exhaustive limit of {self.limit} genomes")
            if self._valid is not None and len(chunk):
                chunk = chunk[np.asarray(self._valid(chunk), dtype=bool)]
            self._buffer = np.concatenate([self._buffer, chunk])

    def ask(self, n: int) -> np.ndarray:
        out = np.zeros((0, self.space.genome_size), dtype=np.int64)
        while len(out) < n:
            self._refill(n - len(out))
            if not len(self._buffer):
                break
            take, self._buffer = self._buffer[: n - len(out)], self._buffer[n - len(out) :]
            if self._seen:
                take = take[~self.is_told(take)]  # skip warm-start points already told
            out = np.concatenate([out, take])
        return out
