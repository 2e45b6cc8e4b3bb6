"""`tvm-codesign search-mapping --workload W --hw HW [--dataflow D] --strategy S [--budget N] [--seconds S] --seed K [--json]`.

Searches the mappings of one layer on one accelerator for the lowest EDP (:func:`tvm_codesign.bilevel.mapping_search.search_mapping`)
and prints the best mapping, its cost and the layer's energy-cycles Pareto set. ``W`` and ``HW`` are as for
``evaluate``.

The budget is ``--budget`` evaluations (default :data:`tvm_codesign.bilevel.defaults.MAPPING_SEARCH_BUDGET`),
``--seconds`` of wall time (alone: as many evaluations as the time allows), or both (whichever ends first). Only a
budget in evaluations gives the same result for the same seed on every machine.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tvm_codesign.bilevel import defaults
from tvm_codesign.cli import positive_seconds
from tvm_codesign.errors import CodesignError
from tvm_codesign.cli.evaluate import load_workload


def register(sub: Any) -> argparse.ArgumentParser:
    """Add the ``search-mapping`` subcommand to ``sub`` (an argparse subparsers action)."""
    from tvm_codesign.model.dataflow import DATAFLOWS

    p = sub.add_parser(
        "search-mapping",
        help="search the mappings of one workload on one accelerator (best EDP and energy-cycles Pareto set)",
        description="Search the mapping space of one layer with one strategy of the ask/tell engine.",
    )
    p.add_argument("--workload", required=True, metavar="W", help="workload JSON object (text or .json path)")
    p.add_argument("--hw", required=True, metavar="HW", help="eyeriss | vta | hardware.json | vta_config.json")
    p.add_argument("--dataflow", choices=sorted(DATAFLOWS), default=None, help="restrict to a named dataflow")
    p.add_argument(
        "--strategy", default=defaults.INNER_STRATEGY, metavar="S",
        help=f"evolve | random | bo | skopt | xgb | exhaustive (default {defaults.INNER_STRATEGY})",
    )
    p.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="N",
        help=f"cost-model evaluations (default {defaults.MAPPING_SEARCH_BUDGET}, or none when only --seconds is given); "
        "with --seconds, the search stops at whichever ends first",
    )
    p.add_argument(
        "--seconds",
        type=positive_seconds,
        default=None,
        metavar="S",
        help="budget in seconds of wall time (checked between batches); alone, as many evaluations as S seconds "
        "allow. Unlike --budget, not reproducible across machines",
    )
    p.add_argument("--seed", type=int, default=0, metavar="K", help="run seed (default 0)")
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help="genomes per ask (default by strategy)")
    # The old name of --seconds, kept working but no longer listed.
    p.add_argument("--time-limit", dest="seconds", type=positive_seconds, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--schedulable-only", action="store_true", help="only mappings the TVM schedule takes"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``tvm-codesign search-mapping``; returns 0, raises :class:`CodesignError` on bad input or no result."""
    from tvm_codesign.model.presets import load_hardware
    from tvm_codesign.bilevel.mapping_search import search_mapping

    if args.budget is not None and args.budget < 1:
        raise CodesignError(f"--budget must be a positive number of evaluations, got {args.budget}")
    # --seconds alone: a budget in seconds only; neither: the default in evaluations; both: whichever ends first.
    budget = args.budget if args.budget is not None or args.seconds is not None else defaults.MAPPING_SEARCH_BUDGET
    if args.batch_size is not None and args.batch_size < 1:
        raise CodesignError(f"--batch-size must be positive, got {args.batch_size}")
    wl = load_workload(args.workload)
    hw = load_hardware(args.hw)
    res = search_mapping(
        wl,
        hw,
        strategy=args.strategy,
        budget=budget,
        seed=args.seed,
        dataflow=args.dataflow,
        batch_size=args.batch_size,
        time_limit=args.seconds,
        schedulable_only=args.schedulable_only,
    )
    if not res.feasible:
        if res.evaluations == 0:  # the space itself is empty (e.g. a dataflow this hardware cannot run)
            raise CodesignError(res.reason)
        raise CodesignError(
            f"no valid mapping of {wl.name!r} on {hw.name!r} found in {res.evaluations} evaluations "
            f"({args.strategy}{', ' + args.dataflow if args.dataflow else ''}); try a larger --budget or --seconds"
        )
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
        return 0
    print(format_text(res))
    return 0


def format_text(res: Any) -> str:
    """Human-readable result: settings, the best mapping's nest and cost, the Pareto set."""
    wl, hw, c = res.workload, res.hw, res.cost
    lines = [
        f"search-mapping {wl.name} ({wl.macs:,} MACs) on {hw.name} ({hw.pe_rows}x{hw.pe_cols} PEs): "
        f"{res.strategy}, dataflow {res.dataflow or 'free'}, {res.evaluations} evaluations in {res.seconds:.2f} s "
        f"(space {float(res.space_size):.3g} genomes)",
        str(res.mapping),
        "",
        f"best: energy {c.energy_pj:.4g} pJ  cycles {c.cycles:.6g}  EDP {c.edp:.4g} pJ*cycles  "
        f"utilisation {c.utilisation:.1%}",
        f"pareto ({len(res.pareto)} points):",
    ]
    for _, e, cy in res.pareto:
        lines.append(f"  energy {e:.4g} pJ  cycles {cy:.6g}  EDP {e * cy:.4g}")
    return "\n".join(lines)
