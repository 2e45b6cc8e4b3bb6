"""The whole co-design of one model into an output folder: the API the CLI, the ``CoDesign`` pass and ``compile
--codesign`` share.

:func:`validate` checks the request (budgets, executor, the area budget against the hardware space) before any work;
:func:`codesign_to_folder` runs the outer search, the baselines, and writes every output (:mod:`tvm_codesign.report`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from tvm_codesign.bilevel import defaults
from tvm_codesign.bilevel.executors import check_executor_spec, make_executor
from tvm_codesign.errors import CodesignError
from tvm_codesign.report import CoDesignReport, ResultFolder
from tvm_codesign.model.workload import Workload



@dataclasses.dataclass(frozen=True)
class CoDesignOptions:
    """Every setting of a co-design run (the CLI flags of ``tvm-codesign codesign``)."""

    area_budget: str | float = "eyeriss"
    template: str = "eyeriss"
    precision: str = "int16"
    budget_hw: int = defaults.BUDGET_HW
    #: Mapping evaluations per (hardware, layer) search; ``None`` with ``inner_seconds``: seconds only.
    budget_sw: int | None = defaults.BUDGET_SW
    #: Wall-time seconds per (hardware, layer) search (``None``: evaluations only); with ``budget_sw`` too, each search
    #: stops at whichever ends first. Unlike evaluations, seconds do not give the same result on another machine.
    inner_seconds: float | None = defaults.INNER_SECONDS
    strategy: str = defaults.OUTER_STRATEGY
    inner_strategy: str = defaults.INNER_STRATEGY
    jobs: int = defaults.JOBS
    executor: str | None = None
    seed: int = 0
    resume: bool = False
    baselines: bool = True
    max_latency_cycles: float | None = None
    max_power_mw: float | None = None
    progress: bool = True
    #: Extra warm starts (preset names or hardware.json paths) besides the presets that fit the budget.
    warm_start: tuple[str, ...] = ()


@dataclasses.dataclass
class Prepared:
    """A validated request: the hardware space and the run's system parameters."""

    options: CoDesignOptions
    space: Any
    system: Any
    budget_mm2: float


def check_inner_budget(budget_sw: int | None, inner_seconds: float | None) -> None:
    """One-line errors for a bad per-layer budget: evaluations (``--budget-sw``) and/or seconds (``--inner-seconds``)."""
    from tvm_codesign.bilevel.outer import check_seconds

    if budget_sw is not None and (
        isinstance(budget_sw, bool) or not isinstance(budget_sw, numbers.Integral) or budget_sw < 1
    ):
        raise CodesignError(f"--budget-sw must be a positive number of evaluations, got {budget_sw!r}")
    check_seconds(inner_seconds, "--inner-seconds")
    if budget_sw is None and inner_seconds is None:
        raise CodesignError("give the inner budget in evaluations (--budget-sw), seconds (--inner-seconds), or both")


def validate(options: CoDesignOptions, out: str | Path) -> Prepared:
    """One-line errors for a bad request, before any search or any file is written."""
    from tvm_codesign.model.hardware import SystemParams
    from tvm_codesign.spaces.hardware import HardwareSpace, area_budget_from, check_budget

    if options.budget_hw < 1 or (options.budget_sw is not None and options.budget_sw < 1):
        raise CodesignError("--budget-hw and --budget-sw must be at least 1")
    check_inner_budget(options.budget_sw, options.inner_seconds)
    check_executor_spec(options.executor)
    if options.jobs < 1:
        raise CodesignError("--jobs must be at least 1")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CodesignError(f"output {out} exists and is not a folder")
    if ResultFolder(out).trials.exists() and not options.resume:
        raise CodesignError(f"{out} already holds a run; pass --resume to continue it or choose another -o")
    system = SystemParams(precision=options.precision)
    budget = area_budget_from(options.area_budget, system)
    # Half of each sample grown to fill the budget (see HardwareSpace.fill_share).
    space = HardwareSpace(options.template, system=system, area_budget_mm2=budget, fill_share=defaults.FILL_SHARE)
    check_budget(space)  # an impossible budget is a one-line error before any search
    return Prepared(options, space, system, budget)


def warm_start_genomes(space: Any, system: Any, specs: Sequence[str]) -> Any:
    """The presets that fit the budget, plus the given configs where the space can represent them."""
    import numpy as np

    from tvm_codesign.model.presets import load_hardware

    rows = list(space.preset_genomes())
    for spec in specs:
        hw = load_hardware(spec, system)
        try:
            g = space.genome_of(hw)
        except CodesignError as err:
            print(f"tvm-codesign: warning: {spec} is not a warm start: {err}", file=sys.stderr)
            continue
        if bool(space.valid(g[None, :])[0]) and not any((g == r).all() for r in rows):
            rows.append(g)
    return np.array(rows, dtype=np.int64).reshape(-1, space.genome_size)


def _progress(total: int) -> Any:
    start = time.perf_counter()
    state = {"n": 0, "best": math.inf}

    def update(trial: dict[str, Any]) -> None:
        state["n"] += 1
        if trial.get("feasible") and trial.get("value") is not None:
            state["best"] = min(state["best"], math.exp(trial["value"]))
        done = min(state["n"], total)
        bar = "#" * int(30 * done / max(total, 1))
        best = f"{state['best']:.3e}" if math.isfinite(state["best"]) else "none yet"
        print(
            f"\r[{bar:<30}] {done}/{total} hardware  best EDP {best}  {time.perf_counter() - start:5.0f} s",
            end="" if done < total else "\n",
            file=sys.stderr,
            flush=True,
        )

    return update


def codesign_to_folder(prepared: Prepared, lowered: Any, workloads: Sequence[Workload], label: str, out: str | Path) -> dict[str, Any]:
    """Run the co-design of ``workloads`` (from the fused module ``lowered``) and write every output into ``out``.

    Returns the contents of ``result.json``.
    """
    from tvm_codesign.bilevel.outer import InnerSettings, Limits, evaluate_hardware, outer_strategy, run_codesign
    from tvm_codesign.compiler.database import write_database
    from tvm_codesign.model.presets import preset
    from tvm_codesign.report import chosen_layers, summarise, vta_config_if_fits, write_json, write_report

    opts = prepared.options
    space, system, budget = prepared.space, prepared.system, prepared.budget_mm2
    out = Path(out)
    folder = ResultFolder(out)
    log_path = folder.trials
    out.mkdir(parents=True, exist_ok=True)
    settings = InnerSettings(
        strategy=opts.inner_strategy, budget=opts.budget_sw, seed=opts.seed, seconds=opts.inner_seconds
    )
    limits = Limits(opts.max_latency_cycles, opts.max_power_mw)
    header = {
        "model": label,
        "template": opts.template,
        "area_budget_mm2": budget,
        "system": system.to_json(),
        "inner": settings.to_json(),  # the per-layer budget: "budget" evaluations and/or "seconds"
        "limits": limits.to_json(),
        "strategy": opts.strategy,
        "outer_defaults": defaults.OUTER_DEFAULTS.get(opts.strategy, {}),
        "fill_share": defaults.FILL_SHARE,
        "budget_hw": opts.budget_hw,
        "seed": opts.seed,
    }
    print(
        f"co-designing {label}: {len(workloads)} unique layers, area budget {budget:.3f} mm², "
        f"{opts.budget_hw} hardware x {settings.describe()} of mapping search per layer",
        file=sys.stderr,
    )
    with make_executor(opts.executor, opts.jobs) as executor:
        strategy = outer_strategy(opts.strategy, space, seed=opts.seed)
        result = run_codesign(
            space,
            workloads,
            strategy,
            opts.budget_hw,
            settings,
            executor,
            log_path,
            limits=limits,
            initial=warm_start_genomes(space, system, opts.warm_start),
            header=header,
            on_trial=_progress(opts.budget_hw) if opts.progress else None,
        )
        baselines: dict[str, dict[str, Any]] = {}
        if opts.baselines:
            baseline_settings = dataclasses.replace(settings, schedulable_only=False)
            for name, hw_name, dataflow in (("eyeriss", "eyeriss", None), ("eyeriss_rs", "eyeriss", "row_stationary"), ("vta", "vta", None)):
                # Baselines are scored, never scheduled: their mappings need not be schedulable, which only makes
                # them stronger (the design is held to schedulable mappings, as its schedules are emitted).
                ev = evaluate_hardware(preset(hw_name, system), workloads, baseline_settings, executor, Limits(), dataflow)
                baselines[name] = summarise(ev.to_json())
    if result.best is None:
        raise CodesignError(f"no feasible hardware in {opts.budget_hw} evaluations; see {log_path}")
    design = summarise(result.best)
    best_hw = result.best["hardware"]
    write_json(folder.hardware, best_hw)
    cfg, why = vta_config_if_fits(result.best)
    if cfg is not None:
        write_json(folder.vta_config, cfg)
    report = write_database(lowered, [(w, m) for w, m, _ in chosen_layers(result.best)], folder.database)
    result_json = {
            "model": label,
            "settings": header,
            "design": design,
            "baselines": baselines,
            "vta_config": None if cfg is None else ResultFolder.VTA_CONFIG,
            "vta_config_reason": why,
            "database": {"records": len(report.records), "skipped": [list(s) for s in report.skipped]},
            "evaluations": result.evaluations,
            "evaluated_now": result.evaluated_now,
            "seconds": result.seconds,
        }
    write_json(folder.result, result_json)
    write_report(out, label, design, baselines, result.trials, header)
    line = f"best EDP {design['edp']:.4e} pJ·cycles at {design['area_mm2']:.3f} mm²"
    if baselines.get("eyeriss_rs", {}).get("feasible"):
        line += f"; {baselines['eyeriss_rs']['edp'] / design['edp']:.2f}x lower than eyeriss_rs"
    print(f"{line}; wrote {out}/", file=sys.stderr)
    return result_json


def schedules_for_fixed_hardware(
    lowered: Any,
    workloads: Sequence[Workload],
    hw: Any,
    out: str | Path,
    strategy: str = defaults.INNER_STRATEGY,
    budget: int | None = defaults.BUDGET_SW,
    seed: int = 0,
    seconds: float | None = defaults.INNER_SECONDS,
) -> Any:
    """The fixed-hardware route: each layer's best schedulable mapping on ``hw``, written as a schedule database.

    Parameters
    ----------
    lowered
        The fused module the workloads were extracted from.
    out
        The database folder to write.
    budget, seconds
        Each layer's search budget: evaluations, seconds of wall time, or both (whichever ends first); ``budget=None``
        needs ``seconds``. Only a budget in evaluations gives the same schedules on every machine.

    Returns
    -------
    tvm_codesign.compiler.database.DatabaseReport
        The records written and the layers that keep TVM's default schedule (each warned about on stderr).
    """
    from tvm_codesign.bilevel.mapping_search import search_mapping
    from tvm_codesign.bilevel.outer import describe_budget
    from tvm_codesign.compiler.database import write_database

    check_inner_budget(budget, seconds)
    layers = []
    for i, w in enumerate(workloads, 1):
        result = search_mapping(
            w, hw, strategy=strategy, budget=budget, seed=seed, schedulable_only=True, time_limit=seconds
        )
        if result.mapping is None:
            raise CodesignError(
                f"no valid schedulable mapping of {w.name} on {hw.name} in {result.evaluations} tries "
                f"(budget {describe_budget(budget, seconds)})"
            )
        print(f"[{i}/{len(workloads)}] {w.name}: EDP {result.cost.edp:.3e}", file=sys.stderr)
        layers.append((w, result.mapping))
    report = write_database(lowered, layers, out)
    for primfunc, name, reason in report.skipped:
        print(f"tvm-codesign: warning: {primfunc} ({name}) keeps TVM's default schedule: {reason}", file=sys.stderr)
    return report


def codesign(
    model: Any,
    output: str | Path,
    options: CoDesignOptions | None = None,
    input_shapes: Any = None,
    label: str | None = None,
) -> CoDesignReport:
    """Co-design the accelerator and every layer's mapping of ``model`` into the folder ``output``.

    The Python form of ``tvm-codesign codesign MODEL -o OUTPUT``: the same validation (one-line
    :class:`CodesignError` before any work), search, baselines and files (:class:`tvm_codesign.report.ResultFolder`).

    Parameters
    ----------
    model
        An ``.onnx`` or TVMScript ``.py`` path, an ``onnx.ModelProto``, a Relax ``IRModule``, or a zoo name.
    output
        The result folder (created; an existing run there needs ``options.resume``).
    options
        Budgets, area budget, strategies, seed, ...; :class:`CoDesignOptions` defaults when ``None``.
    input_shapes
        Fixes dynamic input dims (a dict, or tvmc's ``name:[1,3,224,224]`` syntax).
    label
        The model's name in the reports (default: ``model`` when it is a string, else ``"model"``).

    Returns
    -------
    CoDesignReport
        ``result.json`` typed: the design, the baselines and where every file is.
    """
    from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
    from tvm_codesign.compiler.frontend import load_model

    prepared = validate(options or CoDesignOptions(), output)
    lowered = lower_to_tir(load_model(model, input_shapes))
    workloads = list(extract_workloads(lowered, lowered=True).workloads)
    name = label if label is not None else (str(model) if isinstance(model, (str, Path)) else "model")
    result = codesign_to_folder(prepared, lowered, workloads, name, output)
    return CoDesignReport.from_json(ResultFolder(Path(output)), result)
