"""The one ask/tell interface every search strategy implements, inner (mappings) and outer (hardware) alike.

A *space* proposes points that already meet the constraints known before evaluation (capacity, fan-out, area
budget), encodes them as numbers for surrogates and gives local moves. Points travel in batches as integer
**genome** arrays of shape ``(n, space.genome_size)`` so that spaces and the vectorized cost model never loop in
Python per point. An *objective* scores a batch: a value to minimise (e.g. log EDP) and whether each point turned
out feasible under the constraints only known after evaluation. A *strategy* decides what to ask next from what
it was told; :func:`run_search` drives one strategy against one objective for a budget of evaluations.

Layout follows scikit-optimize's split: space / surrogate / acquisition live in separate modules, and every
strategy has the same ``ask(n)`` / ``tell(genomes, outcome)`` surface, so benchmarks compare them at equal
numbers of evaluations, equal wall time and equal seeds.
"""

from __future__ import annotations

import abc
import dataclasses
import time
from typing import Any, Callable, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from tvm_codesign.pareto import pareto_front
from tvm_codesign.search.genome_set import GenomeSet, first_unique, genome_hash


@runtime_checkable
class SearchSpace(Protocol):
    """What a strategy needs of a space (mapping space, hardware space, or a toy space in tests)."""

    #: Length of one genome (an integer vector).
    genome_size: int

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(m, genome_size)`` int genomes, ``m <= n``, all meeting the known constraints."""

    def encode(self, genomes: np.ndarray) -> np.ndarray:
        """``(m, d)`` float features for surrogates (roughly in [0, 1]; log-scaled where sizes span decades)."""

    def neighbors(self, genomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One local move from each genome (same shape), each meeting the known constraints."""

    def size(self) -> float:
        """Number of points in the space (an estimate where it cannot be counted)."""


@runtime_checkable
class SupportsBounds(Protocol):
    """Optional extra of a space: per-gene inclusive integer bounds (used by ``skopt`` to build its dimensions).

    Named ``gene_bounds`` (not ``bounds``) so it cannot collide with a space's own ``bounds`` attribute (e.g. the
    loop bounds of a mapping space).
    """

    def gene_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` int arrays of length ``genome_size``; every valid genome lies inside them."""


@runtime_checkable
class SupportsEnumerate(Protocol):
    """Optional extra of a space small enough to list (used by ``exhaustive``).

    ``enumerate(limit)`` returns one ``(m, genome_size)`` array or an iterator of such chunks, and may raise
    :class:`~tvm_codesign.errors.CodesignError` when the space has more than ``limit`` genomes. Genomes listed may
    break known constraints if the space also has ``valid(genomes) -> (m,) bool`` (:class:`SupportsValid`), which
    then filters them.
    """

    def enumerate(self, limit: int) -> "np.ndarray | Iterator[np.ndarray]":
        """Every genome of the space, ``m <= limit`` in all."""


@runtime_checkable
class SupportsValid(Protocol):
    """Optional extra of a space: the known constraints as a vectorised check."""

    def valid(self, genomes: np.ndarray) -> np.ndarray:
        """``(m,)`` bool: which genomes meet every constraint known before evaluation."""


def space_bounds(space: SearchSpace, rng: np.random.Generator, n_probe: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene inclusive bounds: ``space.gene_bounds()`` if the space has it, else the range of a large sample.

    The sampled fallback can miss rare extreme values; spaces should implement :class:`SupportsBounds`.
    """
    if isinstance(space, SupportsBounds) and callable(getattr(space, "gene_bounds", None)):
        low, high = space.gene_bounds()
        return np.asarray(low, dtype=np.int64), np.asarray(high, dtype=np.int64)
    probe = space.sample(n_probe, rng)
    if len(probe) == 0:
        raise ValueError("the space returned no samples, cannot infer its bounds")
    return probe.min(axis=0).astype(np.int64), probe.max(axis=0).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What evaluating a batch of genomes gave.

    Attributes
    ----------
    value
        ``(m,)`` value to minimise; ``inf`` where infeasible or failed.
    feasible
        ``(m,)`` bool: met every constraint that is only known after evaluation.
    failed
        ``(m,)`` bool: the evaluation itself crashed. A failed point is **not** infeasible: surrogates and
        feasibility models skip it rather than learn from it.
    objectives
        Optional ``(m, k)`` raw objectives (e.g. energy and cycles) for Pareto sets.
    """

    value: np.ndarray
    feasible: np.ndarray
    failed: np.ndarray | None = None
    objectives: np.ndarray | None = None

    def __post_init__(self) -> None:
        value = np.asarray(self.value, dtype=float)
        feasible = np.asarray(self.feasible, dtype=bool)
        failed = np.zeros(len(value), bool) if self.failed is None else np.asarray(self.failed, dtype=bool)
        if not (len(value) == len(feasible) == len(failed)):
            raise ValueError("value, feasible and failed must have one entry per genome")
        object.__setattr__(self, "value", np.where(feasible & ~failed, value, np.inf))
        object.__setattr__(self, "feasible", feasible)
        object.__setattr__(self, "failed", failed)


Objective = Callable[[np.ndarray], Outcome]


class Strategy(abc.ABC):
    """Base of every strategy: keeps what it was told, the best point, and the evaluation history.

    Parameters
    ----------
    space
        The :class:`SearchSpace` to search.
    seed
        Seed of the strategy's own random generator; equal seeds give equal searches.
    """

    name: str = "strategy"

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        self.space = space
        self.rng = np.random.default_rng(seed)
        # What was told, in arrays that grow by doubling (a search at the cost model's speed tells millions of
        # points in hundreds of batches: concatenating on every tell would copy them all each time).
        self._n = 0
        self._X = np.zeros((0, space.genome_size), dtype=np.int64)
        self._y = np.zeros(0)
        self._feasible = np.zeros(0, bool)
        self._failed = np.zeros(0, bool)
        self._objectives: np.ndarray | None = None
        self._best: int | None = None
        self._seen = GenomeSet()  # told genomes (vectorised lookups: asks run to millions of genomes)

    @property
    def X(self) -> np.ndarray:
        """``(n_told, genome_size)`` the told genomes, in the order told."""
        return self._X[: self._n]

    @property
    def y(self) -> np.ndarray:
        """``(n_told,)`` their values (``inf`` where infeasible or failed)."""
        return self._y[: self._n]

    @property
    def feasible(self) -> np.ndarray:
        return self._feasible[: self._n]

    @property
    def failed(self) -> np.ndarray:
        return self._failed[: self._n]

    @property
    def objectives(self) -> np.ndarray | None:
        """``(n_told, k)`` raw objectives (NaN rows for batches told without them), or ``None``."""
        return None if self._objectives is None else self._objectives[: self._n]

    @abc.abstractmethod
    def ask(self, n: int) -> np.ndarray:
        """Up to ``n`` genomes to evaluate next."""

    def _make_room(self, m: int, k: int | None) -> None:
        """Room for ``m`` more told points (and ``k`` objectives, if any)."""
        need = self._n + m
        if k is not None and self._objectives is None:
            self._objectives = np.full((len(self._y), k), np.nan)
        if need <= len(self._y):
            return
        cap = max(need, 2 * len(self._y), 64)

        def grow(a: np.ndarray, fill: Any) -> np.ndarray:
            out = np.full((cap, *a.shape[1:]), fill, dtype=a.dtype)
            out[: self._n] = a[: self._n]
            return out

        self._X, self._y = grow(self._X, 0), grow(self._y, np.inf)
        self._feasible, self._failed = grow(self._feasible, False), grow(self._failed, False)
        if self._objectives is not None:
            self._objectives = grow(self._objectives, np.nan)

    def tell(self, genomes: np.ndarray, outcome: Outcome) -> None:
        """Record the outcome of evaluating ``genomes`` (in the order they were asked)."""
        genomes = np.ascontiguousarray(genomes, dtype=np.int64).reshape(-1, self.space.genome_size)
        m = len(genomes)
        if m != len(outcome.value):
            raise ValueError(f"told {m} genomes but {len(outcome.value)} outcomes")
        obj = None
        if outcome.objectives is not None:
            obj = np.asarray(outcome.objectives, dtype=float).reshape(m, -1)
            if self._objectives is not None and obj.shape[1] != self._objectives.shape[1]:
                raise ValueError("objectives must keep their number of columns from one tell to the next")
        self._make_room(m, None if obj is None else obj.shape[1])
        lo, hi = self._n, self._n + m
        self._X[lo:hi], self._y[lo:hi] = genomes, outcome.value
        self._feasible[lo:hi], self._failed[lo:hi] = outcome.feasible, outcome.failed
        if self._objectives is not None:
            # Row-aligned with X even if only some batches carry objectives (NaN rows elsewhere).
            self._objectives[lo:hi] = np.nan if obj is None else obj
        self._n = hi
        self._seen.add(genomes)  # after the checks: a refused tell marks nothing as told
        values = np.where(np.isfinite(outcome.value), outcome.value, np.inf)
        if m and np.isfinite(values).any():
            i = lo + int(np.argmin(values))
            if self._best is None or self._y[i] < self._y[self._best]:
                self._best = i

    def is_told(self, genomes: np.ndarray) -> np.ndarray:
        """``(m,)`` bool: which rows of ``genomes`` were already told."""
        return self._seen.contains(np.asarray(genomes, dtype=np.int64).reshape(-1, self.space.genome_size))

    def unseen(self, genomes: np.ndarray) -> np.ndarray:
        """The distinct rows of ``genomes`` (first-seen order) that were never told: what may be proposed."""
        genomes = np.asarray(genomes, dtype=np.int64).reshape(-1, self.space.genome_size)
        h = genome_hash(genomes)
        first = first_unique(h)
        return genomes[first[~self._seen.contains_hashes(h[first])]]

    @property
    def n_told(self) -> int:
        """Number of evaluations told so far."""
        return len(self.y)

    @property
    def best_index(self) -> int | None:
        """Index of the best feasible point told so far (``None`` if there is none; the first of equals)."""
        return self._best


@dataclasses.dataclass
class SearchResult:
    """A finished search: the best genome, the history, and the Pareto set over the raw objectives."""

    strategy: str
    best_genome: np.ndarray | None
    best_value: float
    evaluations: int
    history: list[dict[str, Any]]  # one row per batch: evaluations, best value so far, seconds
    X: np.ndarray
    y: np.ndarray
    feasible: np.ndarray
    failed: np.ndarray
    objectives: np.ndarray | None
    seconds: float

    def pareto_indices(self, max_points: int | None = None) -> np.ndarray:
        """Indices of the non-dominated feasible points over ``objectives`` (minimisation), best value first."""
        if self.objectives is None:
            return np.array([] if self.best_genome is None else [int(np.argmin(self.y))], dtype=int)
        ok = np.flatnonzero(np.isfinite(self.y) & np.isfinite(self.objectives).all(axis=1))
        front = ok[pareto_front(self.objectives[ok])]
        front = front[np.argsort(self.y[front], kind="stable")]
        return front[:max_points] if max_points else front


def run_search(
    strategy: Strategy,
    objective: Objective,
    budget: int,
    batch_size: int = 1,
    time_limit: float | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    initial: np.ndarray | None = None,
) -> SearchResult:
    """Ask, evaluate and tell until ``budget`` evaluations (or ``time_limit`` seconds) are spent.

    Parameters
    ----------
    strategy
        The strategy to drive.
    objective
        Scores a batch of genomes.
    budget
        Evaluations to spend (the last batch is trimmed to fit).
    batch_size
        Genomes asked per round.
    time_limit
        Optional wall-time limit in seconds, checked between batches.
    callback
        Called with each history row (for progress bars).
    initial
        Genomes evaluated first and told to the strategy (a warm start, e.g. the best mapping of a dataflow);
        they count against the budget.
    """
    start = time.perf_counter()
    history: list[dict[str, Any]] = []
    spent = 0
    stalls = 0
    pending = None if initial is None else as_int_genomes(initial, strategy.space.genome_size)[:budget]
    while spent < budget:
        if pending is not None and len(pending):
            genomes, pending = pending[:batch_size], pending[batch_size:]
        else:
            if time_limit is not None and time.perf_counter() - start >= time_limit:
                break
            genomes = strategy.ask(min(batch_size, budget - spent))
            if len(genomes) == 0:
                stalls += 1
                if stalls >= 3:  # the space is exhausted (or the sampler cannot find feasible points)
                    break
                continue
            stalls = 0
            genomes = genomes[: budget - spent]  # a strategy returning more than asked must not overspend
        outcome = objective(genomes)
        strategy.tell(genomes, outcome)
        spent += len(genomes)
        best = strategy.best_index
        row = {
            "evaluations": spent,
            "best": float(strategy.y[best]) if best is not None else float("inf"),
            "seconds": time.perf_counter() - start,
        }
        history.append(row)  # warm-start batches get rows too, so curves start at the first evaluation
        if callback is not None:
            callback(row)
    best = strategy.best_index
    return SearchResult(
        strategy=strategy.name,
        best_genome=None if best is None else strategy.X[best].copy(),
        best_value=float("inf") if best is None else float(strategy.y[best]),
        evaluations=spent,
        history=history,
        X=strategy.X,
        y=strategy.y,
        feasible=strategy.feasible,
        failed=strategy.failed,
        objectives=strategy.objectives,
        seconds=time.perf_counter() - start,
    )


def unique_rows(genomes: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """The distinct rows of ``genomes`` in first-seen order, minus any row present in ``exclude``."""
    if len(genomes) == 0:
        return genomes
    genomes = np.asarray(genomes, dtype=np.int64)
    out = genomes[first_unique(genome_hash(genomes))]
    if exclude is not None and len(exclude):
        told = GenomeSet()
        told.add(np.asarray(exclude, dtype=np.int64).reshape(-1, genomes.shape[1]))
        out = out[~told.contains(out)]
    return out


def as_int_genomes(rows: Sequence[Sequence[int]] | np.ndarray, genome_size: int) -> np.ndarray:
    """Validate and convert to an ``(n, genome_size)`` int64 array."""
    arr = np.asarray(rows, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != genome_size:
        raise ValueError(f"expected genomes of shape (n, {genome_size}), got {arr.shape}")
    return arr
