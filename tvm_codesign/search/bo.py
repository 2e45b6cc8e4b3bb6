"""``bo``: constrained Bayesian optimisation as in Shi et al. (2020).

Known constraints are never violated: every candidate comes from the space's sampler or its local moves. Unknown
constraints are learned by a feasibility classifier, and candidates are ranked by expected improvement of a GP on
the (log) objective times the probability of feasibility. Each ``ask``:

1. fits the GP on told feasible, non-failed points and the classifier on told non-failed points;
2. builds a candidate pool: fresh samples (exploration) + short random walks from the best few points
   (exploitation; objectives like log EDP are rough at large scale but locally smooth);
3. refines the pool a few rounds by adding local moves of its top-scoring candidates (a cheap acquisition
   optimiser over a discrete space);
4. picks a batch with the kriging believer: after each pick the GP is conditioned on its own mean there, which
   shrinks the variance around it so the next pick goes elsewhere.
"""

from __future__ import annotations

import numpy as np

from ..errors import CodesignError
from . import acquisition as acq
from .base import SearchSpace, Strategy
from .feasibility import CLASSIFIERS, FeasibilityModel
from .random_search import fresh_samples
from .surrogate import KERNELS, GPSurrogate


class BayesianOptimization(Strategy):
    """Constrained BO over a :class:`~tvm_codesign.search.base.SearchSpace`.

    Parameters
    ----------
    space, seed
        See :class:`~tvm_codesign.search.base.Strategy`.
    n_initial
        Random evaluations before the first model-based proposal.
    kernel
        GP kernel: ``"matern"`` (Matérn 2.5, default) or ``"rbf"``.
    acquisition
        ``"ei"`` (default) or ``"lcb"``; either is multiplied by P(feasible).
    use_feasibility
        Learn the unknown constraints (default). ``False`` is the "no feasibility model" ablation: infeasible
        points are only left out of the GP, so nothing steers proposals away from them.
    feasibility
        Classifier kind: ``"gp"`` (default), ``"rf"`` or ``"logistic"``.
    pool_size
        Fresh samples per ask.
    n_local
        Number of best points whose neighbourhoods are added to the pool.
    local_per_point
        Random-walk points per best point (walks of 1–4 moves).
    refine_rounds, refine_top
        Pool refinement: rounds, and how many top candidates get local moves each round.
    xi
        EI exploration margin (in target units, i.e. log EDP).
    kappa
        LCB exploration weight.
    max_gp_points
        Cap on the GP training set (best half + most recent).
    batch
        ``"believer"`` (kriging believer, default) or ``"topk"`` (top-k by score; cheaper, less diverse).
    """

    name = "bo"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        n_initial: int = 10,
        kernel: str = "matern",
        acquisition: str = "ei",
        use_feasibility: bool = True,
        feasibility: str = "gp",
        pool_size: int = 1000,
        n_local: int = 5,
        local_per_point: int = 60,
        refine_rounds: int = 3,
        refine_top: int = 20,
        xi: float = 0.01,
        kappa: float = 2.0,
        max_gp_points: int = 300,
        batch: str = "believer",
    ) -> None:
        super().__init__(space, seed)
        if kernel not in KERNELS:
            raise CodesignError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
        if acquisition not in acq.ACQUISITIONS:
            raise CodesignError(f"unknown acquisition {acquisition!r}; choose one of {', '.join(acq.ACQUISITIONS)}")
        if feasibility not in CLASSIFIERS:
            raise CodesignError(
                f"unknown feasibility classifier {feasibility!r}; choose one of {', '.join(CLASSIFIERS)}"
            )
        if batch not in ("believer", "topk"):
            raise CodesignError(f"unknown batch mode {batch!r}; choose believer or topk")
        self.n_initial = n_initial
        self.kernel, self.acquisition, self.use_feasibility = kernel, acquisition, use_feasibility
        self.pool_size, self.n_local, self.local_per_point = pool_size, n_local, local_per_point
        self.refine_rounds, self.refine_top = refine_rounds, refine_top
        self.xi, self.kappa, self.batch = xi, kappa, batch
        seed_gp, seed_cls = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
        self.surrogate = GPSurrogate(kernel, max_points=max_gp_points, seed=seed_gp % 2**31)
        self.feasibility_model = FeasibilityModel(feasibility, seed=seed_cls % 2**31)
        self.last_pool_size = 0  # diagnostics

    # -- ask ---------------------------------------------------------------------------------------------------
    def ask(self, n: int) -> np.ndarray:
        good = np.isfinite(self.y)
        if self.n_told < self.n_initial or good.sum() < 2:
            if self.n_told >= self.n_initial and self.use_feasibility and self.n_told:
                return self._ask_feasible_first(n)
            return fresh_samples(self, n)
        enc_told = self.space.encode(self.X)
        self.surrogate.fit(enc_told[good], self.y[good])
        if self.use_feasibility:
            self.feasibility_model.fit(enc_told, self.feasible, self.failed)
        pool = self._pool()
        if len(pool) == 0:
            return pool
        enc = self.space.encode(pool)
        scores = self._score(self.surrogate, enc)
        pool, enc, scores = self._refine(pool, enc, scores)
        self.last_pool_size = len(pool)
        return self._select(pool, enc, scores, n)

    def _ask_feasible_first(self, n: int) -> np.ndarray:
        """No feasible point yet (beyond the initial design): sample where feasibility is most likely."""
        self.feasibility_model.fit(self.space.encode(self.X), self.feasible, self.failed)
        pool = fresh_samples(self, max(self.pool_size, n))
        if len(pool) == 0:
            return pool
        pof = self.feasibility_model.predict(self.space.encode(pool))
        return pool[np.argsort(-pof, kind="stable")[:n]]

    def _score(self, model: GPSurrogate, enc: np.ndarray, pof: np.ndarray | None = None) -> np.ndarray:
        mu, sigma = model.predict(enc)
        if pof is None and self.use_feasibility:
            pof = self.feasibility_model.predict(enc)
        best = float(np.min(self.y[np.isfinite(self.y)]))
        return acq.score(self.acquisition, mu, sigma, best, pof, xi=self.xi, kappa=self.kappa)

    def _walks(self, starts: np.ndarray, per_point: int, steps: int = 4) -> np.ndarray:
        """About ``per_point`` random-walk points (1 to ``steps`` moves) from each start.

        All walks advance together, one ``space.neighbors`` call per step: for spaces that check validity with a
        cost model, the per-call overhead dominates, so few large calls beat many small ones.
        """
        if len(starts) == 0 or per_point <= 0:
            return np.zeros((0, self.space.genome_size), dtype=np.int64)
        reps = -(-per_point // steps)
        g = np.repeat(starts, reps, axis=0)
        out = []
        for _ in range(steps):
            g = self.space.neighbors(g, self.rng)
            out.append(g)
        return np.concatenate(out)

    def _pool(self) -> np.ndarray:
        fresh = fresh_samples(self, self.pool_size)
        order = np.argsort(self.y, kind="stable")
        best = self.X[order[: self.n_local]][np.isfinite(self.y[order[: self.n_local]])]
        local = self._walks(best, self.local_per_point)
        return self.unseen(np.concatenate([local, fresh]))

    def _refine(self, pool: np.ndarray, enc: np.ndarray, scores: np.ndarray):
        for _ in range(self.refine_rounds):
            top = pool[np.argsort(-scores, kind="stable")[: self.refine_top]]
            moves = self.unseen(self._walks(top, 8, steps=2))
            if len(moves):
                have = {r.tobytes() for r in pool}
                moves = moves[[r.tobytes() not in have for r in moves]]
            if len(moves) == 0:
                break
            enc_m = self.space.encode(moves)
            pool = np.concatenate([pool, moves])
            enc = np.concatenate([enc, enc_m])
            scores = np.concatenate([scores, self._score(self.surrogate, enc_m)])
        return pool, enc, scores

    def _select(self, pool: np.ndarray, enc: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
        n = min(n, len(pool))
        if self.batch == "topk" or n == 1:
            return pool[np.argsort(-scores, kind="stable")[:n]]
        pof = self.feasibility_model.predict(enc) if self.use_feasibility else None
        chosen: list[int] = []
        model = self.surrogate
        scores = scores.copy()
        fant_X, fant_y = [], []
        for _ in range(n):
            scores[chosen] = -np.inf
            i = int(np.argmax(scores))
            chosen.append(i)
            if len(chosen) == n:
                break
            # Kriging believer: pretend the pick returned its predicted mean; its neighbourhood loses variance.
            mu_i, _ = self.surrogate.predict(enc[i : i + 1])
            fant_X.append(enc[i])
            fant_y.append(float(mu_i[0]))
            model = self.surrogate.condition(np.array(fant_X), np.array(fant_y))
            scores = self._score(model, enc, pof)
        return pool[chosen]
