"""Mapping-search throughput: valid, scored mappings per second of CPU time, random search end to end.

One process, one thread: ``search_mapping(strategy="random")`` from the first proposal to the last scored mapping
(sampling, repair, canonical form, dedupe, scoring and the Pareto set all counted), on the five layers of
``benchmarks/inner_search.py`` (Eyeriss preset). Every evaluation counted is a valid mapping (the sampler only hands
out valid ones, each scored once). The CPU time is the process's (``time.process_time``), the best of
``--repeats`` runs per layer; the last line is the median over the layers, the number issue 13 asks for::

    python benchmarks/search_throughput.py [--budget 200000] [--batch 32768] [--repeats 3] [--strategy random]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from inner_search import LAYERS  # noqa: E402

from tvm_codesign.bilevel.mapping_search import search_mapping  # noqa: E402
from tvm_codesign.model.presets import preset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=200_000, help="evaluations per run")
    ap.add_argument("--batch", type=int, default=32_768, help="genomes per ask")
    ap.add_argument("--repeats", type=int, default=3, help="runs per layer (the fastest counts)")
    ap.add_argument("--strategy", default="random")
    args = ap.parse_args(argv)
    hw = preset("eyeriss")
    search_mapping(LAYERS["dqn_conv1"], hw, args.strategy, budget=2000, seed=0)  # imports and tables warm
    print(f"| layer | evaluations | CPU s | mappings per CPU second | acceptance |")
    print("| --- | --- | --- | --- | --- |")
    rates = []
    for name, wl in LAYERS.items():
        best, res = float("inf"), None
        for seed in range(args.repeats):
            t = time.process_time()
            res = search_mapping(wl, hw, args.strategy, budget=args.budget, seed=seed, batch_size=args.batch)
            best = min(best, time.process_time() - t)
        rate = res.evaluations / best
        rates.append(rate)
        acc = f"{res.acceptance_rate:.2f}" if res.acceptance_rate is not None else "—"
        print(f"| {name} | {res.evaluations} | {best:.2f} | {rate:,.0f} | {acc} |", flush=True)
    print(f"search_mappings_per_second: {statistics.median(rates):.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
