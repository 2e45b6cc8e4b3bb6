"""Physical cost of a HardwareConfig: energy per access of every storage level, and area per component.

The numbers come from :mod:`tvm_codesign.technology` (45 nm; sources cited there). The area formula is
:func:`area_components`, written once in array arithmetic: :func:`area` calls it on one config's scalars, and the
hardware space (:mod:`tvm_codesign.spaces.hardware`) on arrays of many genomes at once, so both give the same
floats, bit for bit. Units: energies in pJ, areas in mm² (the technology table's µm² times :data:`UM2`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Union

import numpy as np

from tvm_codesign import technology as tech
from tvm_codesign.model.hardware import HardwareConfig, SystemParams
from tvm_codesign.model.workload import OPERANDS

#: µm² -> mm².
UM2: float = 1e-6

#: A float, or an array of them (one per design).
Floats = Union[float, np.ndarray]


# ---------------------------------------------------------------------------------------------------------------
# Energy.


@dataclasses.dataclass(frozen=True)
class EnergyTable:
    """Energy per access, pJ per word (a word being that operand's width at the run's precision).

    Attributes
    ----------
    read, write
        ``(level, operand) -> pJ`` for every level in :data:`~tvm_codesign.model.hardware.LEVELS` and operand in
        ``OPERANDS``; 0.0 where the operand has no storage at that level (bypass, or an RF of 0 words).
    mac_pj
        One MAC at the run's precision (multiply at ``word_bits``, accumulate at ``acc_bits``).
    noc_pj_per_destination
        Delivering one input/weight word (``word_bits``) to one PE over the array network; a multicast to ``d``
        PEs costs ``d`` times this.
    reduction_hop_pj
        Moving one partial sum (``acc_bits``) one hop of a spatial reduction (the add itself is in ``mac_pj``).
    """

    read: dict[tuple[str, str], float]
    write: dict[tuple[str, str], float]
    mac_pj: float
    noc_pj_per_destination: float
    reduction_hop_pj: float
    #: Per-operand array-network energy per word per destination (O at ``acc_bits``, e.g. for output collection).
    noc_pj_per_word: dict[str, float] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; ``(level, operand)`` keys become ``"level.operand"``."""
        return {
            "read": {f"{lv}.{op}": v for (lv, op), v in self.read.items()},
            "write": {f"{lv}.{op}": v for (lv, op), v in self.write.items()},
            "mac_pj": self.mac_pj,
            "noc_pj_per_destination": self.noc_pj_per_destination,
            "reduction_hop_pj": self.reduction_hop_pj,
            "noc_pj_per_word": dict(self.noc_pj_per_word),
        }


def energy_table(hw: HardwareConfig) -> EnergyTable:
    """Energy per access of every (level, operand) of ``hw`` from :mod:`~tvm_codesign.technology`."""
    sysp = hw.system
    read: dict[tuple[str, str], float] = {}
    write: dict[tuple[str, str], float] = {}
    for op in OPERANDS:
        bits = sysp.operand_bits(op)
        read[("DRAM", op)] = write[("DRAM", op)] = tech.dram_pj(bits, sysp.dram_energy_pj_per_bit)
        b = hw.buffer_for(op)
        read[("GB", op)] = tech.sram_read_pj(b.capacity, bits) if b else 0.0
        write[("GB", op)] = tech.sram_write_pj(b.capacity, bits) if b else 0.0
        read[("RF", op)] = tech.rf_read_pj(hw.rf_words(op), bits)
        write[("RF", op)] = tech.rf_write_pj(hw.rf_words(op), bits)
    noc_bit = tech.noc_pj_per_bit()
    return EnergyTable(
        read=read,
        write=write,
        mac_pj=tech.mac_energy_pj(sysp.word_bits, sysp.acc_bits),
        noc_pj_per_destination=noc_bit * sysp.word_bits,
        reduction_hop_pj=noc_bit * sysp.acc_bits,
        noc_pj_per_word={op: noc_bit * sysp.operand_bits(op) for op in OPERANDS},
    )


# ---------------------------------------------------------------------------------------------------------------
# Area.

#: Area components per register file, in the order :func:`area_components` lists them.
RF_COMPONENTS: dict[str, str] = {"I": "rf_input", "W": "rf_weight", "O": "rf_output"}


def rf_um2(words: int, operand: str, system: SystemParams) -> float:
    """Area of one PE's register file of ``words`` words of ``operand`` (µm²; 0 = no RF)."""
    return tech.rf_area_um2(words, system.operand_bits(operand))


def buffer_um2(capacity: int, bandwidth: float) -> float:
    """Area of one on-chip buffer of ``capacity`` bytes delivering ``bandwidth`` bytes/cycle (µm²); a capacity of
    0 is an absent buffer and has no area (the hardware space's per-operand template can drop a buffer)."""
    return tech.sram_area_um2(capacity, bandwidth) if capacity else 0.0


def area_components(
    num_pes: int | np.ndarray,
    rf_area_um2: Mapping[str, Floats],
    buffer_area_um2: Mapping[str, Floats],
    system: SystemParams,
) -> dict[str, Floats]:
    """The area formula: mm² per component, for one design (scalars) or many (arrays of one value per design).

    Parameters
    ----------
    num_pes
        PEs in the array.
    rf_area_um2
        Per operand ``I``, ``W``, ``O``: one PE's register file, µm² (:func:`rf_um2`).
    buffer_area_um2
        Per buffer name, in the config's buffer order: µm² (:func:`buffer_um2`).
    system
        The run's :class:`SystemParams` (word widths size the MACs, pipeline registers and network).

    Returns
    -------
    dict
        ``pe_macs``, ``pe_regs``, ``rf_input``, ``rf_weight``, ``rf_output``, ``buffer_<name>``..., ``noc``, in that
        order: :func:`total_mm2` adds them in it. Plain arithmetic only (no scalar-only ``math`` calls), so that
        arrays and scalars go through the very same operations, in the same order, and round the same.
    """
    wb, ab = system.word_bits, system.acc_bits
    comp: dict[str, Floats] = {
        "pe_macs": num_pes * tech.mac_area_um2(wb, ab) * UM2,
        "pe_regs": num_pes * tech.pe_regs_area_um2(wb, ab) * UM2,
    }
    for op, key in RF_COMPONENTS.items():
        comp[key] = num_pes * rf_area_um2[op] * UM2
    for name, um2 in buffer_area_um2.items():
        comp[f"buffer_{name}"] = um2 * UM2
    comp["noc"] = tech.noc_area_um2(num_pes, wb, ab) * UM2
    return comp


def total_mm2(components: Mapping[str, Floats]) -> Floats:
    """Sum of :func:`area_components`' components, in their order (left to right, as Python's ``sum``)."""
    return sum(components.values())


@dataclasses.dataclass(frozen=True)
class AreaBreakdown:
    """Area per component, mm² (``pe_macs``, ``pe_regs``, ``rf_input``, ``rf_weight``, ``rf_output``,
    ``buffer_<name>``, ``noc``)."""

    components: dict[str, float]

    @property
    def total_mm2(self) -> float:
        """Sum of the components."""
        return float(total_mm2(self.components))


def area(hw: HardwareConfig) -> AreaBreakdown:
    """Area of ``hw`` in mm² at 45 nm, per component (see :mod:`~tvm_codesign.technology` for the models and
    sources)."""
    comp = area_components(
        hw.num_pes,
        {op: rf_um2(hw.rf_words(op), op, hw.system) for op in OPERANDS},
        {b.name: buffer_um2(b.capacity, b.bandwidth) for b in hw.buffers},
        hw.system,
    )
    return AreaBreakdown({k: float(v) for k, v in comp.items()})
