"""The ``eyeriss`` template: one global buffer holding inputs and partial sums, weights bypassing it, and RFs.

The organisation of Eyeriss in Timeloop's published example. Genome (7 genes)::

    0 pe_rows          2..32, step 1
    1 pe_cols          2..32, step 1
    2 gb_kib           4..1024 KiB, whole KiB with at most 5 significant bits (16 steps per octave; 108 is one)
    3 gb_bandwidth     8..256 B/cycle, powers of two (1..32 banks of 64 bits: the range the area fit covers)
    4 rf_input_words   0 (none) and 1..512 words with at most 3 significant bits (4 steps per octave; 12 is one)
    5 rf_weight_words  same grid (224 is one)
    6 rf_output_words  same grid (24 is one; acc_bits words)

No structural constraint beyond the area budget.
"""

from __future__ import annotations

import enum

import numpy as np

from tvm_codesign.cost import physical
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import Buffer, HardwareConfig
from tvm_codesign.spaces.hardware.base import FreeArraySpace
from tvm_codesign.spaces.hardware.knobs import KIB, PE_SPECS, RF_SPECS, KnobSpec


class Gene(enum.IntEnum):
    """Gene indices of the ``eyeriss`` template."""

    PE_ROWS = 0
    PE_COLS = 1
    GB_KIB = 2
    GB_BANDWIDTH = 3
    RF_INPUT_WORDS = 4
    RF_WEIGHT_WORDS = 5
    RF_OUTPUT_WORDS = 6


SPECS: tuple[KnobSpec, ...] = (
    *PE_SPECS,
    KnobSpec("gb_kib", "sig5", (4, 1024), "KiB", why="Eyeriss 108 KiB; 1 MiB is the largest CACTI point of the fit"),
    KnobSpec("gb_bandwidth", "pow2", (8, 256), "B/cycle", why="1..32 banks of 64 b, the banks of the CACTI fit"),
    *RF_SPECS,
)


class EyerissSpace(FreeArraySpace, template="eyeriss"):
    """The ``eyeriss`` template (see the module docstring); build it as ``HardwareSpace("eyeriss", ...)``."""

    SPECS = SPECS
    Gene = Gene

    def _build_buffer_tables(self) -> None:
        v = self._values
        self._gb_um2 = np.array(  # (size, bandwidth) -> µm²
            [[physical.buffer_um2(int(c) * KIB, float(b)) for b in v[Gene.GB_BANDWIDTH]] for c in v[Gene.GB_KIB]]
        )

    def _buffer_area_um2(self, g: np.ndarray) -> dict[str, np.ndarray]:
        return {"global": self._gb_um2[g[:, Gene.GB_KIB], g[:, Gene.GB_BANDWIDTH]]}

    def _buffers(self, v: dict[str, int]) -> tuple[Buffer, ...]:
        return (Buffer("global", v["gb_kib"] * KIB, ("I", "O"), float(v["gb_bandwidth"])),)

    def _buffer_values_of(self, hw: HardwareConfig, why: str) -> list[int]:
        b = hw.buffer_for("I")
        if len(hw.buffers) != 1 or b is None or b.operands != ("I", "O") or b.name != "global":
            raise CodesignError(f"{why} the template has one buffer 'global' holding I and O (W bypasses it)")
        if b.capacity % KIB or not float(b.bandwidth).is_integer():
            raise CodesignError(f"{why} buffer size {b.capacity} B or bandwidth {b.bandwidth:g} is off the grid")
        return [b.capacity // KIB, int(b.bandwidth)]
