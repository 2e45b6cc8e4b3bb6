"""The inner search of the co-design: the best mapping of one layer on one accelerator, and its Pareto set.

:func:`search_mapping` drives one strategy of :mod:`tvm_codesign.search` (by name, ask/tell) over a
:class:`~tvm_codesign.spaces.mapping.space.MappingSpace` with :class:`~tvm_codesign.spaces.mapping.space.MappingObjective` (log
EDP). It keeps the layer's energy-cycles Pareto set as well as the best point, because a model's EDP, (Σ energy) x
(Σ cycles), does not decompose per layer: the co-design picks one Pareto point per layer.

Each (hardware, layer) search is seeded from the run's seed and a hash of the hardware config and the workload
signature, so its result does not depend on the order (or the worker) in which searches run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from typing import Any, Sequence

import numpy as np

from tvm_codesign.cost.model import MappingCost, evaluate
from tvm_codesign.model.dataflow import Dataflow, get_dataflow
from tvm_codesign.bilevel import defaults
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.spaces.mapping import MappingObjective, MappingSpace
from tvm_codesign.search.base import Strategy, run_search
from tvm_codesign.model.workload import Workload

#: Genomes asked per round when the caller does not say: big batches for the cheap strategies (the cost model is
#: vectorised; a round costs about a millisecond of fixed overhead), at most an eighth of the evaluation budget so
#: that an evolution still has generations; small ones for the model-based strategies (each round refits a
#: surrogate). A time limit is checked between rounds: 8192 random samples take about 0.1 s.
DEFAULT_BATCH: dict[str, int] = {"random": 8192, "exhaustive": 4096, "evolve": 4096}
DEFAULT_BATCH_MODEL = 16
MIN_BATCH = 64
#: The evaluation cap of a search budgeted in seconds only.
UNBOUNDED_EVALUATIONS = 1 << 62


def search_seed(seed: int, workload: Workload, hw: HardwareConfig) -> int:
    """The seed of one (hardware, layer) search: ``seed`` mixed with a hash of the hardware config and the
    workload signature (``np.random.SeedSequence``), independent of call order."""
    digest = hashlib.sha256((hw.config_hash() + repr(workload.signature)).encode("utf-8")).digest()
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int.from_bytes(digest[:8], "little")])
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


@dataclasses.dataclass
class MappingSearchResult:
    """A finished per-layer mapping search.

    Attributes
    ----------
    mapping, genome, cost
        The best mapping found, its genome and its cost (``None`` when no valid mapping was found).
    pareto
        ``(mapping, energy_pj, cycles)`` of a few mutually non-dominated points, best EDP first.
    history
        One row per batch: evaluations so far, best log EDP, seconds.
    evaluations, seconds
        Evaluations spent and wall time.
    """

    workload: Workload
    hw: HardwareConfig
    strategy: str
    dataflow: str | None
    seed: int
    mapping: Mapping | None
    genome: np.ndarray | None
    cost: MappingCost | None
    pareto: list[tuple[Mapping, float, float]]
    history: list[dict[str, Any]]
    evaluations: int
    seconds: float
    space_size: int
    acceptance_rate: float | None
    reason: str | None = None  # why nothing was found (None when a mapping was)

    @property
    def feasible(self) -> bool:
        """Whether a valid mapping was found."""
        return self.mapping is not None

    @property
    def edp(self) -> float:
        return self.cost.edp if self.cost is not None else math.inf

    @property
    def energy_pj(self) -> float:
        return self.cost.energy_pj if self.cost is not None else math.inf

    @property
    def cycles(self) -> float:
        return self.cost.cycles if self.cost is not None else math.inf

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: ``mapping`` (docs/mapping-format.md), ``edp``, ``energy_pj``, ``cycles``,
        ``evaluations``, ``pareto``, ``history`` and the search's settings; ``null`` where nothing was found."""
        fin = lambda x: x if x is not None and math.isfinite(x) else None  # noqa: E731  (JSON has no inf)
        return {
            "workload": self.workload.name,
            "hw": self.hw.name,
            "strategy": self.strategy,
            "dataflow": self.dataflow,
            "seed": self.seed,
            "valid": self.feasible,
            "mapping": None if self.mapping is None else self.mapping.to_json(),
            "edp": fin(self.edp),
            "energy_pj": fin(self.energy_pj),
            "cycles": fin(self.cycles),
            "evaluations": self.evaluations,
            "seconds": self.seconds,
            "space_size": float(self.space_size),
            "acceptance_rate": self.acceptance_rate,
            "reason": self.reason,
            "pareto": [
                {"mapping": m.to_json(), "energy_pj": e, "cycles": c, "edp": e * c} for m, e, c in self.pareto
            ],
            "history": [{k: fin(v) if isinstance(v, float) else v for k, v in row.items()} for row in self.history],
            "cost": None if self.cost is None else self.cost.to_json(),
        }


def _strategy(name: str | type[Strategy], space: MappingSpace, seed: int, opts: dict[str, Any]) -> Strategy:
    if isinstance(name, type) and issubclass(name, Strategy):
        return name(space, seed=seed, **opts)
    from tvm_codesign.search import make_strategy  # the registry (another module's): strategies by name

    return make_strategy(str(name), space, seed=seed, **opts)


def _initial_genomes(space: MappingSpace, initial: Any) -> np.ndarray | None:
    if initial is None:
        return None
    if isinstance(initial, Mapping):
        initial = [initial]
    if isinstance(initial, np.ndarray) and initial.dtype.kind in "iu":
        return initial.reshape(-1, space.genome_size).astype(np.int64)
    rows = [space.genome_of(m) if isinstance(m, Mapping) else np.asarray(m, np.int64) for m in initial]
    return np.stack(rows) if rows else None


def spread_pareto(energy: np.ndarray, cycles: np.ndarray, front: np.ndarray, k: int) -> np.ndarray:
    """At most ``k`` points of a Pareto ``front`` (indices, best EDP first): the best EDP, both extremes, and
    the rest evenly spaced along the front, so the co-design sees the whole trade-off."""
    if len(front) <= k:
        return front
    by_energy = front[np.argsort(energy[front], kind="stable")]
    picks = [front[0], by_energy[0], by_energy[-1]]
    picks += list(by_energy[np.linspace(0, len(by_energy) - 1, k).round().astype(int)])
    seen: list[int] = []
    for p in picks:
        if int(p) not in seen:
            seen.append(int(p))
    chosen = np.array(seen[:k])
    return chosen[np.argsort(energy[chosen] * cycles[chosen], kind="stable")]


def search_mapping(
    workload: Workload,
    hw: HardwareConfig,
    strategy: str | type[Strategy] = defaults.INNER_STRATEGY,
    budget: int | None = defaults.MAPPING_SEARCH_BUDGET,
    seed: int = 0,
    dataflow: str | Dataflow | None = None,
    batch_size: int | None = None,
    time_limit: float | None = None,
    initial: Mapping | Sequence[Mapping] | np.ndarray | None = None,
    schedulable_only: bool = False,
    double_buffering: bool | str = "search",
    pareto_points: int = defaults.MAPPING_SEARCH_PARETO_POINTS,
    strategy_options: dict[str, Any] | None = None,
) -> MappingSearchResult:
    """Search the mappings of ``workload`` on ``hw`` for the lowest EDP.

    Parameters
    ----------
    workload, hw
        The layer and the accelerator.
    strategy
        A name in :data:`tvm_codesign.search.REGISTRY` (``random``, ``bo``, ``skopt``, ``xgb``, ``exhaustive``)
        or a :class:`~tvm_codesign.search.base.Strategy` subclass.
    budget
        Evaluations of the cost model to spend (warm-start points included); ``None`` with a ``time_limit``: as many
        as the time allows. A budget in evaluations gives the same result for the same seed on any machine; one in
        seconds does not.
    seed
        The run's seed; the search's own seed is :func:`search_seed` of it.
    dataflow
        Restrict the space to a named dataflow (``row_stationary``, ``vta_gemm``).
    batch_size
        Genomes per ask; defaults to :data:`DEFAULT_BATCH` by strategy, at most an eighth of ``budget`` (16 for
        model-based ones).
    time_limit
        Optional limit in seconds of wall time, checked between batches.
    initial
        Warm start: mappings (converted with :meth:`MappingSpace.genome_of`) or genomes, evaluated first.
    schedulable_only
        Keep to the mappings ``apply_mapping`` schedules (:mod:`tvm_codesign.model.schedulability`).
    double_buffering
        ``"search"``, ``True`` or ``False`` (see :class:`MappingSpace`).
    pareto_points
        Most points kept in :attr:`MappingSearchResult.pareto`.
    strategy_options
        Keyword options of the strategy (see :func:`tvm_codesign.search.strategy_options`).
    """
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, (int, float, np.integer, np.floating))
        or not 0 < float(time_limit) < math.inf
    ):
        raise CodesignError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if budget is None:
        if time_limit is None:
            raise CodesignError("give a budget in evaluations, a time_limit in seconds, or both")
        budget = UNBOUNDED_EVALUATIONS
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise CodesignError(f"budget must be a positive number of evaluations, got {budget!r}")
    if double_buffering not in ("search", True, False):
        raise CodesignError(f"double_buffering must be 'search', True or False, got {double_buffering!r}")
    start = time.perf_counter()
    df = get_dataflow(dataflow)  # an unknown name is the caller's error ...
    s = search_seed(seed, workload, hw)
    try:
        space = MappingSpace(
            workload, hw, dataflow=df, schedulable_only=schedulable_only, double_buffering=double_buffering
        )
    except CodesignError as err:  # ... but a dataflow this hardware cannot run is an infeasible layer, not a crash
        return MappingSearchResult(
            workload, hw, str(strategy if isinstance(strategy, str) else strategy.name), df.name if df else None, s,
            None, None, None, [], [], 0, time.perf_counter() - start, 0, None, reason=str(err),
        )
    objective = MappingObjective(workload, hw, space=space)
    strat = _strategy(strategy, space, s, dict(strategy_options or {}))
    name = getattr(strat, "name", str(strategy))
    if batch_size is None:
        batch_size = DEFAULT_BATCH.get(name, DEFAULT_BATCH_MODEL)
        if name in DEFAULT_BATCH:
            batch_size = max(min(batch_size, int(budget) // 8), min(MIN_BATCH, batch_size))
    res = run_search(
        strat, objective, int(budget), batch_size=int(batch_size), time_limit=time_limit,
        initial=_initial_genomes(space, initial),
    )
    mapping = cost = genome = None
    pareto: list[tuple[Mapping, float, float]] = []
    if res.best_genome is not None:
        genome = np.asarray(res.best_genome, np.int64)
        mapping = space.decode(genome)
        cost = evaluate(workload, hw, [mapping]).row(0)
        front = res.pareto_indices()
        obj = np.asarray(res.objectives, float)
        keep = spread_pareto(obj[:, 0], obj[:, 1], front, pareto_points)
        pareto = [(space.decode(res.X[i]), float(obj[i, 0]), float(obj[i, 1])) for i in keep]
    return MappingSearchResult(
        workload=workload,
        hw=hw,
        strategy=name,
        dataflow=None if space.dataflow is None else space.dataflow.name,
        seed=s,
        mapping=mapping,
        genome=genome,
        cost=cost,
        pareto=pareto,
        history=res.history,
        evaluations=res.evaluations,
        seconds=time.perf_counter() - start,
        space_size=space.size(),
        acceptance_rate=space.acceptance_rate,
        reason=None if mapping is not None else (
            f"no valid{' schedulable' if schedulable_only else ''} mapping found in {res.evaluations} evaluations"
        ),
    )


__all__ = ["MappingSearchResult", "search_mapping", "search_seed", "spread_pareto"]
