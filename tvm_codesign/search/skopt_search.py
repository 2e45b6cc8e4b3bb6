"""``skopt``: vanilla BO through scikit-optimize's ``Optimizer.ask/tell``, the baseline the paper improves on.

Every gene becomes an ``Integer`` dimension within the space's per-gene bounds, so skopt knows nothing of the known
constraints: genomes it proposes may break them. They are evaluated anyway (the objective reports them infeasible)
and told to skopt with a penalty, which is the point of the comparison: vanilla BO spends evaluations learning
constraints that the constrained BO never violates.
"""

from __future__ import annotations

import warnings

import numpy as np

from tvm_codesign.search.base import Outcome, SearchSpace, Strategy, space_bounds
from tvm_codesign.search.surrogate import single_thread_blas


class SkoptSearch(Strategy):
    """scikit-optimize ``Optimizer`` over per-gene integer dimensions, infeasible points penalised.

    Parameters
    ----------
    space, seed
        See :class:`~tvm_codesign.search.base.Strategy`. Bounds come from ``space.gene_bounds()`` when it exists
        (:class:`~tvm_codesign.search.base.SupportsBounds`), else from the range of a large sample.
    n_initial
        skopt's random initial points.
    base_estimator
        skopt surrogate (``"GP"`` default; ``"RF"``, ``"ET"``, ``"GBRT"`` also work).
    acq_func
        skopt acquisition (``"EI"`` default, ``"LCB"``, ``"PI"``, ``"gp_hedge"``).
    acq_optimizer
        ``"sampling"`` (default: fast, fine for integer spaces) or ``"lbfgs"``.
    n_points
        Random points skopt scores per proposal when sampling.
    gp_restarts
        Restarts of the GP hyper-parameter optimiser when ``base_estimator="GP"``. skopt's own default is 2, and
        its batch ask (constant liar) refits the GP once per point asked plus once for a copy, so a 200-evaluation
        run in batches of 10 made ~240 fits and took ~280 s; 0 restarts (the optimiser still starts from the
        default kernel) cuts that about threefold, with the same model and acquisition.
    penalty_margin
        Infeasible and failed points are told ``worst feasible value seen + penalty_margin`` (a constant before any
        feasible point is seen).
    """

    name = "skopt"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        n_initial: int = 10,
        base_estimator: str = "GP",
        acq_func: str = "EI",
        acq_optimizer: str = "sampling",
        n_points: int = 1000,
        penalty_margin: float = 1.0,
        gp_restarts: int = 0,
    ) -> None:
        super().__init__(space, seed)
        from skopt import Optimizer  # deferred: skopt import is slow and only this strategy needs it
        from skopt.space import Integer, Space
        from skopt.utils import cook_estimator

        low, high = space_bounds(space, self.rng)
        self.low, self.high = low, np.maximum(high, low)
        # A fixed gene (low == high) is not a valid skopt dimension: keep it out and re-insert it.
        self.free = np.flatnonzero(self.high > self.low)
        dims = [Integer(int(self.low[i]), int(self.high[i])) for i in self.free]
        self.penalty_margin = penalty_margin
        self.opt = None
        if dims:
            seed_opt = int(self.rng.integers(2**31))
            estimator = base_estimator
            if str(base_estimator).upper() == "GP":  # skopt's own GP, only with fewer optimiser restarts
                estimator = cook_estimator("GP", space=Space(dims), random_state=seed_opt,
                                           n_restarts_optimizer=gp_restarts)
            self.opt = Optimizer(
                dims,
                base_estimator=estimator,
                acq_func=acq_func,
                acq_optimizer=acq_optimizer,
                acq_optimizer_kwargs={"n_points": n_points},
                n_initial_points=n_initial,
                random_state=seed_opt,
            )

    def _to_genomes(self, xs: list[list[int]]) -> np.ndarray:
        g = np.tile(self.low, (len(xs), 1))
        if len(xs):
            g[:, self.free] = np.asarray(xs, dtype=np.int64).reshape(len(xs), -1)
        return g

    def ask(self, n: int) -> np.ndarray:
        if self.opt is None:  # a single-point space
            return self.unseen(self.low[None, :])[:n]
        with warnings.catch_warnings(), single_thread_blas():
            warnings.simplefilter("ignore")  # "evaluated at this point before": we dedupe below anyway
            xs = self.opt.ask(n_points=n) if n > 1 else [self.opt.ask()]
        out = self.unseen(self._to_genomes(xs))
        tries = 0
        while len(out) < n and tries < 10:  # top up repeats with skopt's own uniform random points
            extra = self._to_genomes(self.opt.space.rvs(n_samples=2 * n, random_state=self.rng.integers(2**31)))
            out = self.unseen(np.concatenate([out, extra]))
            tries += 1
        return out[:n]

    def tell(self, genomes: np.ndarray, outcome: Outcome) -> None:
        super().tell(genomes, outcome)
        if self.opt is None:
            return
        genomes = np.asarray(genomes, dtype=np.int64).reshape(-1, self.space.genome_size)
        finite = np.isfinite(self.y)
        worst = float(self.y[finite].max()) if finite.any() else 0.0
        ys = np.where(np.isfinite(outcome.value), outcome.value, worst + self.penalty_margin)
        inside = np.all((genomes >= self.low) & (genomes <= self.high), axis=1)  # warm starts may lie outside
        if inside.any():
            xs = [[int(v) for v in row] for row in genomes[inside][:, self.free]]
            with warnings.catch_warnings(), single_thread_blas():
                warnings.simplefilter("ignore")
                self.opt.tell(xs, [float(v) for v in ys[inside]])
