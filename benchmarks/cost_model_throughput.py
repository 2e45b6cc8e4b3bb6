"""Cost-model throughput: mappings evaluated per second on one core.

Batches of 1e5 random valid mappings of a ResNet-50 3x3 conv (C = K = 64, P = Q = 56, R = S = 3) on the Eyeriss
and VTA presets; the mappings are generated first (not timed), then ``evaluate`` is timed over several repeats and
the best is kept (the usual way to time on a shared machine). Pin to one core with ``taskset -c 0`` and keep BLAS
threads at one; numpy elementwise code is single-threaded anyway. The CPU time of the process is printed too: on a
loaded machine it is the better measure of the single-core cost.

The last line is ``mappings_per_second: N``: the slower of the two presets, per second of CPU time of this
(single-threaded) process, i.e. per second of one core. On an idle machine it equals the wall-clock rate, also
printed; on a shared one the wall clock also counts the time other jobs hold the core.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tvm_codesign.cost.model import evaluate  # noqa: E402
from tvm_codesign.model.presets import preset  # noqa: E402
from tvm_codesign.testing import random_batch  # noqa: E402
from tvm_codesign.model.workload import Workload  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    wl = Workload("resnet50_conv3x3_64", "conv2d", K=64, C=64, P=56, Q=56, R=3, S=3, padding=(1, 1, 1, 1))
    rates = []
    for name in ("eyeriss", "vta"):
        hw = preset(name)
        t0 = time.perf_counter()
        batch, acceptance = random_batch(wl, hw, args.batch, np.random.default_rng(args.seed))
        gen = time.perf_counter() - t0
        evaluate(wl, hw, batch.take(np.arange(min(1000, len(batch)))))  # warm caches (touched-row tables)
        best = best_cpu = float("inf")
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            res = evaluate(wl, hw, batch)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        assert res.valid.all()
        rate = len(batch) / best
        rates.append(len(batch) / best_cpu)
        print(
            f"{name}: {len(batch)} valid mappings ({batch.slots} loop slots; generated in {gen:.1f} s, acceptance "
            f"{acceptance:.1%}); evaluate best of {args.repeats}: {best * 1e3:.1f} ms = {rate:,.0f} mappings/s "
            f"(CPU {best_cpu * 1e3:.1f} ms = {len(batch) / best_cpu:,.0f} mappings/s); "
            f"best EDP {np.min(res.edp):.4g} pJ*cycles"
        )
    print(f"mappings_per_second: {min(rates):.0f}")


if __name__ == "__main__":
    main()
