"""The inner default against the exhaustive optimum of an enumerable mapping space, in one second of wall time.

The space is the slow test's (``tests/test_inner_quality.py``): a 64x64 dense layer on a 4x4 VTA-like array, about
8e6 distinct mappings of which 3e6 are valid. The optimum comes from scoring every canonical genome (about a
minute); then ``search_mapping`` with the co-design's inner default and ``--seconds``-style budget runs once per
seed. Prints a table and ``found_optimum: K/5`` last::

    python benchmarks/inner_optimum.py [--seconds 1] [--seeds 5] [--strategy evolve]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_inner_quality import DENSE, TINY  # noqa: E402

from tvm_codesign.bilevel import defaults  # noqa: E402
from tvm_codesign.bilevel.mapping_search import search_mapping  # noqa: E402
from tvm_codesign.spaces.mapping import MappingObjective, MappingSpace  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--strategy", default=defaults.INNER_STRATEGY)
    args = ap.parse_args(argv)
    space = MappingSpace(DENSE, TINY, double_buffering=False)
    objective = MappingObjective(DENSE, TINY, space=space)
    t = time.perf_counter()
    best, valid, total = np.inf, 0, 0
    for chunk in space.enumerate(10**8, canonical_only=True):
        outcome = objective(chunk)
        valid += int(outcome.feasible.sum())
        total += len(chunk)
        best = min(best, float(outcome.value.min()))
    print(f"exhaustive: {total:,} mappings, {valid:,} valid, optimum EDP {np.exp(best):.6e} "
          f"({time.perf_counter() - t:.0f} s)\n")
    print(f"| seed | {args.strategy} EDP in {args.seconds:g} s | / optimum | evaluations | first at evaluation |")
    print("| --- | --- | --- | --- | --- |")
    hits = 0
    for seed in range(args.seeds):
        res = search_mapping(DENSE, TINY, strategy=args.strategy, budget=None, time_limit=args.seconds, seed=seed,
                             double_buffering=False)
        at = next((row["evaluations"] for row in res.history if row["best"] <= best + 1e-12), None)
        hit = bool(np.log(res.edp) <= best + 1e-12)
        hits += hit
        print(f"| {seed} | {res.edp:.6e} | {res.edp / np.exp(best):.4f} | {res.evaluations:,} | {at or '—'} |")
    print(f"\nfound_optimum: {hits}/{args.seeds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
