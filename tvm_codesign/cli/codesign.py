"""`tvm-codesign codesign MODEL --area-budget B -o DIR`: co-design the accelerator and the mappings of a model."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from ..errors import CodesignError

#: Defaults sized so that DQN takes about a minute on a 2-core machine.
DEFAULT_BUDGET_HW = 16
DEFAULT_BUDGET_SW = 1500


def register(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "codesign",
        help="co-design the accelerator (constrained BO) and every layer's mapping for a model",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
    )
    p.add_argument("model", metavar="MODEL", help="an .onnx file, a TVMScript .py file, or a zoo name")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--area-budget", default="eyeriss", help="mm², or a preset name for its area (default: eyeriss)")
    p.add_argument("--template", default="eyeriss", help="hardware template the outer search moves (default: eyeriss)")
    p.add_argument("--precision", default="int16", choices=("int8", "int16"), help="operand precision (system param)")
    p.add_argument("--input-shapes", default=None, help="fix dynamic dims, tvmc syntax: 'name:[1,3,224,224]'")
    p.add_argument("--max-latency-cycles", type=float, default=None)
    p.add_argument("--max-power-mw", type=float, default=None)
    p.add_argument("--budget-hw", type=int, default=DEFAULT_BUDGET_HW, help="hardware evaluations")
    p.add_argument("--budget-sw", type=int, default=DEFAULT_BUDGET_SW, help="mapping evaluations per layer")
    p.add_argument("--strategy", default="bo", choices=("bo", "random", "skopt"), help="outer strategy")
    p.add_argument("--inner-strategy", default="random", help="mapping search strategy (default: random)")
    p.add_argument("--jobs", type=int, default=2, help="local worker processes")
    p.add_argument("--executor", default=None, help="dask://HOST:PORT to run the inner searches on a Dask cluster")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue a killed run in DIR")
    p.add_argument("--no-baselines", action="store_true", help="skip the eyeriss / eyeriss_rs / vta baselines")
    p.set_defaults(func=run)
    return p


@contextlib.contextmanager
def make_executor(spec: str | None, jobs: int) -> Iterator[Any]:
    """A local spawn process pool, or a Dask cluster's executor for ``dask://HOST:PORT``."""
    from ..codesign import default_executor

    if spec is None:
        with default_executor(jobs) as ex:
            yield ex
        return
    if not spec.startswith("dask://"):
        raise CodesignError(f"--executor must look like dask://HOST:PORT, got {spec!r}")
    try:
        from distributed import Client
    except ImportError:
        raise CodesignError("--executor dask://… needs the dask extra: pip install 'tvm_codesign[dask]'") from None
    try:
        client = Client(spec.replace("dask://", "tcp://"), timeout="10s")
    except OSError as err:
        raise CodesignError(f"cannot reach the Dask scheduler at {spec}: {err}") from None
    with client:
        yield client.get_executor()


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


def run(args: argparse.Namespace) -> int:
    from ..hardware import SystemParams
    from ..hardware_space import HardwareSpace, area_budget_from, check_budget

    if args.budget_hw < 1 or args.budget_sw < 1:
        raise CodesignError("--budget-hw and --budget-sw must be at least 1")
    if args.executor is not None and not args.executor.startswith("dask://"):
        raise CodesignError(f"--executor must look like dask://HOST:PORT, got {args.executor!r}")
    if args.jobs < 1:
        raise CodesignError("--jobs must be at least 1")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CodesignError(f"output {out} exists and is not a folder")
    log_path = out / "trials.jsonl"
    if out.exists() and log_path.exists() and not args.resume:
        raise CodesignError(f"{out} already holds a run; pass --resume to continue it or choose another -o")
    system = SystemParams(precision=args.precision)
    budget = area_budget_from(args.area_budget, system)
    space = HardwareSpace(args.template, system=system, area_budget_mm2=budget)
    check_budget(space)  # an impossible budget is a one-line error before any search

    from ..codesign import InnerSettings, Limits, evaluate_hardware, run_codesign
    from ..database import write_database
    from ..extract import extract_workloads, lower_to_tir
    from ..frontend import load_model
    from ..hardware import preset
    from ..outputs import chosen_layers, summarise, vta_config_if_fits, write_json, write_report
    from ..search import make_strategy

    lowered = lower_to_tir(load_model(args.model, args.input_shapes))
    workloads = list(extract_workloads(lowered, lowered=True).workloads)
    out.mkdir(parents=True, exist_ok=True)
    settings = InnerSettings(strategy=args.inner_strategy, budget=args.budget_sw, seed=args.seed)
    limits = Limits(args.max_latency_cycles, args.max_power_mw)
    header = {
        "model": args.model,
        "template": args.template,
        "area_budget_mm2": budget,
        "system": system.to_json(),
        "inner": settings.to_json(),
        "limits": limits.to_json(),
        "strategy": args.strategy,
        "budget_hw": args.budget_hw,
        "seed": args.seed,
    }
    print(
        f"co-designing {args.model}: {len(workloads)} unique layers, area budget {budget:.3f} mm², "
        f"{args.budget_hw} hardware x {args.budget_sw} mapping evaluations per layer",
        file=sys.stderr,
    )
    with make_executor(args.executor, args.jobs) as executor:
        strategy = make_strategy(args.strategy, space, seed=args.seed)
        result = run_codesign(
            space,
            workloads,
            strategy,
            args.budget_hw,
            settings,
            executor,
            log_path,
            limits=limits,
            initial=space.preset_genomes(),
            header=header,
            on_trial=_progress(args.budget_hw),
        )
        baselines: dict[str, dict[str, Any]] = {}
        if not args.no_baselines:
            for name, hw_name, dataflow in (("eyeriss", "eyeriss", None), ("eyeriss_rs", "eyeriss", "row_stationary"), ("vta", "vta", None)):
                ev = evaluate_hardware(preset(hw_name, system), workloads, settings, executor, Limits(), dataflow)
                baselines[name] = summarise(ev.to_json())
    if result.best is None:
        raise CodesignError(f"no feasible hardware in {args.budget_hw} evaluations; see {log_path}")
    design = summarise(result.best)
    best_hw = result.best["hardware"]
    write_json(out / "hardware.json", best_hw)
    cfg, why = vta_config_if_fits(result.best)
    if cfg is not None:
        write_json(out / "vta_config.json", cfg)
    report = write_database(lowered, [(w, m) for w, m, _ in chosen_layers(result.best)], out / "database")
    write_json(
        out / "result.json",
        {
            "model": args.model,
            "settings": header,
            "design": design,
            "baselines": baselines,
            "vta_config": None if cfg is None else "vta_config.json",
            "vta_config_reason": why,
            "database": {"records": len(report.records), "skipped": [list(s) for s in report.skipped]},
            "evaluations": result.evaluations,
            "evaluated_now": result.evaluated_now,
            "seconds": result.seconds,
        },
    )
    write_report(out, args.model, design, baselines, result.trials, header)
    line = f"best EDP {design['edp']:.4e} pJ·cycles at {design['area_mm2']:.3f} mm²"
    if baselines.get("eyeriss_rs", {}).get("feasible"):
        line += f"; {baselines['eyeriss_rs']['edp'] / design['edp']:.2f}x lower than eyeriss_rs"
    print(f"{line}; wrote {out}/", file=sys.stderr)
    return 0
