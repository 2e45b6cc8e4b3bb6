"""Differential fuzzer of the schedules: random layers of every kind x random mappings from the schedulable space.

Each hypothesis example is a one-layer ONNX model (:mod:`tests.fuzz_cases`), lowered and extracted as the
co-design does it. Its workload is mapped on the ``eyeriss`` and ``vta`` presets and on a random accelerator from
:class:`~tvm_codesign.spaces.hardware.HardwareSpace`; mappings are drawn from ``MappingSpace(schedulable_only=True)``
(what a co-design can return). Every (workload, mapping) pair is scheduled with ``apply_mapping``, built on llvm
and run: it must equal numpy, and with perfect factors its compacted cache buffers must equal the brute-force box
of TIR indices and its stage transfers the cost model's counts (:func:`tests.schedule_check.check_schedule`).

The fast suite runs a few seeded examples. The long run is marked ``slow``::

    TVM_CODESIGN_FUZZ_EXAMPLES=400 TVM_CODESIGN_FUZZ_SEED=1 pytest -q -m slow tests/test_schedule_fuzz.py -s

and prints how many pairs it checked and how long that took (run two seeds side by side on two cores).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
from tvm_codesign.compiler.frontend import load_model
from tvm_codesign.model.presets import preset
from tvm_codesign.spaces.hardware import TEMPLATES, HardwareSpace, area_budget_from
from tvm_codesign.spaces.mapping import MappingSpace

from .fuzz_cases import Case, any_case
from .schedule_check import check_schedule, random_args, reference

#: Mappings drawn per accelerator and example.
PER_HARDWARE = 2


def _random_hardware(rng: np.random.Generator):
    """An accelerator from a random template, within 0.5-2x Eyeriss's area, half of them grown to fill it."""
    template = str(rng.choice(sorted(TEMPLATES)))
    space = HardwareSpace(template, area_budget_mm2=area_budget_from("eyeriss") * rng.uniform(0.5, 2.0), fill_share=0.5)
    return space.decode(space.sample(1, rng)[0])


def check_case(case: Case, case_seed: int) -> int:
    """Schedule, build and check ``PER_HARDWARE`` mappings of the case on each of three accelerators; the number of
    (workload, mapping) pairs checked."""
    lowered = lower_to_tir(load_model(case.model))
    workloads = extract_workloads(lowered, lowered=True).workloads
    assert len(workloads) == 1, (case.text, [w.name for w in workloads])
    (w,) = workloads
    (primfunc, block), = w.sources
    func = lowered[primfunc]
    rng = np.random.default_rng(case_seed)
    args = random_args(func, rng)
    want = reference(w, args)
    pairs = 0
    for hw in (preset("eyeriss"), preset("vta"), _random_hardware(rng)):
        space = MappingSpace(w, hw, schedulable_only=True)
        genomes = space.sample(PER_HARDWARE, rng)
        assert len(genomes) == PER_HARDWARE, (case.text, hw.name, "no schedulable mapping drawn")
        for mapping in space.decode_batch(genomes).to_mappings():
            try:
                check_schedule(w, func, block, hw, mapping, args, want)
            except AssertionError as err:
                raise AssertionError(f"{case.text} on {hw.name}: {mapping}\n{err}") from None
            pairs += 1
    return pairs


_FAST = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_FAST
@given(case=any_case, case_seed=st.integers(0, 2**31 - 1))
def test_random_layers_and_mappings_build_and_equal_numpy(case, case_seed):
    check_case(case, case_seed)


_LONG_EXAMPLES = int(os.environ.get("TVM_CODESIGN_FUZZ_EXAMPLES", "60"))
_LONG_SEED = int(os.environ.get("TVM_CODESIGN_FUZZ_SEED", "1"))
_tally = {"pairs": 0, "examples": 0, "seconds": 0.0}


@pytest.fixture(scope="module")
def tally():
    yield _tally
    print(
        f"\nschedule fuzzer (seed {_LONG_SEED}): {_tally['pairs']} (workload, mapping) pairs from "
        f"{_tally['examples']} layers checked in {_tally['seconds']:.0f} s, 0 mismatches"
    )


@pytest.mark.slow
def test_random_layers_and_mappings_long_run(tally):
    @seed(_LONG_SEED)
    @settings(max_examples=_LONG_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=any_case, case_seed=st.integers(0, 2**31 - 1))
    def run(case, case_seed):
        start = time.perf_counter()
        tally["pairs"] += check_case(case, case_seed)
        tally["examples"] += 1
        tally["seconds"] += time.perf_counter() - start

    run()
