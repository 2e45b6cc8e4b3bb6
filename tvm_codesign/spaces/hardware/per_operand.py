"""The ``per_operand`` template: one optional buffer per operand with its own bandwidth, RFs, and a free array.

It holds the VTA preset, Eyeriss-like weight bypass (``wgt_kib`` 0), and everything between. Genome (11 genes)::

    0 pe_rows, 1 pe_cols                      as eyeriss
    2 inp_kib, 3 wgt_kib, 4 acc_kib           0 (absent: the operand bypasses) and 1..1024 KiB, <= 5 significant bits
    5 inp_bandwidth, 6 wgt_bandwidth,         8..512 B/cycle, powers of two; a dead gene (must be 0) when its
      7 acc_bandwidth                         buffer is absent, so each config has one genome
    8 rf_input_words, 9 rf_weight_words,      as eyeriss
      10 rf_output_words

The structural constraint: a dead bandwidth gene is 0.
"""

from __future__ import annotations

import enum

import numpy as np

from tvm_codesign.cost import physical
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import Buffer, HardwareConfig
from tvm_codesign.model.vta import VTA_BUFFERS
from tvm_codesign.spaces.hardware.base import FreeArraySpace
from tvm_codesign.spaces.hardware.knobs import KIB, PE_SPECS, RF_SPECS, KnobSpec


class Gene(enum.IntEnum):
    """Gene indices of the ``per_operand`` template."""

    PE_ROWS = 0
    PE_COLS = 1
    INP_KIB = 2
    WGT_KIB = 3
    ACC_KIB = 4
    INP_BANDWIDTH = 5
    WGT_BANDWIDTH = 6
    ACC_BANDWIDTH = 7
    RF_INPUT_WORDS = 8
    RF_WEIGHT_WORDS = 9
    RF_OUTPUT_WORDS = 10


#: (operand, buffer name as in the vta preset, size gene, bandwidth gene).
BUFFERS: tuple[tuple[str, str, int, int], ...] = tuple(
    (op, name, size, bw)
    for (op, name, _), size, bw in zip(
        VTA_BUFFERS,
        (Gene.INP_KIB, Gene.WGT_KIB, Gene.ACC_KIB),
        (Gene.INP_BANDWIDTH, Gene.WGT_BANDWIDTH, Gene.ACC_BANDWIDTH),
    )
)
_BANDWIDTH_GENES = np.array([bw for _, _, _, bw in BUFFERS])

SPECS: tuple[KnobSpec, ...] = (
    *PE_SPECS,
    KnobSpec("inp_kib", "sig5", (0, 1024), "KiB", zero_ok=True, why="0 = inputs bypass; VTA 32 KiB"),
    KnobSpec("wgt_kib", "sig5", (0, 1024), "KiB", zero_ok=True, why="0 = weights bypass (Eyeriss); VTA 256 KiB"),
    KnobSpec("acc_kib", "sig5", (0, 1024), "KiB", zero_ok=True, why="0 = partial sums bypass; VTA 128 KiB"),
    # VTA's weight buffer at int16 delivers 16 x 16 x 2 = 512 B/cycle: one octave beyond the CACTI fit's 32 banks.
    KnobSpec("inp_bandwidth", "pow2", (8, 512), "B/cycle", why="VTA int8 16, int16 32"),
    KnobSpec("wgt_bandwidth", "pow2", (8, 512), "B/cycle", why="VTA int8 256, int16 512"),
    KnobSpec("acc_bandwidth", "pow2", (8, 512), "B/cycle", why="VTA 128 (one 16 x 32-bit read + write)"),
    *RF_SPECS,
)


class PerOperandSpace(FreeArraySpace, template="per_operand"):
    """The ``per_operand`` template (see the module docstring); build it as ``HardwareSpace("per_operand", ...)``."""

    SPECS = SPECS
    Gene = Gene

    def _build_buffer_tables(self) -> None:
        v = self._values
        self._buf_um2 = {  # (size, bandwidth) -> µm²; size 0 = no buffer = no area
            op: np.array([[physical.buffer_um2(int(c) * KIB, float(b)) for b in v[bw]] for c in v[size]])
            for op, _, size, bw in BUFFERS
        }

    def _buffer_area_um2(self, g: np.ndarray) -> dict[str, np.ndarray]:
        return {name: self._buf_um2[op][g[:, size], g[:, bw]] for op, name, size, bw in BUFFERS}

    def _structural_ok(self, g: np.ndarray) -> np.ndarray:
        """A buffer of size 0 has its bandwidth gene at 0 (the gene is dead then: one genome per config)."""
        ok = np.ones(len(g), dtype=bool)
        for _, _, size, bw in BUFFERS:
            ok &= (self._values[size][g[:, size]] > 0) | (g[:, bw] == 0)
        return ok

    def _constructive_order(self, order: np.ndarray) -> np.ndarray:
        # Sizes before bandwidths, so that a bandwidth is not pinned to 0 only because its buffer had not been
        # sized yet.
        late = np.isin(order, _BANDWIDTH_GENES)
        return np.concatenate([order[~late], order[late]])

    def _buffers(self, v: dict[str, int]) -> tuple[Buffer, ...]:
        return tuple(
            Buffer(name, v[self.knobs[size].name] * KIB, (op,), float(v[self.knobs[bw].name]))
            for op, name, size, bw in BUFFERS
            if v[self.knobs[size].name]
        )

    def _buffer_values_of(self, hw: HardwareConfig, why: str) -> list[int]:
        sizes, bws = [], []
        for op, name, _, bw in BUFFERS:
            b = hw.buffer_for(op)
            if b is None:
                sizes.append(0)
                bws.append(self.knobs[bw].values[0])  # dead gene: canonical index 0
                continue
            if b.operands != (op,) or b.name != name:
                raise CodesignError(f"{why} the template has one buffer per operand, named input/weight/accumulator")
            if b.capacity % KIB or not float(b.bandwidth).is_integer():
                raise CodesignError(f"{why} buffer size {b.capacity} B or bandwidth {b.bandwidth:g} is off the grid")
            sizes.append(b.capacity // KIB)
            bws.append(int(b.bandwidth))
        return [*sizes, *bws]
