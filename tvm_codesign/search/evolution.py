"""``evolve``: an elitist evolutionary search over the space's local moves, batched to run at the cost model's speed.

Random sampling stops improving early: its distribution, not its budget, limits it (best of 20,000 and of 65,536
samples differ by a few per cent). A search that keeps improving refines the best points found so far. Each
``ask`` after the initial random design returns a batch of

* **children** of the elite (the ``elite`` best feasible points told so far): a parent picked with a bias to the
  best (rank ``elite * u ** selection``, ``u`` uniform), or a gene-wise crossover of two such parents, then a few
  local moves (``space.mutate`` where the space has it, judged once at the end, else chained
  ``space.neighbors``: a factor moved between levels, two loops swapped, a cut shifted, double buffering toggled)
  -- one move, plus one more with probability ``extra_move`` each, so that some children jump further than one
  step -- and now and then one gene redrawn;
* **fresh samples** (a share ``explore``): restarts that keep the elite from collapsing onto one basin.

Nothing is ever asked twice (``Strategy.unseen``). Every candidate comes from the sampler or from valid moves, so
the known constraints always hold; the unknown ones (infeasible outcomes) simply never enter the elite. Moves and
samples are judged by the space when made, so a mapping space scores each candidate once.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.search.base import Outcome, SearchSpace, Strategy
from tvm_codesign.search.random_search import fresh_samples

#: Fresh samples drawn per sampler call, in batches' worth of the restarts one ask needs.
RESERVE = 4


class EvolutionarySearch(Strategy):
    """Elitist (mu + lambda) evolution over local moves, with random restarts.

    Parameters
    ----------
    space, seed
        See :class:`~tvm_codesign.search.base.Strategy`.
    n_initial
        Fresh samples before the first children.
    elite
        How many of the best feasible points told so far may be parents.
    selection
        Selection pressure: a parent's rank is ``elite * u ** selection`` (1 = uniform over the elite; higher
        favours the best).
    extra_move
        Probability of each further move on a child (the number of moves is 1 + geometric).
    max_moves
        Most moves on one child.
    explore
        Share of each batch that is fresh samples.
    crossover
        Share of children whose parent is a uniform gene-wise crossover of two elite points (then moved as the
        others are): it combines, say, one parent's loop orders with the other's tiles.
    reset
        Where the space's ``mutate`` takes it (a mapping space): the probability that a child also has one gene
        redrawn uniformly, a jump out of the parent's basin.
    """

    name = "evolve"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        n_initial: int = 256,
        elite: int = 32,
        selection: float = 2.0,
        extra_move: float = 0.5,
        max_moves: int = 4,
        explore: float = 0.2,
        crossover: float = 0.6,
        reset: float = 0.2,
    ) -> None:
        super().__init__(space, seed)
        for name, value in (("explore", explore), ("crossover", crossover), ("reset", reset)):
            if not 0.0 <= float(value) <= 1.0:
                raise CodesignError(f"evolve's {name} must be a probability in [0, 1], got {value!r}")
        if not 0.0 <= float(extra_move) < 1.0:  # the number of moves is geometric: 1 would never stop
            raise CodesignError(f"evolve's extra_move must be in [0, 1), got {extra_move!r}")
        self.n_initial = int(n_initial)
        self.elite = max(1, int(elite))
        self.selection = float(selection)
        self.extra_move = float(extra_move)
        self.max_moves = max(1, int(max_moves))
        self.explore = float(explore)
        self.crossover = float(crossover)
        self.reset = float(reset)
        self._reserve = np.zeros((0, space.genome_size), np.int64)
        self._elite_idx = np.zeros(0, np.int64)

    def tell(self, genomes: np.ndarray, outcome: Outcome) -> None:
        lo = self.n_told
        super().tell(genomes, outcome)
        # The elite, kept up to date from each batch (not re-ranked over everything told).
        new = lo + np.flatnonzero(np.isfinite(self.y[lo:]))
        ok = np.concatenate([self._elite_idx, new])
        if len(ok) > self.elite:
            ok = ok[np.argpartition(self.y[ok], self.elite - 1)[: self.elite]]
        self._elite_idx = ok[np.lexsort((ok, self.y[ok]))]

    def _elite(self) -> np.ndarray:
        """Indices of the best feasible told points, best first."""
        return self._elite_idx

    def _steps(self, n: int) -> np.ndarray:
        """Moves per child: 1 + geometric(``extra_move``), at most ``max_moves``."""
        if self.extra_move <= 0:
            return np.ones(n, np.int64)
        return 1 + np.minimum(self.rng.geometric(1.0 - self.extra_move, n) - 1, self.max_moves - 1)

    def _children(self, elite: np.ndarray, n: int) -> np.ndarray:
        """About ``n`` never-told children of the elite."""
        def pick(m: int) -> np.ndarray:
            rank = (len(elite) * self.rng.random(m) ** self.selection).astype(np.int64)
            return self.X[elite[np.minimum(rank, len(elite) - 1)]]

        def parents(m: int) -> np.ndarray:
            out = pick(m)
            mixed = np.flatnonzero(self.rng.random(m) < self.crossover)
            if len(mixed) and len(elite) > 1:
                other = pick(len(mixed))
                take = self.rng.random(other.shape) < 0.5
                out[mixed] = np.where(take, other, out[mixed])
            return out

        mutate = getattr(self.space, "mutate", None)
        if callable(mutate):  # judged once after all moves; ask for what the valid share says is needed
            rate = max(getattr(self.space, "mutation_rate", None) or 0.5, 0.05)
            m = int(np.ceil(n / rate * 1.1)) + 8
            return self.unseen(mutate(parents(m), self._steps(m), self.rng, reset=self.reset))
        out = parents(n)
        steps = self._steps(n)
        for step in range(int(steps.max(initial=0))):
            rows = np.flatnonzero(steps > step)
            out[rows] = self.space.neighbors(out[rows], self.rng)
        return self.unseen(out)

    def _fresh(self, n: int) -> np.ndarray:
        """``n`` never-told samples, drawn several batches' worth at a time (a sampler call has a fixed cost of
        about a millisecond, as much as scoring a few hundred mappings)."""
        self._reserve = self.unseen(self._reserve)
        if len(self._reserve) < n:
            self._reserve = self.unseen(np.concatenate([self._reserve, fresh_samples(self, RESERVE * n)]))
        out, self._reserve = self._reserve[:n], self._reserve[n:]
        return out

    def ask(self, n: int) -> np.ndarray:
        elite = self._elite()
        if self.n_told < self.n_initial or not len(elite):
            return fresh_samples(self, n)
        n_fresh = int(round(n * self.explore))
        got = self._children(elite, n - n_fresh)[: n - n_fresh]
        if len(got) < n:
            got = self.unseen(np.concatenate([got, self._fresh(n - len(got))]))
        return got[:n]


__all__ = ["EvolutionarySearch"]
