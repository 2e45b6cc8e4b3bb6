"""``random``: uniform samples from the known-feasible region, never repeating a told genome."""

from __future__ import annotations

import numpy as np

from tvm_codesign.search.base import SearchSpace, Strategy


def fresh_samples(strategy: Strategy, n: int, tries: int = 8) -> np.ndarray:
    """Up to ``n`` distinct never-told genomes from ``strategy.space.sample``.

    Asks for what is missing (in a big space nearly every sample is new, so nothing is drawn to be thrown away);
    spaces may return fewer samples than asked (rejection samplers), and late in a small space most samples are
    already told, so what is missing is asked for again, doubled on each of ``tries`` shortfalls, before what
    was found is returned.
    """
    got = np.zeros((0, strategy.space.genome_size), dtype=np.int64)
    for attempt in range(tries):
        request = n if attempt == 0 else (n - len(got)) << attempt  # what is missing, more on each shortfall
        batch = strategy.space.sample(max(request, 1), strategy.rng)
        if len(batch):
            got = strategy.unseen(np.concatenate([got, np.asarray(batch, dtype=np.int64)]))
        if len(got) >= n:
            break
    return got[:n]


class RandomSearch(Strategy):
    """Uniform random search over the space's sampler (the baseline every model-based strategy must beat).

    Parameters
    ----------
    space, seed
        See :class:`~tvm_codesign.search.base.Strategy`.
    """

    name = "random"

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        super().__init__(space, seed)

    def ask(self, n: int) -> np.ndarray:
        return fresh_samples(self, n)
