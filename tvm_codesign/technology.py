"""45 nm-class technology table: energy per access and area of storage, MACs, on-chip network and DRAM.

Every published constant carries its source in a comment. Where the model interpolates or extrapolates between
published points, the docstring says how. Units: pJ, µm² (converted to mm² by :mod:`hardware`), bytes, bits.

Sources
-------
[H14]  M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, Fig. 1.1.9
       (45 nm, 0.9 V energy and area per operation; SRAM cache read energies; DRAM energy).
[E16]  Y.-H. Chen, J. Emer, V. Sze, "Eyeriss: A spatial architecture for energy-efficient dataflow for
       convolutional neural networks", ISCA 2016, Fig. 1 / Table IV: normalised energy per access relative to a
       MAC: RF (0.5 kB) 1x, NoC (200-1000 PEs) 2x, global buffer (100-500 kB) 6x, DRAM 200x.
[E17]  Y.-H. Chen, T. Krishna, J. Emer, V. Sze, "Eyeriss: An energy-efficient reconfigurable accelerator for
       deep convolutional neural networks", IEEE JSSC 52(1), 2017 (65 nm; 12x14 PEs; 108 kB GLB; spads).
[M07]  K. Mistry et al., "A 45nm logic technology with high-k + metal gate transistors, strained silicon, 9 Cu
       interconnect layers, 193nm dry patterning, and 100% Pb-free packaging", IEDM 2007 (6T SRAM cell 0.346 µm²).
[N45]  NanGate FreePDK45 Open Cell Library (DFF_X1 flip-flop 4.522 µm²).
[C65]  CACTI 6.5 / Accelergy's CACTI plug-in: SRAM array efficiency (cell area / macro area) of roughly 0.5-0.8 for
       8-512 kB single-bank macros with 64-bit ports, lower for small or heavily banked macros.
"""

from __future__ import annotations

import math

import numpy as np

#: The node these numbers describe.
TECH_NODE_NM: int = 45

# ---------------------------------------------------------------------------------------------------------------
# Arithmetic [H14]: 45 nm, 0.9 V.
INT_ADD_PJ: dict[int, float] = {8: 0.03, 32: 0.1}  # [H14] 8-bit add 0.03 pJ, 32-bit add 0.1 pJ
INT_MULT_PJ: dict[int, float] = {8: 0.2, 32: 3.1}  # [H14] 8-bit mult 0.2 pJ, 32-bit mult 3.1 pJ
INT_ADD_UM2: dict[int, float] = {8: 36.0, 32: 137.0}  # [H14] 8-bit add 36 µm², 32-bit add 137 µm²
INT_MULT_UM2: dict[int, float] = {8: 282.0, 32: 3495.0}  # [H14] 8-bit mult 282 µm², 32-bit mult 3495 µm²

# ---------------------------------------------------------------------------------------------------------------
# Storage energy [H14]: read energy of one 64-bit word from an SRAM cache of the given capacity.
SRAM_64BIT_READ_PJ: tuple[tuple[int, float], ...] = (
    (8 * 1024, 10.0),  # [H14] 8 kB SRAM, 64-bit read: 10 pJ
    (32 * 1024, 20.0),  # [H14] 32 kB SRAM, 64-bit read: 20 pJ
    (1024 * 1024, 100.0),  # [H14] 1 MB SRAM, 64-bit read: 100 pJ
)
#: [E16] a 0.5 kB register file costs 1x a (16-bit) MAC per access; anchors the small end of the storage curve.
EYERISS_RF_BYTES: int = 512
EYERISS_RF_OVER_MAC: float = 1.0  # [E16] RF 1x
EYERISS_NOC_OVER_MAC: float = 2.0  # [E16] NoC 2x (one inter-PE / array-bus transfer)
EYERISS_GB_OVER_MAC: float = 6.0  # [E16] global buffer 6x (cross-check only, see docs/hardware.md)
EYERISS_DRAM_OVER_MAC: float = 200.0  # [E16] DRAM 200x (cross-check only)
#: Write energy over read energy. CACTI reports SRAM write and read energies within ~20 % of each other for these
#: sizes [C65]; the difference is below the accuracy of this table, so writes cost the same as reads.
WRITE_OVER_READ: float = 1.0

# DRAM [H14]: 1.3-2.6 nJ per 64-bit access (DDR3). The low end is the default system parameter.
DRAM_PJ_PER_64BIT: tuple[float, float] = (1300.0, 2600.0)  # [H14]
DEFAULT_DRAM_PJ_PER_BIT: float = DRAM_PJ_PER_64BIT[0] / 64.0  # 20.3 pJ/bit

# ---------------------------------------------------------------------------------------------------------------
# Area.
SRAM_CELL_UM2: float = 0.346  # [M07] 45 nm 6T SRAM bit cell
FLOP_UM2: float = 4.522  # [N45] DFF_X1; a register-file bit = one flop plus its share of read mux / write enable
RF_BIT_OVERHEAD: float = 1.5  # assumption: read mux tree and write decode add ~50 % to the flop (typical std-cell RF)
#: SRAM macro periphery (decoders, sense amps, drivers, I/O) per 64-bit-port bank, modelled as
#: ``PERIPH_FIXED_UM2 + PERIPH_EDGE_UM2 * sqrt(bank_bits)``: the row decoder and column circuitry grow with the
#: array edge. The two constants are chosen so that the array efficiency is ~0.5 at 8 kB and ~0.75 at 64 kB, in the
#: range CACTI 6.5 reports for single-bank 45 nm macros [C65].
PERIPH_FIXED_UM2: float = 2000.0
PERIPH_EDGE_UM2: float = 80.0
#: Native port width of one SRAM bank, bits. A buffer that must deliver more bytes per cycle is built from more
#: banks (each with its own periphery), which is how bandwidth costs area.
SRAM_PORT_BITS: int = 64

#: NoC wiring and routers per PE, as a fraction of that PE's MAC area. Assumption (no published 45 nm figure): the
#: Eyeriss NoC is a set of buses with multicast controllers whose area is small next to the PEs [E17].
NOC_AREA_OVER_MAC: float = 0.1


def _loglog(x: float, pts: tuple[tuple[float, float], ...]) -> float:
    """Piecewise power law through ``pts`` (sorted by x), extrapolated with the end segments' exponents."""
    xs = np.log([p[0] for p in pts])
    ys = np.log([p[1] for p in pts])
    lx = math.log(x)
    i = int(np.clip(np.searchsorted(xs, lx) - 1, 0, len(xs) - 2))
    slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
    return float(math.exp(ys[i] + slope * (lx - xs[i])))


def _pow_interp(bits: int, table: dict[int, float]) -> float:
    """Power law in word width through the 8- and 32-bit points of a [H14] table (exact at 8 and 32 bits)."""
    if bits in table:
        return table[bits]
    (b0, v0), (b1, v1) = sorted(table.items())
    return v0 * (bits / b0) ** (math.log(v1 / v0) / math.log(b1 / b0))


# ---------------------------------------------------------------------------------------------------------------
def mult_energy_pj(bits: int) -> float:
    """Energy of one ``bits`` x ``bits`` integer multiply: [H14] at 8 and 32 bits, power law between (16 bits: 0.79)."""
    return _pow_interp(bits, INT_MULT_PJ)


def add_energy_pj(bits: int) -> float:
    """Energy of one ``bits``-wide integer add: [H14] at 8 and 32 bits, power law between."""
    return _pow_interp(bits, INT_ADD_PJ)


def mac_energy_pj(word_bits: int, acc_bits: int = 32) -> float:
    """One MAC: a ``word_bits`` multiply plus an ``acc_bits`` accumulate (int8: 0.30 pJ, int16: 0.89 pJ)."""
    return mult_energy_pj(word_bits) + add_energy_pj(acc_bits)


def mac_area_um2(word_bits: int, acc_bits: int = 32) -> float:
    """Area of one MAC unit: multiplier plus accumulator adder, [H14] (int8: 419 µm², int16: ~1130 µm²)."""
    return _pow_interp(word_bits, INT_MULT_UM2) + _pow_interp(acc_bits, INT_ADD_UM2)


def _storage_points() -> tuple[tuple[float, float], ...]:
    """(capacity bytes, pJ per bit read): the [E16] RF anchor, then the [H14] SRAM points."""
    rf_pj_per_bit = EYERISS_RF_OVER_MAC * mac_energy_pj(16, 32) / 16.0  # Eyeriss's MAC is 16-bit
    return ((EYERISS_RF_BYTES, rf_pj_per_bit),) + tuple((c, e / 64.0) for c, e in SRAM_64BIT_READ_PJ)


def storage_pj_per_bit(capacity_bytes: float) -> float:
    """Read energy per bit of an on-chip storage array of ``capacity_bytes``.

    A piecewise power law through the [E16] register-file point (0.5 kB at 1x a 16-bit MAC) and the [H14] SRAM
    points (8 kB, 32 kB, 1 MB), extrapolated beyond them with the end segments' exponents (0.37 below 8 kB, 0.46
    above 32 kB). Energy per access therefore grows with capacity (longer bit lines and word lines).
    """
    if capacity_bytes <= 0:
        raise ValueError(f"capacity must be positive, got {capacity_bytes}")
    return _loglog(float(capacity_bytes), _storage_points())


def sram_read_pj(capacity_bytes: float, word_bits: int) -> float:
    """Energy of reading one ``word_bits`` word from an SRAM buffer of ``capacity_bytes`` (pJ)."""
    return storage_pj_per_bit(capacity_bytes) * word_bits


def sram_write_pj(capacity_bytes: float, word_bits: int) -> float:
    """Energy of writing one ``word_bits`` word into an SRAM buffer of ``capacity_bytes`` (pJ)."""
    return WRITE_OVER_READ * sram_read_pj(capacity_bytes, word_bits)


def rf_read_pj(words: int, word_bits: int) -> float:
    """Energy of reading one word from a per-PE register file of ``words`` words (pJ); 0 when there is none."""
    if words <= 0:
        return 0.0
    return storage_pj_per_bit(words * word_bits / 8.0) * word_bits


def rf_write_pj(words: int, word_bits: int) -> float:
    """Energy of writing one word into a per-PE register file (pJ); 0 when there is none."""
    return WRITE_OVER_READ * rf_read_pj(words, word_bits)


def noc_pj_per_bit() -> float:
    """Energy to move one bit to one PE over the array network: [E16] NoC = 2x a 16-bit MAC per 16-bit word."""
    return EYERISS_NOC_OVER_MAC * mac_energy_pj(16, 32) / 16.0


def dram_pj(word_bits: int, pj_per_bit: float) -> float:
    """Energy of one DRAM word access (read or write) at ``pj_per_bit``."""
    return pj_per_bit * word_bits


# ---------------------------------------------------------------------------------------------------------------
def sram_banks(bandwidth_bytes_per_cycle: float) -> int:
    """Banks (each a :data:`SRAM_PORT_BITS` port) needed to deliver ``bandwidth_bytes_per_cycle``."""
    return max(1, math.ceil(bandwidth_bytes_per_cycle * 8.0 / SRAM_PORT_BITS - 1e-9))


def sram_area_um2(capacity_bytes: float, bandwidth_bytes_per_cycle: float) -> float:
    """Area of an SRAM buffer: bit cells [M07] plus per-bank periphery; more bandwidth means more banks.

    ``cells = bits * 0.346 µm²``; the capacity is split over ``banks = ceil(8 * bandwidth / 64)`` banks and each
    adds ``PERIPH_FIXED_UM2 + PERIPH_EDGE_UM2 * sqrt(bank_bits)``. Area grows with capacity and with bandwidth.
    """
    bits = capacity_bytes * 8.0
    banks = sram_banks(bandwidth_bytes_per_cycle)
    periphery = banks * (PERIPH_FIXED_UM2 + PERIPH_EDGE_UM2 * math.sqrt(bits / banks))
    return bits * SRAM_CELL_UM2 + periphery


def sram_array_efficiency(capacity_bytes: float, bandwidth_bytes_per_cycle: float = 8.0) -> float:
    """Cell area / macro area of :func:`sram_area_um2` (for checking against CACTI's typical 0.5-0.8)."""
    return capacity_bytes * 8.0 * SRAM_CELL_UM2 / sram_area_um2(capacity_bytes, bandwidth_bytes_per_cycle)


def rf_area_um2(words: int, word_bits: int) -> float:
    """Area of one per-PE register file: flops [N45] with read/write overhead, or an SRAM macro when smaller.

    Small spads are flop arrays; larger ones are SRAM (Eyeriss built its 224-word weight spad as SRAM and the
    12- and 24-word spads as registers [E17]), so the cheaper of the two is taken.
    """
    if words <= 0:
        return 0.0
    bits = words * word_bits
    flops = bits * FLOP_UM2 * RF_BIT_OVERHEAD
    sram = sram_area_um2(bits / 8.0, word_bits / 8.0)
    return min(flops, sram)


def noc_area_um2(num_pes: int, word_bits: int, acc_bits: int = 32) -> float:
    """Area of the PE-array network: :data:`NOC_AREA_OVER_MAC` of the MAC area per PE (assumption, see above)."""
    return num_pes * NOC_AREA_OVER_MAC * mac_area_um2(word_bits, acc_bits)
