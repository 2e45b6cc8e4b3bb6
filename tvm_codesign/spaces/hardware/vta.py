"""The ``vta`` template: one buffer per operand, no register files, exactly the configs a ``vta_config.json`` holds.

Genome (4 genes)::

    0 block            2..64, powers of two: pe_rows = pe_cols = BLOCK (LOG_BLOCK 1..6)
    1 inp_kib          1..2048 KiB, powers of two (LOG_INP_BUFF_SIZE 10..21)
    2 wgt_kib          same (LOG_WGT_BUFF_SIZE)
    3 acc_kib          same (LOG_ACC_BUFF_SIZE)

VTA's sizes and BLOCK are powers of two because its configuration stores their base-2 logarithms
(apache/tvm-vta ``config/vta_config.json``: ``LOG_BLOCK``, ``LOG_*_BUFF_SIZE``) and its hardware derives index
widths from them; each buffer delivers one entry per cycle (:func:`tvm_codesign.model.vta.bandwidths`), so
bandwidth is not a knob (:func:`tvm_codesign.model.vta.to_vta_config` refuses anything else), and each buffer must
hold at least one entry (:func:`tvm_codesign.model.vta.entry_bytes`): the structural constraint.
"""

from __future__ import annotations

import enum
from typing import Sequence

import numpy as np

from tvm_codesign.cost import physical
from tvm_codesign.errors import CodesignError
from tvm_codesign.model import vta
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.spaces.hardware.base import HardwareSpace
from tvm_codesign.spaces.hardware.knobs import KIB, KnobSpec


class Gene(enum.IntEnum):
    """Gene indices of the ``vta`` template."""

    BLOCK = 0
    INP_KIB = 1
    WGT_KIB = 2
    ACC_KIB = 3


#: VTA's buffers in VTA's order: (operand, buffer name, ``vta_config.json`` size key, size gene).
BUFFERS: tuple[tuple[str, str, str, int], ...] = tuple(
    (op, name, key, gene) for (op, name, key), gene in zip(vta.VTA_BUFFERS, (Gene.INP_KIB, Gene.WGT_KIB, Gene.ACC_KIB))
)

SPECS: tuple[KnobSpec, ...] = (
    KnobSpec("block", "pow2", (2, 64), "PEs per side", pow2_required=True, why="LOG_BLOCK; default 16"),
    KnobSpec("inp_kib", "pow2", (1, 2048), "KiB", pow2_required=True, why="LOG_INP_BUFF_SIZE; default 32 KiB"),
    KnobSpec("wgt_kib", "pow2", (1, 2048), "KiB", pow2_required=True, why="LOG_WGT_BUFF_SIZE; default 256 KiB"),
    KnobSpec("acc_kib", "pow2", (1, 2048), "KiB", pow2_required=True, why="LOG_ACC_BUFF_SIZE; default 128 KiB"),
)


class VtaSpace(HardwareSpace, template="vta"):
    """The ``vta`` template (see the module docstring); build it as ``HardwareSpace("vta", ...)``."""

    SPECS = SPECS
    Gene = Gene

    def _build_area_tables(self) -> None:
        s, v = self.system, self._values
        blocks = v[Gene.BLOCK]
        bw = vta.bandwidths(blocks, s.word_bits, s.acc_bits)  # per block: VTA's fixed bandwidths
        self._entry = vta.entry_bytes(blocks, s.word_bits, s.acc_bits)
        self._buf_um2 = {  # (block, size) -> µm²
            op: np.array([[physical.buffer_um2(int(c) * KIB, float(b)) for c in v[gene]] for b in bw[op]])
            for op, _, _, gene in BUFFERS
        }

    def _area_components(self, g: np.ndarray) -> dict[str, np.ndarray]:
        block = self._values[Gene.BLOCK][g[:, Gene.BLOCK]]
        return physical.area_components(
            block**2,
            {op: physical.rf_um2(0, op, self.system) for op in "IWO"},
            {name: self._buf_um2[op][g[:, Gene.BLOCK], g[:, gene]] for op, name, _, gene in BUFFERS},
            self.system,
        )

    def _structural_ok(self, g: np.ndarray) -> np.ndarray:
        """Every buffer holds at least one entry."""
        ok = np.ones(len(g), dtype=bool)
        for op, _, _, gene in BUFFERS:
            ok &= self._values[gene][g[:, gene]] * KIB >= self._entry[op][g[:, Gene.BLOCK]]
        return ok

    def _config(self, genome: Sequence[int], name: str = "codesign") -> HardwareConfig:
        v = self.knob_values(genome)
        b = v["block"]
        bufs = vta.vta_buffers(b, self.system, v["inp_kib"] * KIB, v["wgt_kib"] * KIB, v["acc_kib"] * KIB)
        return HardwareConfig(name=name, pe_rows=b, pe_cols=b, buffers=bufs, system=self.system)

    def _knob_values_of(self, hw: HardwareConfig, why: str) -> list[int]:
        try:
            cfg = vta.to_vta_config(hw)
        except CodesignError as err:
            raise CodesignError(f"{why} {err}") from None
        sizes = [2 ** cfg[key] for _, _, key, _ in BUFFERS]
        if min(sizes) < KIB:
            raise CodesignError(f"{why} a buffer is smaller than 1 KiB")
        return [2 ** cfg["LOG_BLOCK"]] + [size // KIB for size in sizes]
