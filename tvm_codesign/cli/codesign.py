"""`tvm-codesign codesign MODEL -o DIR`: co-design the accelerator and the mappings of a model."""

from __future__ import annotations

import argparse
from typing import Any

from tvm_codesign.bilevel import defaults
from tvm_codesign.cli import positive_seconds
from tvm_codesign.pipeline import CoDesignOptions


def register(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "codesign",
        help="co-design the accelerator (constrained BO) and every layer's mapping for a model",
        description="Co-design the accelerator and the mappings of a model (see README, Co-design).",
    )
    p.add_argument("model", metavar="MODEL", help="an .onnx file, a TVMScript .py file, or a zoo name")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--input-shapes", default=None, help="fix dynamic dims, tvmc syntax: 'name:[1,3,224,224]'")
    add_codesign_options(p)
    p.set_defaults(func=run)
    return p


def add_codesign_options(p: argparse.ArgumentParser) -> None:
    """The co-design flags, shared with `compile --codesign`."""
    p.add_argument(
        "--area-budget", default=None, help="mm², or a preset name for its area (default: eyeriss's area)"
    )
    p.add_argument("--template", default="eyeriss", help="hardware template the outer search moves (default: eyeriss)")
    p.add_argument("--precision", default="int16", choices=("int8", "int16"), help="operand precision (system param)")
    p.add_argument("--max-latency-cycles", type=float, default=None)
    p.add_argument("--max-power-mw", type=float, default=None)
    p.add_argument("--budget-hw", type=int, default=defaults.BUDGET_HW, help="hardware evaluations")
    p.add_argument(
        "--budget-sw",
        type=int,
        default=None,  # None: not given, told apart from the default (see inner_budget)
        metavar="M",
        help=f"mapping evaluations per layer and hardware candidate (default {defaults.BUDGET_SW}; none when only "
        "--inner-seconds is given)",
    )
    p.add_argument(
        "--inner-seconds",
        type=positive_seconds,
        default=defaults.INNER_SECONDS,
        metavar="S",
        help="seconds of wall time per layer and hardware candidate: alone, the inner budget is seconds only; with "
        "--budget-sw, each search stops at whichever ends first. Recorded in the trial log; unlike evaluations, "
        "not reproducible across machines",
    )
    p.add_argument("--strategy", default="bo", choices=("bo", "random", "skopt"), help="outer strategy")
    p.add_argument(
        "--inner-strategy",
        default=defaults.INNER_STRATEGY,
        help=f"mapping search strategy (default: {defaults.INNER_STRATEGY}; random | bo | skopt | xgb | evolve)",
    )
    p.add_argument("--jobs", type=int, default=2, help="local worker processes")
    p.add_argument("--executor", default=None, help="dask://HOST:PORT to run the inner searches on a Dask cluster")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue a killed run in the output folder")
    p.add_argument("--no-baselines", action="store_true", help="skip the eyeriss / eyeriss_rs / vta baselines")


def inner_budget(args: argparse.Namespace) -> tuple[int | None, float | None]:
    """``(evaluations, seconds)`` of each layer's search from ``--budget-sw`` and ``--inner-seconds``: ``--inner-seconds``
    alone is a budget in seconds only (no evaluation cap), both flags apply together (whichever ends first), and
    neither is the default in evaluations."""
    budget = args.budget_sw
    if budget is None and args.inner_seconds is None:
        budget = defaults.BUDGET_SW
    return budget, args.inner_seconds


def options_from(args: argparse.Namespace) -> CoDesignOptions:
    budget_sw, inner_seconds = inner_budget(args)
    return CoDesignOptions(
        # None: not given (compile tells a given flag from the default); the default lives in CoDesignOptions.
        **({} if args.area_budget is None else {"area_budget": args.area_budget}),
        template=args.template,
        precision=args.precision,
        budget_hw=args.budget_hw,
        budget_sw=budget_sw,
        inner_seconds=inner_seconds,
        strategy=args.strategy,
        inner_strategy=args.inner_strategy,
        jobs=args.jobs,
        executor=args.executor,
        seed=args.seed,
        resume=args.resume,
        baselines=not args.no_baselines,
        max_latency_cycles=args.max_latency_cycles,
        max_power_mw=args.max_power_mw,
    )


def run(args: argparse.Namespace) -> int:
    from tvm_codesign.pipeline import codesign

    codesign(args.model, args.output, options_from(args), args.input_shapes, label=args.model)
    return 0
