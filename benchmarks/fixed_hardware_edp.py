"""Model EDP of fixed accelerators under the co-design's inner search: compares inner searches like for like.

    python benchmarks/fixed_hardware_edp.py MODEL HW [HW ...] [--seeds 0,1,2] [--budget-sw 1500]

``HW`` is a preset name or a ``hardware.json`` (e.g. the best design of two co-design runs). For each seed, every
layer's mapping search runs as in the co-design (``InnerSettings``: random search, schedulable mappings only, the
budget per layer) and the model's EDP is printed, one line per (hardware, seed), then the median per hardware.
Run it with another checkout first on ``PYTHONPATH`` to score that version's inner search on the same hardware
(how ``benchmarks/results/spills.md`` compares the schedulable space with and without partial-sum spills).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import statistics
import sys


def main(argv: list[str] | None = None) -> int:
    from tvm_codesign.bilevel.outer import InnerSettings, evaluate_hardware
    from tvm_codesign.compiler.extract import extract_workloads
    from tvm_codesign.compiler.frontend import load_model
    from tvm_codesign.model.presets import load_hardware

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("hardware", nargs="+")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--budget-sw", type=int, default=1500)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    workloads = list(extract_workloads(load_model(args.model)).workloads)
    seeds = [int(s) for s in args.seeds.split(",")]
    medians = {}
    with cf.ProcessPoolExecutor(args.jobs) as ex:
        for spec in args.hardware:
            hw = load_hardware(spec)
            edps = []
            for seed in seeds:
                settings = InnerSettings(budget=args.budget_sw, seed=seed, schedulable_only=True)
                ev = evaluate_hardware(hw, workloads, settings, ex)
                edps.append(ev.edp)
                print(f"{args.model} {spec} seed {seed}: EDP {edps[-1]:.4e}", flush=True)
            medians[spec] = statistics.median(edps)
    for spec, edp in medians.items():
        print(f"median {args.model} {spec}: {edp:.4e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
