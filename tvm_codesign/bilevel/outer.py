"""The bilevel co-design: an outer search over hardware, an inner mapping search per layer for each candidate.

For a hardware candidate every unique workload gets its own mapping search (:func:`tvm_codesign.bilevel.mapping_search.search_mapping`),
run on any ``concurrent.futures.Executor`` (a spawn-started local process pool by default: the search code imports no
TVM). Each layer search is seeded from the run's seed and a hash of (hardware, layer), and results are gathered in
layer order, so a seed gives one result whatever the executor or the number of workers. The model's EDP picks one
point of each layer's energy–cycles Pareto set (:mod:`tvm_codesign.cost.model_edp`).

Constraints known only after the inner searches make a candidate **infeasible** — no valid mapping for some layer
within the inner budget, the model's latency above ``max_latency_cycles``, its power above ``max_power_mw`` — and the
outer strategy's feasibility model learns them (EI × P(feasible) for ``bo``). A worker that raises makes the trial
**failed**, never infeasible. Every finished trial goes to the trial log, so ``resume=True`` replays the logged ones
to the strategy and evaluates only the rest.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from tvm_codesign.bilevel import defaults
from tvm_codesign.errors import CodesignError
from tvm_codesign.cost.physical import area
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.cost.model_edp import choose_points
from tvm_codesign.search.base import Outcome, Strategy, run_search
from tvm_codesign.bilevel.trial_log import TrialLog
from tvm_codesign.model.workload import Workload


def check_seconds(value: Any, name: str = "seconds") -> float | None:
    """``value`` as a budget in seconds of wall time: ``None``, or a positive finite number (else a one-line
    :class:`CodesignError` naming ``name``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CodesignError(f"{name} must be a positive number of seconds, got {value!r}")
    if not 0 < float(value) < math.inf:
        raise CodesignError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def describe_budget(evaluations: int | None, seconds: float | None) -> str:
    """A budget in words: ``1500 evaluations``, ``2 s`` or ``1500 evaluations or 2 s`` (whichever ends first)."""
    parts = [f"{evaluations} evaluations"] if evaluations is not None else []
    if seconds is not None:
        parts.append(f"{seconds:g} s")
    return " or ".join(parts)


@dataclasses.dataclass(frozen=True)
class InnerSettings:
    """How each layer's mapping search runs (the same for every candidate and every baseline).

    The budget of each (hardware, layer) search is ``budget`` evaluations, ``seconds`` of wall time, or both
    (whichever ends first); at least one must be set. A budget in evaluations is reproducible: the same seed gives
    the same result on any machine and with any executor. A budget in seconds is not: how far a search gets in
    ``seconds`` depends on the machine, its load and the number of workers, so two runs with one seed can differ.
    Both are recorded in the trial log's header (``to_json``), so ``--resume`` refuses a run with another budget.
    """

    strategy: str = defaults.INNER_STRATEGY
    budget: int | None = defaults.BUDGET_SW
    seed: int = 0
    schedulable_only: bool = defaults.SCHEDULABLE_ONLY
    pareto_points: int = defaults.PARETO_POINTS
    seconds: float | None = defaults.INNER_SECONDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", check_seconds(self.seconds, "the inner budget in seconds"))
        if self.budget is None and self.seconds is None:
            raise CodesignError("the inner budget needs evaluations, seconds, or both")
        if self.budget is not None and (
            isinstance(self.budget, bool) or not isinstance(self.budget, (int, np.integer)) or self.budget < 1
        ):
            raise CodesignError(f"the inner budget must be a positive number of evaluations, got {self.budget!r}")

    def describe(self) -> str:
        """The per-layer budget in words (:func:`describe_budget`)."""
        return describe_budget(self.budget, self.seconds)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Limits:
    """Constraints on the whole model known only after the inner searches (``None`` = no limit)."""

    max_latency_cycles: float | None = None
    max_power_mw: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def search_layer(task: tuple[dict, dict, dict, str | None]) -> dict[str, Any]:
    """One (hardware, layer) mapping search, in a worker: JSON in, JSON out (cheap to ship, no TVM)."""
    from tvm_codesign.bilevel.mapping_search import search_mapping

    workload_json, hw_json, settings, dataflow = task
    workload = Workload.from_json(workload_json)
    hw = HardwareConfig.from_json(hw_json)
    res = search_mapping(
        workload,
        hw,
        strategy=settings["strategy"],
        budget=settings["budget"],  # None: seconds only
        seed=settings["seed"],
        dataflow=dataflow,
        time_limit=settings.get("seconds"),
        schedulable_only=settings["schedulable_only"],
        pareto_points=settings["pareto_points"],
    )
    out = res.to_json()
    out.pop("history", None)
    out["reason"] = getattr(res, "reason", None)
    return out


@dataclasses.dataclass
class HardwareEvaluation:
    """A hardware candidate with its layers' best mappings and the model's totals."""

    hw: HardwareConfig
    feasible: bool
    reason: str | None
    energy_pj: float
    cycles: float
    area_mm2: float
    layers: list[dict[str, Any]]  # per workload: name, count, chosen point, best mapping, pareto
    seconds: float

    @property
    def edp(self) -> float:
        return self.energy_pj * self.cycles if self.feasible else math.inf

    def power_mw(self) -> float:
        """Average power at the run's clock: energy over time."""
        if not math.isfinite(self.cycles) or self.cycles <= 0:
            return math.inf
        return self.energy_pj / self.cycles * self.hw.system.clock_mhz * 1e-3

    def to_json(self) -> dict[str, Any]:
        fin = lambda x: x if math.isfinite(x) else None  # noqa: E731 - JSON has no infinity
        return {
            "hardware": self.hw.to_json(),
            "feasible": self.feasible,
            "reason": self.reason,
            "edp": fin(self.edp),
            "energy_pj": fin(self.energy_pj),
            "cycles": fin(self.cycles),
            "power_mw": fin(self.power_mw()),
            "area_mm2": self.area_mm2,
            "layers": self.layers,
            "seconds": self.seconds,
        }


def evaluate_hardware(
    hw: HardwareConfig,
    workloads: Sequence[Workload],
    settings: InnerSettings,
    executor: cf.Executor,
    limits: Limits = Limits(),
    dataflow: str | None = None,
) -> HardwareEvaluation:
    """Run every layer's mapping search for ``hw`` and combine them into the model's EDP.

    Raises whatever a worker raised (the caller turns it into a failed trial).
    """
    start = time.perf_counter()
    tasks = [(w.to_json(), hw.to_json(), settings.to_json(), dataflow) for w in workloads]
    futures = [executor.submit(search_layer, t) for t in tasks]
    results = [f.result() for f in futures]  # in layer order: independent of completion order
    layers: list[dict[str, Any]] = []
    reason = None
    for w, r in zip(workloads, results):
        if not r["valid"] or not r["pareto"]:
            reason = reason or f"no valid mapping of {w.name} within {settings.describe()}" + (
                f" ({r['reason']})" if r.get("reason") else ""
            )
        layers.append({"workload": w.to_json(), "count": w.count, "search": r})
    hw_area = area(hw).total_mm2
    if reason is not None:
        return HardwareEvaluation(hw, False, reason, math.inf, math.inf, hw_area, layers, time.perf_counter() - start)
    choice = choose_points([(l["count"], [(p["energy_pj"], p["cycles"]) for p in l["search"]["pareto"]]) for l in layers])
    for l, c in zip(layers, choice.choice):
        l["chosen"] = c
    ev = HardwareEvaluation(hw, True, None, choice.energy_pj, choice.cycles, hw_area, layers, time.perf_counter() - start)
    if limits.max_latency_cycles is not None and ev.cycles > limits.max_latency_cycles:
        ev.feasible, ev.reason = False, f"latency {ev.cycles:.4g} cycles > {limits.max_latency_cycles:.4g}"
    elif limits.max_power_mw is not None and ev.power_mw() > limits.max_power_mw:
        ev.feasible, ev.reason = False, f"power {ev.power_mw():.4g} mW > {limits.max_power_mw:.4g}"
    return ev


class HardwareObjective:
    """Scores hardware genomes: log model EDP, feasibility from the unknown constraints, failures kept apart.

    Outcomes already in the trial log are returned from it (a resumed run re-evaluates nothing finished).
    """

    def __init__(
        self,
        space: Any,
        workloads: Sequence[Workload],
        settings: InnerSettings,
        executor: cf.Executor,
        log: TrialLog,
        limits: Limits = Limits(),
        on_trial: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.space, self.workloads, self.settings = space, list(workloads), settings
        self.executor, self.log, self.limits, self.on_trial = executor, log, limits, on_trial
        self.evaluated = 0  # evaluations actually run (not replayed from the log)

    def __call__(self, genomes: np.ndarray) -> Outcome:
        values, feasible, failed, objectives = [], [], [], []
        for genome in np.asarray(genomes, dtype=np.int64):
            record = self.log.get(genome)
            if record is None:
                record = self._evaluate(genome)
                self.log.add(genome, record)
                self.evaluated += 1
            if self.on_trial is not None:
                self.on_trial(record)
            values.append(record["value"] if record["value"] is not None else math.inf)
            feasible.append(record["feasible"])
            failed.append(record["failed"])
            objectives.append([record.get("energy_pj") or math.inf, record.get("cycles") or math.inf])
        return Outcome(np.array(values), np.array(feasible), np.array(failed), np.array(objectives))

    def _evaluate(self, genome: np.ndarray) -> dict[str, Any]:
        hw = self.space.decode(genome)
        valid = getattr(self.space, "valid", None)
        if valid is not None and not bool(valid(genome[None, :])[0]):
            # A strategy that ignores the known constraints (vanilla BO) proposed it: infeasible, never searched.
            return {
                "genome": [int(g) for g in genome],
                "failed": False,
                "feasible": False,
                "value": None,
                "reason": "breaks a known constraint of the hardware space (area budget)",
                "known_constraint": True,
                "area_mm2": area(hw).total_mm2,
                "hardware": hw.to_json(),
            }
        try:
            ev = evaluate_hardware(hw, self.workloads, self.settings, self.executor, self.limits)
        except Exception as err:  # noqa: BLE001 - a crashed worker is a failed trial, the run goes on
            print(f"tvm-codesign: warning: trial {hw.name} failed: {type(err).__name__}: {err}", file=sys.stderr)
            return {
                "genome": [int(g) for g in genome],
                "failed": True,
                "feasible": False,
                "value": None,
                "error": "".join(traceback.format_exception_only(type(err), err)).strip(),
                "hardware": hw.to_json(),
            }
        out = ev.to_json()
        out.update(
            genome=[int(g) for g in genome],
            failed=False,
            value=math.log(ev.edp) if ev.feasible else None,
        )
        return out


def outer_strategy(name: str, space: Any, seed: int, **options: Any) -> Strategy:
    """The outer search strategy ``name`` over a hardware space, with :data:`defaults.OUTER_DEFAULTS` under ``options``."""
    from tvm_codesign.search import make_strategy

    return make_strategy(name, space, seed=seed, **{**defaults.OUTER_DEFAULTS.get(name, {}), **options})


@dataclasses.dataclass
class CoDesignResult:
    """The best hardware found, its evaluation, and every trial (in the order they were told)."""

    best: dict[str, Any] | None
    trials: list[dict[str, Any]]
    evaluations: int
    evaluated_now: int
    seconds: float


def run_codesign(
    space: Any,
    workloads: Sequence[Workload],
    strategy: Strategy,
    budget_hw: int,
    settings: InnerSettings,
    executor: cf.Executor,
    log_path: str | Path,
    limits: Limits = Limits(),
    initial: np.ndarray | None = None,
    header: dict[str, Any] | None = None,
    on_trial: Callable[[dict[str, Any]], None] | None = None,
) -> CoDesignResult:
    """The outer loop: ``budget_hw`` hardware evaluations asked one at a time, told in order.

    Parameters
    ----------
    space
        A hardware space (:class:`tvm_codesign.spaces.hardware.HardwareSpace`): ``decode(genome)`` gives a
        ``HardwareConfig``; its known constraint (area ≤ budget) holds for every genome it samples.
    strategy
        An outer strategy over ``space`` (``bo`` by default in the CLI), seeded by the run's seed.
    initial
        Warm-start genomes (the presets that fit the budget), evaluated first.
    header
        The run's settings, recorded in (and checked against) the trial log.
    """
    if not workloads:
        raise CodesignError("no workloads to co-design for")
    log = TrialLog(log_path, header)
    start = time.perf_counter()
    trials: list[dict[str, Any]] = []

    def record(row: dict[str, Any]) -> None:
        trials.append(row)
        if on_trial is not None:
            on_trial(row)

    objective = HardwareObjective(space, workloads, settings, executor, log, limits, record)
    result = run_search(strategy, objective, budget_hw, batch_size=1, initial=initial)
    feasible = [t for t in trials if t["feasible"] and not t["failed"]]
    best = min(feasible, key=lambda t: t["value"]) if feasible else None
    return CoDesignResult(best, trials, result.evaluations, objective.evaluated, time.perf_counter() - start)
