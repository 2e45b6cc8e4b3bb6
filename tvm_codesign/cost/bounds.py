"""Lower bounds on a layer's (and a model's) energy, cycles and EDP: the "distance to the limit".

No mapping on any hardware with the run's system parameters can beat these, whatever the search:

* **cycles** ≥ max(MACs / PEs, compulsory DRAM bytes / DRAM bandwidth) — every MAC needs a PE-cycle and every word of
  the touched footprint crosses the DRAM interface at least once;
* **energy** ≥ MACs × MAC energy + compulsory DRAM traffic × DRAM energy per word — every MAC is computed and every
  touched input and weight word is read from DRAM once, every output word written once.

On-chip traffic is not counted, so the bound is loose where buffers and RFs dominate and tight where DRAM does (a
batch-1 dense layer whose weights are used once). ``num_pes=None`` gives the hardware-independent floor (unlimited
PEs): what no accelerator sharing the run's DRAM, precision and MAC can beat.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

from tvm_codesign.cost.nest import touched_rows
from tvm_codesign.model.hardware import OPERANDS, SystemParams
from tvm_codesign.technology import dram_pj, mac_energy_pj
from tvm_codesign.model.workload import Workload


def compulsory_words(workload: Workload) -> dict[str, int]:
    """Words of each operand that must cross the DRAM interface once per call of the layer.

    The input counts the distinct rows and columns of its (padded) form the sliding windows touch — a 1×1 stride-2
    conv touches a quarter of its input — as the cost model does (``touched_rows``).
    """
    w = workload
    # touched_rows is flattened (P + 1) x (R + 1); entry [P, R] is the whole window.
    rows = touched_rows(w.P, w.R, w.stride[0], w.dilation[0])[w.P * (w.R + 1) + w.R]
    cols = touched_rows(w.Q, w.S, w.stride[1], w.dilation[1])[w.Q * (w.S + 1) + w.S]
    return {
        "I": int(w.G * w.N * w.C * rows * cols),
        "W": int(w.G * w.K * w.C * w.R * w.S),
        "O": int(w.G * w.N * w.K * w.P * w.Q),
    }


@dataclasses.dataclass(frozen=True)
class LayerBound:
    """Lower bounds for one call of a layer (multiply by ``count`` for all its call sites)."""

    energy_pj: float
    cycles: float
    mac_energy_pj: float
    dram_energy_pj: float
    compute_cycles: float
    dram_cycles: float

    @property
    def edp(self) -> float:
        return self.energy_pj * self.cycles


def layer_bound(workload: Workload, system: SystemParams, num_pes: int | None = None) -> LayerBound:
    """Lower bounds on one call of ``workload`` with ``system``'s DRAM and precision on ``num_pes`` PEs.

    Parameters
    ----------
    num_pes
        PEs of the array; ``None`` for unlimited (the compute term vanishes).
    """
    words = compulsory_words(workload)
    dram_e = sum(words[op] * dram_pj(system.operand_bits(op), system.dram_energy_pj_per_bit) for op in OPERANDS)
    dram_bytes = sum(words[op] * system.operand_bits(op) / 8.0 for op in OPERANDS)
    mac_e = workload.macs * mac_energy_pj(system.word_bits, system.acc_bits)
    compute = 0.0 if num_pes is None else workload.macs / num_pes
    dram_c = dram_bytes / system.dram_bandwidth
    return LayerBound(mac_e + dram_e, max(compute, dram_c), mac_e, dram_e, compute, dram_c)


@dataclasses.dataclass(frozen=True)
class ModelBound:
    """Lower bounds for a whole model: Σ energy and Σ cycles over every call site, and their product."""

    energy_pj: float
    cycles: float

    @property
    def edp(self) -> float:
        return self.energy_pj * self.cycles


def model_bound(workloads: Iterable[Workload], system: SystemParams, num_pes: int | None = None) -> ModelBound:
    """The model's EDP floor: (Σ count × energy bound) × (Σ count × cycle bound), layers run one after another."""
    energy = cycles = 0.0
    for w in workloads:
        b = layer_bound(w, system, num_pes)
        energy += w.count * b.energy_pj
        cycles += w.count * b.cycles
    return ModelBound(energy, cycles)
