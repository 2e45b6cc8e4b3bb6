"""Sampling speed of the search spaces: candidates per second of CPU time (best of several repeats).

The outer loop asks the hardware space for pools of about 1e4 candidates per proposal; the inner loop samples and
moves mapping genomes by the thousand. This replaces a test that asserted wall time (flaky on a shared machine)::

    python benchmarks/space_sampling.py [--n 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tvm_codesign import HardwareSpace, MappingSpace, SystemParams, Workload, preset  # noqa: E402


def _rate(sample, n: int, repeats: int) -> float:
    """Samples per CPU second, the best of ``repeats`` runs (the first call warms any tables)."""
    sample(min(n, 100), np.random.default_rng(0))
    best = float("inf")
    for seed in range(repeats):
        t = time.process_time()
        sample(n, np.random.default_rng(seed + 1))
        best = min(best, time.process_time() - t)
    return n / max(best, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    system = SystemParams()
    conv = Workload("resnet50_conv3x3_64", "conv2d", K=64, C=64, P=56, Q=56, R=3, S=3, padding=(1, 1, 1, 1))
    rows = []
    for template in ("eyeriss", "per_operand"):
        space = HardwareSpace(template, system=system, area_budget_mm2="eyeriss", fill_share=0.5)
        rows.append((f"hardware space ({template}, Eyeriss's area)", _rate(space.sample, args.n, args.repeats)))
    for hw_name in ("eyeriss", "vta"):
        for schedulable in (False, True):
            space = MappingSpace(conv, preset(hw_name, system), schedulable_only=schedulable)
            label = f"mapping space (ResNet-50 3x3 on {hw_name}{', schedulable only' if schedulable else ''})"
            rows.append((label, _rate(space.sample, args.n, args.repeats)))
    print("| space | samples per CPU second |")
    print("| --- | --- |")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
