"""Toy search spaces with a known optimum, a known constraint and an unknown (post-evaluation) constraint.

:class:`GridSpace` is an integer grid ``[0, n)^d`` whose known constraint (``sum(x) <= cap``) the sampler and the
local moves enforce. :class:`ToyObjective` is a log-scaled quadratic bowl with an infeasible disk only discovered by
evaluating (the unknown constraint), a deterministic set of crashing points (failed, not infeasible), and two raw
objectives for Pareto fronts. Genomes that break the known constraint (as ``skopt`` proposes) come back infeasible.
"""

from __future__ import annotations

import itertools

import numpy as np

from tvm_codesign.search.base import Outcome


class GridSpace:
    """``[0, n)^d`` integer grid with the known constraint ``sum(x) <= cap``.

    Parameters
    ----------
    n, d
        Values per gene and number of genes.
    cap
        Known constraint on the gene sum (``None``: no constraint).
    max_per_sample
        Cap on how many points one ``sample`` call returns (to exercise short samples).
    """

    def __init__(self, n: int = 16, d: int = 2, cap: int | None = None, max_per_sample: int | None = None) -> None:
        self.n, self.d, self.genome_size = n, d, d
        self.cap = cap
        self.max_per_sample = max_per_sample

    def valid(self, genomes: np.ndarray) -> np.ndarray:
        """Known constraint (and bounds) per row."""
        g = np.asarray(genomes)
        ok = np.all((g >= 0) & (g < self.n), axis=1)
        return ok if self.cap is None else ok & (g.sum(axis=1) <= self.cap)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raw = rng.integers(0, self.n, size=(2 * n + 8, self.d), dtype=np.int64)  # rejection: may come up short
        out = raw[self.valid(raw)][:n]
        return out[: self.max_per_sample] if self.max_per_sample else out

    def encode(self, genomes: np.ndarray) -> np.ndarray:
        return np.asarray(genomes, dtype=float) / (self.n - 1)

    def neighbors(self, genomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        g = np.array(genomes, dtype=np.int64, copy=True)
        rows = np.arange(len(g))
        gene = rng.integers(0, self.d, size=len(g))
        step = rng.choice(np.array([-2, -1, 1, 2]), size=len(g))
        g[rows, gene] = np.clip(g[rows, gene] + step, 0, self.n - 1)
        bad = ~self.valid(g)
        g[bad] = np.asarray(genomes)[bad]  # a move that breaks the known constraint stays put
        return g

    def size(self) -> float:
        return float(len(self.enumerate(10**7)))

    def gene_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.d, np.int64), np.full(self.d, self.n - 1, np.int64)

    def enumerate(self, limit: int) -> np.ndarray:
        grid = np.array(list(itertools.product(range(self.n), repeat=self.d)), dtype=np.int64)
        return grid[self.valid(grid)][:limit]


class NoExtrasSpace:
    """A GridSpace seen through the bare protocol: no ``bounds`` and no ``enumerate``."""

    def __init__(self, inner: GridSpace) -> None:
        self._inner = inner
        self.genome_size = inner.genome_size

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self._inner.sample(n, rng)

    def encode(self, genomes: np.ndarray) -> np.ndarray:
        return self._inner.encode(genomes)

    def neighbors(self, genomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._inner.neighbors(genomes, rng)

    def size(self) -> float:
        return self._inner.size()


class ToyObjective:
    """Log-scaled bowl ``log(1 + |W (x - c)|^2)`` with an infeasible disk and deterministic crashes.

    Parameters
    ----------
    space
        The grid (its known constraint makes violating genomes infeasible).
    center
        Bowl minimum (in grid units).
    disk_center, disk_radius
        Unknown constraint: points strictly inside the disk are infeasible (only known after evaluating).
    fail_every
        Points whose gene sum is ``== 1 (mod fail_every)`` crash (failed, never labelled infeasible); 0: none.
    """

    def __init__(
        self,
        space: GridSpace,
        center: np.ndarray | None = None,
        disk_center: np.ndarray | None = None,
        disk_radius: float = 0.0,
        fail_every: int = 0,
    ) -> None:
        self.space = space
        self.center = np.full(space.d, 0.6 * (space.n - 1)) if center is None else np.asarray(center, float)
        self.disk_center = self.center if disk_center is None else np.asarray(disk_center, float)
        self.disk_radius = disk_radius
        self.fail_every = fail_every
        self.weights = np.linspace(1.0, 2.0, space.d)  # anisotropic, so ARD length scales matter
        self.calls = 0

    def infeasible(self, genomes: np.ndarray) -> np.ndarray:
        g = np.asarray(genomes, dtype=float)
        in_disk = np.linalg.norm(g - self.disk_center, axis=1) < self.disk_radius
        return in_disk | ~self.space.valid(genomes)

    def crashes(self, genomes: np.ndarray) -> np.ndarray:
        if not self.fail_every:
            return np.zeros(len(genomes), bool)
        return np.asarray(genomes).sum(axis=1) % self.fail_every == 1

    def raw(self, genomes: np.ndarray) -> np.ndarray:
        g = np.asarray(genomes, dtype=float)
        return np.log1p(((self.weights * (g - self.center)) ** 2).sum(axis=1))

    def __call__(self, genomes: np.ndarray) -> Outcome:
        self.calls += 1
        g = np.asarray(genomes, dtype=float)
        value = self.raw(genomes)
        # Two raw objectives whose sum-of-logs tracks the value, for Pareto fronts.
        objectives = np.stack([np.exp(value) + g[:, 0], np.exp(value) + (self.space.n - g[:, 0])], axis=1)
        return Outcome(value=value, feasible=~self.infeasible(genomes), failed=self.crashes(genomes),
                       objectives=objectives)

    def optimum(self) -> tuple[np.ndarray, float]:
        """Brute-force best feasible, non-failed genome and its value."""
        grid = GridSpace.enumerate(self.space, 10**7)  # the valid points, whatever the subclass lists
        ok = ~self.infeasible(grid) & ~self.crashes(grid)
        vals = np.where(ok, self.raw(grid), np.inf)
        i = int(np.argmin(vals))
        return grid[i], float(vals[i])


class ChunkedGridSpace(GridSpace):
    """A GridSpace listed like the mapping space: every grid point (valid or not) in chunks, plus ``valid``;
    ``size()`` counts the whole grid and ``enumerate`` refuses above the limit."""

    def size(self) -> float:
        return float(self.n**self.d)

    def enumerate(self, limit: int, chunk: int = 7):  # type: ignore[override]
        if self.size() > limit:
            from tvm_codesign.errors import CodesignError

            raise CodesignError(f"grid has {self.size():.3g} genomes, above {limit}")
        grid = np.array(list(itertools.product(range(self.n), repeat=self.d)), dtype=np.int64)
        for lo in range(0, len(grid), chunk):
            yield grid[lo : lo + chunk]
