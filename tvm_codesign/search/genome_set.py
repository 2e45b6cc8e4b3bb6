"""GenomeSet: a set of integer genomes held as sorted 64-bit hashes, with vectorised membership.

Strategies must never ask for a genome they were already told, and a space hands its scored samples to its
objective; both look rows up by the thousands per call, where a Python ``set`` of ``row.tobytes()`` costs a
microsecond a row (a search at the cost model's speed of about 1e6 mappings a second cannot afford it). A row's
hash is a dot product with fixed random odd 64-bit multipliers (wrapping), mixed once more (``splitmix64``'s
finaliser, Steele et al., 2014). Two distinct genomes of one search collide with probability about
``n^2 / 2^65`` (1e-8 for a million genomes); a collision would only make a search skip one genome.
"""

from __future__ import annotations

import numpy as np

_MULTIPLIERS = np.random.default_rng(0x5EED).integers(1, 1 << 63, size=256, dtype=np.uint64) | np.uint64(1)


def genome_hash(genomes: np.ndarray) -> np.ndarray:
    """``(n,)`` uint64 hash of each row of an ``(n, k)`` integer array (``k <= 256``)."""
    G = np.asarray(genomes)
    if G.ndim != 2 or G.shape[1] > len(_MULTIPLIERS):
        raise ValueError(f"expected genomes of shape (n, k <= {len(_MULTIPLIERS)}), got {G.shape}")
    with np.errstate(over="ignore"):
        h = G.astype(np.uint64) @ _MULTIPLIERS[: G.shape[1]] if G.shape[1] else np.zeros(len(G), np.uint64)
        h = np.asarray(h, np.uint64)
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h


def first_unique(hashes: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct hash, in first-seen order."""
    _, first = np.unique(hashes, return_index=True)
    return np.sort(first)


class GenomeSet:
    """A growing set of genomes (their hashes, sorted), vectorised ``add`` and ``contains``."""

    def __init__(self) -> None:
        self._sorted = np.zeros(0, np.uint64)

    def __len__(self) -> int:
        return len(self._sorted)

    def contains_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: which hashes are in the set."""
        if not len(self._sorted):
            return np.zeros(len(hashes), bool)
        at = np.minimum(np.searchsorted(self._sorted, hashes), len(self._sorted) - 1)
        return self._sorted[at] == hashes

    def contains(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: which rows of ``genomes`` are in the set."""
        return self.contains_hashes(genome_hash(genomes))

    def add_hashes(self, hashes: np.ndarray) -> None:
        """Add hashes (duplicates are kept once)."""
        new = np.unique(np.asarray(hashes, np.uint64))
        new = new[~self.contains_hashes(new)]
        if len(new):  # a merge, O(n + m log n): re-sorting everything on each add would be O(n log n)
            self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, new), new)

    def add(self, genomes: np.ndarray) -> None:
        """Add the rows of ``genomes``."""
        self.add_hashes(genome_hash(genomes))


__all__ = ["GenomeSet", "first_unique", "genome_hash"]
