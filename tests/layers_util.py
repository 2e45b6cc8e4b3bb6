"""Random schedulable mappings for every workload of a lowered model (shared by the database, pass and CLI tests)."""

from __future__ import annotations

import numpy as np

from tvm_codesign.compiler.extract import extract_workloads
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.schedulability import unschedulable_reason
from tvm_codesign.model.workload import Workload
from tvm_codesign.testing import random_mappings


def schedulable_mapping(w: Workload, hw, rng: np.random.Generator) -> Mapping:
    """The first of 200 random valid mappings of ``w`` on ``hw`` that TVM can schedule."""
    return next(m for m in random_mappings(w, hw, 200, rng) if unschedulable_reason(w, m) is None)


def schedulable_layers(lowered, hw, rng: np.random.Generator) -> list[tuple[Workload, Mapping]]:
    """``(workload, schedulable mapping)`` for every workload of a module lowered with ``lower_to_tir``."""
    return [(w, schedulable_mapping(w, hw, rng)) for w in extract_workloads(lowered, lowered=True).workloads]
