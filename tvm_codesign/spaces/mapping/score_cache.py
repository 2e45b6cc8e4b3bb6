"""ScoreCache: the cost of the genomes a mapping space last handed out, so that its objective scores each once.

Sampling and local moves must judge every candidate with the cost model (validity is the cost model's verdict),
and that one call also gives the cost. The space keeps what it handed out here; its
:class:`~tvm_codesign.spaces.mapping.objective.MappingObjective` looks the genomes it is asked to score up and
evaluates only the rest. Bounded: the oldest batches are dropped first.
"""

from __future__ import annotations

import collections

import numpy as np

from tvm_codesign.search.genome_set import genome_hash

#: Rows kept (about 100 bytes each): the last few sampled or moved batches of the biggest searches.
CAPACITY = 1 << 18


class ScoreCache:
    """Energy and cycles of recently judged valid genomes, looked up by genome (exactly: rows are compared)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._batches: collections.deque = collections.deque()
        self._rows = 0

    def put(self, genomes: np.ndarray, energy_pj: np.ndarray, cycles: np.ndarray) -> None:
        """Remember the cost of valid ``genomes``."""
        if not len(genomes):
            return
        h = genome_hash(genomes)
        order = np.argsort(h, kind="stable")
        self._batches.append((h[order], np.asarray(genomes, np.int32)[order], energy_pj[order], cycles[order]))
        self._rows += len(h)
        while self._rows > self.capacity and len(self._batches) > 1:
            self._rows -= len(self._batches.popleft()[0])

    def get(self, genomes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(found, energy_pj, cycles)`` for each row (costs ``nan`` where not found)."""
        n = len(genomes)
        found = np.zeros(n, bool)
        energy, cycles = np.full(n, np.nan), np.full(n, np.nan)
        if not self._batches or not n:
            return found, energy, cycles
        h = genome_hash(genomes)
        G = np.asarray(genomes)
        for hs, gs, es, cs in reversed(self._batches):
            todo = np.flatnonzero(~found)
            if not len(todo):
                break
            at = np.minimum(np.searchsorted(hs, h[todo]), len(hs) - 1)
            hit = (hs[at] == h[todo]) & np.all(gs[at] == G[todo], axis=1)
            rows, src = todo[hit], at[hit]
            found[rows], energy[rows], cycles[rows] = True, es[src], cs[src]
        return found, energy, cycles

    def clear(self) -> None:
        self._batches.clear()
        self._rows = 0


__all__ = ["CAPACITY", "ScoreCache"]
