"""What the co-design benchmarks share: a model's workloads (cached), one co-design run, the baselines, a JSONL log.

Used by ``codesign_zoo.py`` (issue 5: strategies, feasibility ablation) and ``paper_table.py`` (issue 7: the zoo
against the paper's baselines). Every run goes through the library's own API (:func:`run_codesign`,
:func:`evaluate_hardware`), the same code as ``tvm-codesign codesign``; nothing here scores anything itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Iterable

RESULTS = Path(__file__).resolve().parent / "results"

#: The baselines of ``result.json``: (name, preset, dataflow). ``eyeriss_rs`` is the hand-tuned baseline.
BASELINES = (("eyeriss_rs", "eyeriss", "row_stationary"), ("eyeriss", "eyeriss", None), ("vta", "vta", None))


def model_workloads(model: str, work: Path) -> list[Any]:
    """The model's unique workloads, lowered with TVM once and cached as JSON in ``work``."""
    from tvm_codesign.model.workload import Workload

    cache = work / f"{model}.workloads.json"
    if cache.exists():
        return [Workload.from_json(w) for w in json.loads(cache.read_text())]
    from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
    from tvm_codesign.compiler.frontend import load_model

    lowered = lower_to_tir(load_model(model))
    workloads = list(extract_workloads(lowered, lowered=True).workloads)
    work.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps([w.to_json() for w in workloads]))
    os.replace(tmp, cache)
    return workloads


def load_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL results file (a torn last line from a crash is ignored)."""
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one finished result, flushed and fsynced (a crash loses nothing already finished)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One co-design run of a model."""

    model: str
    label: str
    strategy: str
    seed: int
    budget_hw: int
    budget_sw: int
    strategy_options: tuple[tuple[str, Any], ...] = ()
    max_latency_cycles: float | None = None
    jobs: int = 2


def run_folder(work: Path, model: str, label: str, seed: int, budget_hw: int, budget_sw: int) -> Path:
    """Where one co-design run keeps its trial log (one folder per model, label, seed and budgets)."""
    return work / model / f"{label}-s{seed}-hw{budget_hw}-sw{budget_sw}"


def add_run_arguments(p: argparse.ArgumentParser, models: str, budget_hw_help: str, budget_sw: int) -> None:
    """The flags the co-design benchmarks share (``budget_sw``: the default mapping evaluations per layer, which
    names the run folders and selects the runs the tables read)."""
    p.add_argument("--models", default=models)
    p.add_argument("--budget-hw", type=int, default=None, help=budget_hw_help)
    p.add_argument("--budget-sw", type=int, default=budget_sw, help=f"mapping evaluations per layer (default {budget_sw})")
    p.add_argument("--jobs", type=int, default=2, help="worker processes")
    p.add_argument("--full", action="store_true", help="twice the hardware evaluations (codesign_zoo: also 5 seeds)")
    p.add_argument("--table-only", action="store_true", help="only rewrite the tables from the finished runs")


def best_trace(trials: Iterable[dict[str, Any]]) -> list[float | None]:
    """Best feasible EDP after each evaluation (``None`` until the first feasible one)."""
    best, out = math.inf, []
    for t in trials:
        if t.get("feasible") and not t.get("failed") and t.get("value") is not None:
            best = min(best, math.exp(t["value"]))
        out.append(best if math.isfinite(best) else None)
    return out


def run_codesign_spec(spec: RunSpec, workloads: list[Any], work: Path, executor: Any) -> dict[str, Any]:
    """Run (or resume, from its trial log in ``work``) one co-design and summarise it."""
    from tvm_codesign.cost.bounds import model_bound
    from tvm_codesign.bilevel.defaults import FILL_SHARE, OUTER_DEFAULTS
    from tvm_codesign.bilevel.outer import InnerSettings, Limits, outer_strategy, run_codesign
    from tvm_codesign.pipeline import warm_start_genomes
    from tvm_codesign.model.hardware import HardwareConfig, SystemParams
    from tvm_codesign.spaces.hardware import HardwareSpace, area_budget_from
    from tvm_codesign.report import summarise

    system = SystemParams()
    budget = area_budget_from("eyeriss", system)
    space = HardwareSpace("eyeriss", system=system, area_budget_mm2=budget, fill_share=FILL_SHARE)
    settings = InnerSettings(budget=spec.budget_sw, seed=spec.seed)
    limits = Limits(max_latency_cycles=spec.max_latency_cycles)
    initial = warm_start_genomes(space, system, ())
    folder = run_folder(work, spec.model, spec.label, spec.seed, spec.budget_hw, spec.budget_sw)
    folder.mkdir(parents=True, exist_ok=True)
    header = {"spec": dataclasses.asdict(spec), "inner": settings.to_json(), "area_budget_mm2": budget,
              "fill_share": FILL_SHARE, "outer_defaults": OUTER_DEFAULTS.get(spec.strategy, {})}
    strategy = outer_strategy(spec.strategy, space, seed=spec.seed, **dict(spec.strategy_options))
    t0 = time.perf_counter()
    result = run_codesign(space, workloads, strategy, spec.budget_hw, settings, executor, folder / "trials.jsonl",
                          limits=limits, initial=initial, header=header)
    seconds = time.perf_counter() - t0
    trials = result.trials
    searched = trials[len(initial):]  # the warm start is the same for every strategy
    row: dict[str, Any] = {
        **dataclasses.asdict(spec),
        "strategy_options": dict(spec.strategy_options),
        "fill_share": FILL_SHARE,
        "outer_defaults": OUTER_DEFAULTS.get(spec.strategy, {}),
        "area_budget_mm2": budget,
        "evaluations": len(trials),
        "warm_start": len(initial),
        "infeasible": sum(1 for t in searched if not t["feasible"] and not t["failed"]),
        "known_constraint_violations": sum(1 for t in searched if t.get("known_constraint")),
        "failed": sum(1 for t in searched if t["failed"]),
        "best_trace": best_trace(trials),
        "trial_cycles": [t.get("cycles") for t in trials],
        "seconds": seconds,
        "evaluation_seconds": sum(t.get("seconds") or 0.0 for t in trials),  # the rest is the strategy's own time
        "evaluated_now": result.evaluated_now,
    }
    if result.best is None:
        row.update(feasible=False)
        return row
    design = summarise(result.best)
    hw = HardwareConfig.from_json(result.best["hardware"])
    row.update(
        feasible=True,
        design={k: design[k] for k in ("edp", "energy_pj", "cycles", "area_mm2", "edp_without_dram")},
        layers=layer_rows(design),
        num_pes=hw.num_pes,
        hardware=hw.summary(),
        bound_on_design=model_bound(workloads, system, hw.num_pes).edp,
    )
    return row


def run_baselines(model: str, workloads: list[Any], seed: int, budget_sw: int, executor: Any) -> dict[str, Any]:
    """The three baselines with the same inner budget and system parameters, scored (not held to schedulable)."""
    from tvm_codesign.cost.bounds import model_bound
    from tvm_codesign.bilevel.outer import InnerSettings, Limits, evaluate_hardware
    from tvm_codesign.model.hardware import SystemParams
    from tvm_codesign.model.presets import preset
    from tvm_codesign.report import summarise

    system = SystemParams()
    settings = InnerSettings(budget=budget_sw, seed=seed, schedulable_only=False)
    out: dict[str, Any] = {"model": model, "seed": seed, "budget_sw": budget_sw, "kind": "baselines"}
    for name, hw_name, dataflow in BASELINES:
        hw = preset(hw_name, system)
        t0 = time.perf_counter()
        ev = evaluate_hardware(hw, workloads, settings, executor, Limits(), dataflow)
        s = summarise(ev.to_json())
        out[name] = {k: s[k] for k in ("edp", "energy_pj", "cycles", "area_mm2", "edp_without_dram")}
        out[name]["seconds"] = time.perf_counter() - t0
        out[name]["bound"] = model_bound(workloads, system, hw.num_pes).edp
        out[name]["num_pes"] = hw.num_pes
        out[name]["layers"] = layer_rows(s)
    out["floor"] = model_bound(workloads, system, None).edp  # no accelerator with this DRAM can beat it
    return out


def layer_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-layer energy and cycles (one call each) of a summarised evaluation, mappings left out."""
    keep = ("workload", "count", "energy_pj", "cycles", "edp", "utilisation", "dram_energy_pj")
    return [{k: layer[k] for k in keep} for layer in summary["layers"]]


def median(xs: Iterable[float]) -> float:
    xs = sorted(x for x in xs if x is not None and math.isfinite(x))
    if not xs:
        return math.nan
    n = len(xs)
    return xs[n // 2] if n % 2 else math.sqrt(xs[n // 2 - 1] * xs[n // 2])
