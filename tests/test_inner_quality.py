"""Search quality on an enumerable space: exhaustive finds the true optimum, constrained BO gets within 5 %."""

from __future__ import annotations

import numpy as np
import pytest

from tvm_codesign.hardware import Buffer, HardwareConfig
from tvm_codesign.inner import search_mapping
from tvm_codesign.mapping_space import MappingObjective, MappingSpace
from tvm_codesign.workload import Workload

#: A VTA-like array small enough that a 64×64 dense layer's mapping space can be enumerated (about 8e6 distinct
#: mappings, 3e6 of them valid) in well under a minute.
TINY = HardwareConfig(
    "tiny-vta",
    4,
    4,
    buffers=(Buffer("input", 512, ("I",), 8.0), Buffer("weight", 1024, ("W",), 8.0), Buffer("acc", 1024, ("O",), 8.0)),
)
DENSE = Workload("dense_64x64", "dense", C=64, K=64)


@pytest.mark.slow
def test_exhaustive_is_the_true_optimum_and_bo_gets_within_5_percent_in_100_evaluations():
    space = MappingSpace(DENSE, TINY, double_buffering=False)
    objective = MappingObjective(DENSE, TINY, space=space)
    # The optimum by brute force over every distinct mapping, independent of the search code.
    best, valid = np.inf, 0
    for chunk in space.enumerate(10**8, canonical_only=True):
        outcome = objective(chunk)
        valid += int(outcome.feasible.sum())
        best = min(best, float(outcome.value.min()))
    assert valid >= 100_000

    exhaustive = search_mapping(DENSE, TINY, strategy="exhaustive", budget=10**8, seed=0, double_buffering=False)
    assert np.log(exhaustive.edp) == pytest.approx(best, abs=1e-12)

    ratios = [
        search_mapping(DENSE, TINY, strategy="bo", budget=100, seed=seed, double_buffering=False).edp / exhaustive.edp
        for seed in range(5)
    ]
    assert np.median(ratios) <= 1.05, ratios
