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
[C7]   CACTI 7.0 (N. Muralimanohar, R. Balasubramonian, N. Jouppi, HP Labs; Balasubramonian et al., ACM TACO 2017),
       run at 45 nm through the sources shipped in the PyPI package hwcomponents-cacti 1.0.40 (Accelergy's CACTI
       plug-in); the runs are listed below and in docs/hardware.md.
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
#: Write energy over read energy. The [C7] runs below give write/read between 0.8 and 1.3 for 64-bit ports from
#: 8 kB to 1 MB, with no consistent sign; within this table's accuracy writes cost the same as reads.
WRITE_OVER_READ: float = 1.0

# DRAM [H14]: 1.3-2.6 nJ per 64-bit access (DDR3). The low end is the default system parameter.
DRAM_PJ_PER_64BIT: tuple[float, float] = (1300.0, 2600.0)  # [H14]
DEFAULT_DRAM_PJ_PER_BIT: float = DRAM_PJ_PER_64BIT[0] / 64.0  # 20.3 pJ/bit

# ---------------------------------------------------------------------------------------------------------------
# Area.
SRAM_CELL_UM2: float = 0.346  # [M07] 45 nm 6T SRAM bit cell (cross-check of the fitted per-bit area below)
FLOP_UM2: float = 4.522  # [N45] DFF_X1
#: A register-file bit = one flop plus its share of the read mux tree and write enables; assumption: +50 %.
RF_BIT_OVERHEAD: float = 1.5
#: SRAM macro area model ``SRAM_UM2_PER_BIT * bits + banks * SRAM_UM2_PER_BANK + SRAM_UM2_WIRING *
#: sqrt(bits * banks)``: bit cells, per-bank periphery (decoders, sense amps, drivers), and the wiring that reaches
#: every bank. Least-squares fit (in log space) to the [C7] runs in :data:`CACTI_45NM_AREA_MM2`; every point is
#: within 1.35x of CACTI, the worst being the smallest macros (256 B-1 kB), which the model over-estimates.
SRAM_UM2_PER_BIT: float = 0.385
SRAM_UM2_PER_BANK: float = 548.0
SRAM_UM2_WIRING: float = 12.0
#: Native port width of one SRAM bank, bits (the width CACTI was run with). A buffer that must deliver more bytes
#: per cycle is built from more banks, each with its own periphery: that is how bandwidth costs area.
SRAM_PORT_BITS: int = 64
#: [C7] CACTI 7.0 (as shipped in hwcomponents-cacti 1.0.40, rebuilt from source), 45 nm, "ram" type, one
#: read/write port of 64 bits per bank, itrs-lstp cells and periphery, hwcomponents-cacti's default design
#: objective: (capacity bytes, banks) -> area mm². Used to fit the model above and checked in the tests.
CACTI_45NM_AREA_MM2: dict[tuple[int, int], float] = {
    (1024, 1): 0.00360, (2048, 1): 0.00754, (4096, 1): 0.01350, (8192, 1): 0.02627, (16384, 1): 0.05074,
    (32768, 1): 0.09486, (65536, 1): 0.20905, (131072, 1): 0.42959, (262144, 1): 0.87209, (1048576, 1): 3.26283,
    (8192, 4): 0.03952, (8192, 16): 0.04980, (8192, 32): 0.06390, (32768, 4): 0.12214, (32768, 16): 0.14830,
    (32768, 32): 0.14400, (131072, 4): 0.41175, (131072, 16): 0.47100, (131072, 32): 0.53080, (262144, 4): 0.88797,
    (262144, 16): 0.86390, (262144, 32): 0.99470,
}
#: [C7] the same runs' read energy of one 64-bit word, pJ: a cross-check of the [H14] points (8 kB 6.1 vs 10,
#: 32 kB 17.0 vs 20, 1 MB 93.5 vs 100). Write/read energy ratio in these runs: 0.8-1.3.
CACTI_45NM_READ64_PJ: dict[int, float] = {
    512: 1.414, 1024: 1.670, 2048: 2.756, 4096: 3.386, 8192: 6.137, 16384: 11.610, 32768: 17.042,
    65536: 25.869, 131072: 32.286, 262144: 44.716, 1048576: 93.519,
}
#: [C7] read energy of one 16-bit word from a 16-bit-wide array, pJ: the register-file sizes, a cross-check of the
#: [E16] anchor (0.5 kB: CACTI 0.72 pJ vs 1x a 16-bit MAC = 0.89 pJ).
CACTI_45NM_READ16_PJ: dict[int, float] = {256: 0.545, 512: 0.720, 1024: 1.155}

#: Per-PE pipeline registers: each PE latches its two operands and its accumulator (one flop per bit, [N45]).
PE_PIPELINE_REGS: bool = True

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


def sram_area_um2(capacity_bytes: float, bandwidth_bytes_per_cycle: float = 8.0) -> float:
    """Area of an SRAM buffer (µm²), fitted to CACTI [C7]; grows with capacity and with bandwidth (banks).

    ``0.385 * bits + banks * 548 + 12 * sqrt(bits * banks)`` with ``banks = ceil(8 * bandwidth / 64)``.
    """
    bits = capacity_bytes * 8.0
    banks = sram_banks(bandwidth_bytes_per_cycle)
    return bits * SRAM_UM2_PER_BIT + banks * SRAM_UM2_PER_BANK + SRAM_UM2_WIRING * math.sqrt(bits * banks)


def rf_area_um2(words: int, word_bits: int) -> float:
    """Area of one per-PE register file (µm²): flops [N45] with read/write overhead, or an SRAM macro when smaller.

    Small spads are flop arrays, larger ones SRAM (Eyeriss built its 224-word filter spad as SRAM and its 12- and
    24-word spads from registers [E17]), so the cheaper of the two is taken. The SRAM is one word wide.
    """
    if words <= 0:
        return 0.0
    bits = words * word_bits
    flops = bits * FLOP_UM2 * RF_BIT_OVERHEAD
    sram = sram_area_um2(bits / 8.0, word_bits / 8.0)
    return min(flops, sram)


def pe_regs_area_um2(word_bits: int, acc_bits: int = 32) -> float:
    """Pipeline registers of one PE (µm²): two operand words and one accumulator word of flops [N45]."""
    return (2 * word_bits + acc_bits) * FLOP_UM2 if PE_PIPELINE_REGS else 0.0


def noc_area_um2(num_pes: int, word_bits: int, acc_bits: int = 32) -> float:
    """Area of the PE-array network (µm²): :data:`NOC_AREA_OVER_MAC` of the MAC area per PE (assumption)."""
    return num_pes * NOC_AREA_OVER_MAC * mac_area_um2(word_bits, acc_bits)


# ---------------------------------------------------------------------------------------------------------------
def cacti_sram(
    package_dir: str, capacity_bytes: int, banks: int = 1, port_bits: int = 64, tech_um: float = 0.045
) -> tuple[float, float, float]:
    """Run CACTI for one SRAM and return ``(read pJ, write pJ, area mm²)``: how the [C7] tables were made.

    Maintenance helper, not used by the model. ``package_dir`` is an unpacked ``hwcomponents_cacti`` package
    directory (the PyPI wheel) whose ``cacti/cacti`` binary runs on this machine (rebuild it with ``make`` in
    ``cacti/`` if the bundled one does not); its ``default_cfg.cfg`` supplies the settings not given here.
    """
    import csv
    import os
    import subprocess
    import tempfile

    cacti_dir = os.path.join(package_dir, "cacti")
    with open(os.path.join(package_dir, "default_cfg.cfg"), encoding="utf-8") as f:
        cfg = f.read()
    block = port_bits // 8
    cfg += (
        f"\n-size (bytes) {capacity_bytes}\n-read-write port  1\n-block size (bytes) {block}\n"
        f"-technology (u) {tech_um}\n-output/input bus width  {port_bits}\n-UCA bank {banks}\n"
        '-cache type "ram"\n-tag size (b) 0\n-associativity 1\n'
    )
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = os.path.join(tmp, "sram.cfg")
        with open(cfg_path, "w", encoding="utf-8") as f:
            f.write(cfg)
        subprocess.run(
            ["./cacti", "-infile", cfg_path], cwd=cacti_dir, check=True, capture_output=True, timeout=600
        )
        with open(cfg_path + ".out", encoding="utf-8") as f:
            row = list(csv.DictReader(f))[-1]
    return (
        float(row[" Dynamic read energy (nJ)"]) * 1e3,
        float(row[" Dynamic write energy (nJ)"]) * 1e3,
        float(row[" Area (mm2)"]),
    )
