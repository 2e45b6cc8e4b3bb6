"""``xgb``: an AutoTVM-style search (Chen et al., 2018): an XGBoost cost model ranks candidates found by
simulated annealing over the space's local moves, with the model's prediction as the energy.

Differences from AutoTVM's ``XGBTuner`` worth knowing: the model regresses the (log) objective directly instead of
a pairwise rank loss on throughput; infeasible points are taught as ``worst seen + margin`` (AutoTVM teaches
invalid configs as zero throughput); failed points are left out.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.search.base import SearchSpace, Strategy
from tvm_codesign.search.random_search import fresh_samples


class XGBSearch(Strategy):
    """XGBoost-ranked simulated annealing.

    Parameters
    ----------
    space, seed
        See :class:`~tvm_codesign.search.base.Strategy`.
    n_initial
        Random evaluations before the first model fit.
    n_chains, n_steps
        Simulated-annealing chains and steps per ask. As in AutoTVM the chains persist between asks (each ask
        continues them), except that a quarter restart from the best told points each time.
    temperature
        Start temperature (in model-output units, linearly cooled to zero).
    epsilon
        Share of each batch drawn uniformly at random (AutoTVM's epsilon-greedy).
    min_hamming
        Diversity: a pick must differ in at least this many genes from the other picks while enough candidates
        remain (AutoTVM uses a submodular diversity filter for the same purpose).
    retrain_every
        Refit the model once this many new evaluations have been told (1: every ask with new data).
    penalty_margin
        Infeasible points are taught as ``worst feasible value + penalty_margin``.
    n_estimators, max_depth, learning_rate
        XGBoost parameters.
    """

    name = "xgb"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        n_initial: int = 16,
        n_chains: int = 128,
        n_steps: int = 20,
        temperature: float = 1.0,
        epsilon: float = 0.05,
        min_hamming: int = 2,
        retrain_every: int = 1,
        penalty_margin: float = 1.0,
        n_estimators: int = 150,
        max_depth: int = 6,
        learning_rate: float = 0.1,
    ) -> None:
        super().__init__(space, seed)
        self.n_initial, self.n_chains, self.n_steps = n_initial, n_chains, n_steps
        self.temperature, self.epsilon, self.min_hamming = temperature, epsilon, min_hamming
        self.retrain_every, self.penalty_margin = retrain_every, penalty_margin
        self.xgb_params = dict(n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate)
        self.model = None
        self._trained_on = 0
        self._chains: np.ndarray | None = None

    def _fit(self) -> None:
        from xgboost import XGBRegressor  # deferred: only this strategy needs it

        keep = ~self.failed
        y = self.y[keep]
        finite = np.isfinite(y)
        if finite.sum() < 2:
            return
        y = np.where(finite, y, y[finite].max() + self.penalty_margin)
        self.model = XGBRegressor(
            **self.xgb_params,
            subsample=0.9,
            objective="reg:squarederror",
            tree_method="hist",
            n_jobs=1,  # deterministic and small data
            random_state=int(self.rng.integers(2**31)),
        )
        self.model.fit(self.space.encode(self.X[keep]), y)
        self._trained_on = self.n_told

    def _predict(self, genomes: np.ndarray) -> np.ndarray:
        return self.model.predict(self.space.encode(genomes)).astype(float)

    def ask(self, n: int) -> np.ndarray:
        if self.n_told < self.n_initial:
            return fresh_samples(self, n)
        if self.model is None or self.n_told - self._trained_on >= self.retrain_every:
            self._fit()
        if self.model is None:
            return fresh_samples(self, n)
        n_random = int(self.rng.binomial(n, self.epsilon)) if n > 1 else int(self.rng.random() < self.epsilon)
        cand, energy = self._anneal()
        picks = self._diverse_top(cand, energy, n - n_random)
        if len(picks) < n:
            # The random share, plus a top-up when annealing found too few unseen candidates.
            picks = self.unseen(np.concatenate([picks, fresh_samples(self, n)]))[:n]
        return picks

    def _anneal(self) -> tuple[np.ndarray, np.ndarray]:
        """Every state visited by the chains (unseen ones only) with its predicted value."""
        order = np.argsort(self.y, kind="stable")
        n_best = min(max(self.n_chains // 4, 1), int(np.isfinite(self.y).sum()))
        carried = self._chains[: self.n_chains - n_best] if self._chains is not None else self._chains
        if carried is None or len(carried) < self.n_chains - n_best:
            have = 0 if carried is None else len(carried)
            extra = fresh_samples(self, self.n_chains - n_best - have)
            carried = extra if carried is None else np.concatenate([carried, extra])
        cur = np.concatenate([self.X[order[:n_best]], carried])
        cur_e = self._predict(cur)
        visited, energies = [cur], [cur_e]
        for step in range(self.n_steps):
            temp = self.temperature * (1.0 - step / self.n_steps)
            nxt = self.space.neighbors(cur, self.rng)
            nxt_e = self._predict(nxt)
            delta = nxt_e - cur_e
            accept = (delta <= 0) | (self.rng.random(len(cur)) < np.exp(-np.maximum(delta, 0) / max(temp, 1e-9)))
            cur = np.where(accept[:, None], nxt, cur)
            cur_e = np.where(accept, nxt_e, cur_e)
            visited.append(nxt)
            energies.append(nxt_e)
        self._chains = cur[np.argsort(cur_e, kind="stable")]  # best chains first: they survive the next restart
        cand = np.concatenate(visited)
        energy = np.concatenate(energies)
        order = np.argsort(energy, kind="stable")
        cand, energy = cand[order], energy[order]
        _, first = np.unique(cand, axis=0, return_index=True)
        first = np.sort(first)
        cand, energy = cand[first], energy[first]
        fresh = ~self.is_told(cand)
        return cand[fresh], energy[fresh]

    def _diverse_top(self, cand: np.ndarray, energy: np.ndarray, k: int) -> np.ndarray:
        """Greedy best-first picks at least ``min_hamming`` genes apart (relaxed if too few qualify)."""
        if k <= 0 or len(cand) == 0:
            return cand[:0]
        chosen: list[int] = []
        for i in range(len(cand)):  # cand is sorted by predicted value
            if len(chosen) == k:
                break
            if all(np.count_nonzero(cand[i] != cand[j]) >= self.min_hamming for j in chosen):
                chosen.append(i)
        if len(chosen) < k:  # not enough diverse candidates: fill with the best remaining
            taken = set(chosen)
            rest = [i for i in range(len(cand)) if i not in taken]
            chosen += rest[: k - len(chosen)]
        return cand[np.array(chosen, dtype=int)]
