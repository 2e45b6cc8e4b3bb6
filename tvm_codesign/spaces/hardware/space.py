"""HardwareSpace: the accelerator knobs the outer co-design search moves, as integer genomes within an area budget.

A template fixes the on-chip organisation; its knobs are what the outer search moves. Gene ``i`` of a genome is an
index into knob ``i``'s ascending grid of values, so genes are plain bounded integers (``gene_bounds``) and every
strategy in :mod:`tvm_codesign.search` can walk them.

``"eyeriss"`` (genome_size 7): one global buffer holding inputs and partial sums, weights bypassing it (Eyeriss,
Timeloop's example)::

    0 pe_rows          2..32, step 1
    1 pe_cols          2..32, step 1
    2 gb_kib           4..1024 KiB, whole KiB with at most 5 significant bits (16 steps per octave; 108 is one)
    3 gb_bandwidth     8..256 B/cycle, powers of two (1..32 banks of 64 bits: the range the area fit covers)
    4 rf_input_words   0 (none) and 1..512 words with at most 3 significant bits (4 steps per octave; 12 is one)
    5 rf_weight_words  same grid (224 is one)
    6 rf_output_words  same grid (24 is one; acc_bits words)

``"vta"`` (genome_size 4): one buffer per operand, no register files, and exactly the configs a
``vta_config.json`` can describe::

    0 block            2..64, powers of two: pe_rows = pe_cols = BLOCK (LOG_BLOCK 1..6)
    1 inp_kib          1..2048 KiB, powers of two (LOG_INP_BUFF_SIZE 10..21)
    2 wgt_kib          same (LOG_WGT_BUFF_SIZE)
    3 acc_kib          same (LOG_ACC_BUFF_SIZE)

``"per_operand"`` (genome_size 11): one buffer per operand, each optional, with its own bandwidth, plus RFs and a
free (non-square) array; it holds the VTA preset, Eyeriss-like weight bypass (``wgt_kib`` 0), and everything
between::

    0 pe_rows, 1 pe_cols                      as eyeriss
    2 inp_kib, 3 wgt_kib, 4 acc_kib           0 (absent: the operand bypasses) and 1..1024 KiB, <= 5 significant bits
    5 inp_bandwidth, 6 wgt_bandwidth,         8..512 B/cycle, powers of two; a dead gene (must be 0) when its
      7 acc_bandwidth                         buffer is absent, so each config has one genome
    8 rf_input_words, 9 rf_weight_words,      as eyeriss
      10 rf_output_words

VTA's sizes and BLOCK are powers of two because its configuration stores their base-2 logarithms
(apache/tvm-vta ``config/vta_config.json``: ``LOG_BLOCK``, ``LOG_*_BUFF_SIZE``) and its hardware derives index
widths from them; each buffer delivers one entry per cycle (Moreau et al., IEEE Micro 2019), so bandwidth is
not a separate VTA knob (:func:`tvm_codesign.model.hardware.to_vta_config` refuses anything else), and each buffer must
hold at least one entry.

The organisation is the template argument rather than a categorical gene: a "buffer size" gene would mean the
shared GB in one category and the input buffer in the other, and the other category's genes would be dead
(many genomes, one config), which misleads the surrogate. One run searches one template; compare templates by
running each at the same budget.

Known constraints: ``area(decode(g)).total_mm2 <= area_budget_mm2``; for ``vta``, one entry per buffer; for
``per_operand``, dead bandwidth genes at 0. Area never decreases when a gene grows, which the sampler's constructive fallback and
``min_area`` rely on. Precision, DRAM and clock come from ``system`` and are the same in every decoded config.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator, Sequence

import numpy as np

from tvm_codesign.cost import technology as tech
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import PRESETS, Buffer, HardwareConfig, SystemParams, _vta_buffers, area, preset, to_vta_config

KIB = 1024
#: Spaces with at most this many genomes keep their in-budget genomes and sample them exactly uniformly.
SMALL_SPACE = 200_000
#: size() counts exactly up to this many genomes, estimates above.
COUNT_LIMIT = 5_000_000
_UM2 = 1e-6  # µm² -> mm²
_EDGE = 1e-9  # relative: vectorised areas this close to the budget are re-checked with hardware.area


# ---------------------------------------------------------------------------------------------------------------
# Grids.


def _sig_bits(v: int) -> int:
    """Significant bits of ``v`` > 0: the length of its binary form without trailing zeros."""
    return (v >> ((v & -v).bit_length() - 1)).bit_length()


def _grid(rule: str, lo: int, hi: int) -> list[int]:
    """Values of ``rule`` in ``[lo, hi]``; 0 is included when ``lo == 0`` (0 = absent)."""
    out = [0] if lo == 0 else []
    start = max(lo, 1)
    if rule == "int":
        out += list(range(start, hi + 1))
    elif rule == "pow2":
        out += [v for v in (1 << e for e in range(0, max(hi, 1).bit_length() + 1)) if start <= v <= hi]
    elif rule.startswith("sig"):  # "sigN": at most N significant bits: 2**(N-1) steps per octave
        bits = int(rule[3:])
        out += [v for v in range(start, hi + 1) if _sig_bits(v) <= bits]
    else:  # pragma: no cover - a template bug
        raise ValueError(f"unknown grid rule {rule!r}")
    return out


@dataclasses.dataclass(frozen=True)
class Knob:
    """One gene: its name, unit and ascending grid of values (the gene is an index into ``values``)."""

    name: str
    values: tuple[int, ...]
    unit: str

    def __len__(self) -> int:
        return len(self.values)

    def index(self, value: int) -> int | None:
        """Index of ``value`` in the grid, ``None`` if off the grid."""
        try:
            return self.values.index(int(value))
        except ValueError:
            return None


@dataclasses.dataclass(frozen=True)
class _Spec:
    name: str
    rule: str
    default: tuple[int, int]
    unit: str
    zero_ok: bool = False  # 0 = absent is meaningful
    pow2_required: bool = False  # the template needs powers of two (VTA's log2 fields)
    why: str = ""


_EYERISS_SPECS = (
    _Spec("pe_rows", "int", (2, 32), "PEs", why="Eyeriss 12"),
    _Spec("pe_cols", "int", (2, 32), "PEs", why="Eyeriss 14"),
    _Spec("gb_kib", "sig5", (4, 1024), "KiB", why="Eyeriss 108 KiB; 1 MiB is the largest CACTI point of the fit"),
    _Spec("gb_bandwidth", "pow2", (8, 256), "B/cycle", why="1..32 banks of 64 b, the banks of the CACTI fit"),
    _Spec("rf_input_words", "sig3", (0, 512), "words", zero_ok=True, why="Eyeriss 12"),
    _Spec("rf_weight_words", "sig3", (0, 512), "words", zero_ok=True, why="Eyeriss 224"),
    _Spec("rf_output_words", "sig3", (0, 512), "words", zero_ok=True, why="Eyeriss 24"),
)
_VTA_SPECS = (
    _Spec("block", "pow2", (2, 64), "PEs per side", pow2_required=True, why="LOG_BLOCK; default 16"),
    _Spec("inp_kib", "pow2", (1, 2048), "KiB", pow2_required=True, why="LOG_INP_BUFF_SIZE; default 32 KiB"),
    _Spec("wgt_kib", "pow2", (1, 2048), "KiB", pow2_required=True, why="LOG_WGT_BUFF_SIZE; default 256 KiB"),
    _Spec("acc_kib", "pow2", (1, 2048), "KiB", pow2_required=True, why="LOG_ACC_BUFF_SIZE; default 128 KiB"),
)
_RF_SPECS = _EYERISS_SPECS[4:]
_PER_OPERAND_SPECS = (
    *_EYERISS_SPECS[:2],
    _Spec("inp_kib", "sig5", (0, 1024), "KiB", zero_ok=True, why="0 = inputs bypass; VTA 32 KiB"),
    _Spec("wgt_kib", "sig5", (0, 1024), "KiB", zero_ok=True, why="0 = weights bypass (Eyeriss); VTA 256 KiB"),
    _Spec("acc_kib", "sig5", (0, 1024), "KiB", zero_ok=True, why="0 = partial sums bypass; VTA 128 KiB"),
    # VTA's weight buffer at int16 delivers 16 x 16 x 2 = 512 B/cycle: one octave beyond the CACTI fit's 32 banks.
    _Spec("inp_bandwidth", "pow2", (8, 512), "B/cycle", why="VTA int8 16, int16 32"),
    _Spec("wgt_bandwidth", "pow2", (8, 512), "B/cycle", why="VTA int8 256, int16 512"),
    _Spec("acc_bandwidth", "pow2", (8, 512), "B/cycle", why="VTA 128 (one 16 x 32-bit read + write)"),
    *_RF_SPECS,
)
TEMPLATES: dict[str, tuple[_Spec, ...]] = {
    "eyeriss": _EYERISS_SPECS,
    "vta": _VTA_SPECS,
    "per_operand": _PER_OPERAND_SPECS,
}
#: per_operand: (operand, buffer name as in the vta preset, size gene, bandwidth gene).
_PER_OPERAND_BUFFERS = (("I", "input", 2, 5), ("W", "weight", 3, 6), ("O", "accumulator", 4, 7))


def _make_knob(spec: _Spec, override: Any, template: str) -> Knob:
    """The knob of ``spec``, narrowed by an override: ``(lo, hi)`` on the template's grid, or a list of values."""
    where = f"{template} knob {spec.name}"
    if override is None:
        values = _grid(spec.rule, *spec.default)
    elif isinstance(override, tuple) and len(override) == 2:
        lo, hi = override
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)) or lo > hi:
            raise CodesignError(f"{where}: bounds must be integers (lo, hi) with lo <= hi, got {override!r}")
        values = _grid(spec.rule, lo, hi)
    elif isinstance(override, (list, range, np.ndarray)):
        values = sorted({int(v) for v in override})
    else:
        raise CodesignError(f"{where}: override must be a (lo, hi) tuple or a list of values, got {override!r}")
    least = 0 if spec.zero_ok else 1
    bad = [v for v in values if v < least or (spec.pow2_required and v & (v - 1))]
    if bad:
        need = "powers of two" if spec.pow2_required else f"integers >= {least}"
        raise CodesignError(f"{where}: values must be {need}, got {bad}")
    if not values:
        raise CodesignError(f"{where}: override {override!r} leaves no value")
    return Knob(spec.name, tuple(values), spec.unit)


# ---------------------------------------------------------------------------------------------------------------
def area_budget_from(spec: str | float, system: SystemParams | None = None) -> float:
    """An area budget in mm² from ``--area-budget``: a number of mm², or a preset name for that preset's area.

    Parameters
    ----------
    spec
        ``1.5``, ``"1.5"``, or a preset name (``"eyeriss"``, ``"vta"``): ``area(preset(name, system)).total_mm2``,
        i.e. the preset's area at the run's own system parameters (precision changes MAC and RF areas).
    system
        The run's :class:`SystemParams` (default ``SystemParams()``).
    """
    system = system if system is not None else SystemParams()
    if isinstance(spec, str):
        name = spec.strip()
        if name in PRESETS:
            return area(preset(name, system)).total_mm2
        try:
            value = float(name)
        except ValueError:
            raise CodesignError(
                f"area budget {spec!r} is neither a number of mm² nor a preset ({', '.join(PRESETS)})"
            ) from None
    elif isinstance(spec, (int, float)) and not isinstance(spec, bool):
        value = float(spec)
    else:
        raise CodesignError(f"area budget must be a number of mm² or a preset name, got {spec!r}")
    if not math.isfinite(value) or value <= 0:
        raise CodesignError(f"area budget must be a positive number of mm², got {spec!r}")
    return value


def check_budget(space: "HardwareSpace") -> None:
    """Raise a one-line :class:`CodesignError` when no genome of ``space`` fits its area budget."""
    smallest, hw = space.min_area()
    if hw is None:
        raise CodesignError(f"the {space.template} hardware space has no valid configuration within its bounds")
    if smallest > space.area_budget_mm2:
        raise CodesignError(
            f"area budget {space.area_budget_mm2:.4g} mm² is below the smallest {space.template} configuration "
            f"({smallest:.4g} mm²: {hw.summary().split(': ', 1)[1]}); raise --area-budget or narrow the bounds"
        )


# ---------------------------------------------------------------------------------------------------------------
class HardwareSpace:
    """The outer search space: genomes of knob indices whose configs fit ``area_budget_mm2``.

    Parameters
    ----------
    template
        ``"eyeriss"`` (shared GB for I and O, W bypass, RFs) or ``"vta"`` (per-operand buffers, square
        power-of-two array, no RFs); see the module docstring for knobs and grids.
    system
        The run's :class:`SystemParams`, carried unchanged by every decoded config.
    area_budget_mm2
        mm², or anything :func:`area_budget_from` takes (default ``"eyeriss"``: the Eyeriss preset's area).
    fill_share
        Share of each :meth:`sample` that is grown to fill the budget (:meth:`grow`); 0 (default) samples
        uniformly over the in-budget genomes. The co-design uses 0.5: a uniform in-budget draw leaves on average
        much of the area unused (most random designs are small), and an unused budget rarely lowers EDP, so half
        the candidates come from the maximal designs — still random, and the other half keeps small designs in
        reach (they win on DRAM-bound models, where energy per access matters more than PEs).
    **overrides
        Per knob, ``(lo, hi)`` to narrow or widen the template's grid (same rule, new ends), or an explicit list
        of values, e.g. ``pe_rows=(2, 4)``, ``gb_kib=[64, 108]``.

    Attributes
    ----------
    knobs
        One :class:`Knob` per gene.
    drawn, accepted
        Genomes drawn and accepted by rejection sampling so far (``acceptance_rate`` is their ratio).
    """

    def __init__(
        self,
        template: str = "eyeriss",
        system: SystemParams | None = None,
        area_budget_mm2: float | str = "eyeriss",
        fill_share: float = 0.0,
        **overrides: Any,
    ) -> None:
        if template not in TEMPLATES:
            raise CodesignError(f"unknown hardware template {template!r}; known templates: {', '.join(TEMPLATES)}")
        if not 0.0 <= fill_share <= 1.0:
            raise CodesignError(f"fill_share must be in [0, 1], got {fill_share!r}")
        self.template = template
        self.fill_share = float(fill_share)
        self.system = system if system is not None else SystemParams()
        self.area_budget_mm2 = area_budget_from(area_budget_mm2, self.system)
        specs = TEMPLATES[template]
        unknown = sorted(set(overrides) - {s.name for s in specs})
        if unknown:
            raise CodesignError(
                f"unknown {template} knob(s) {', '.join(unknown)}; knobs: {', '.join(s.name for s in specs)}"
            )
        self.knobs: tuple[Knob, ...] = tuple(_make_knob(s, overrides.get(s.name), template) for s in specs)
        self.genome_size = len(self.knobs)
        self._values = [np.asarray(k.values, dtype=np.int64) for k in self.knobs]
        self._radix = np.array([len(k) for k in self.knobs], dtype=np.int64)
        self._build_area_tables()
        self.drawn = 0
        self.accepted = 0
        self._feasible_cache: np.ndarray | None = None
        self._size_cache: float | None = None

    # ----------------------------------------------------------------------------------------------------------
    # Area, vectorised: per-PE and per-buffer lookup tables built from the same technology functions area() uses.

    def _build_area_tables(self) -> None:
        s = self.system
        wb, ab = s.word_bits, s.acc_bits
        # Per PE: MAC + pipeline registers + NoC share (technology.mac/pe_regs/noc_area_um2).
        self._per_pe_um2 = tech.mac_area_um2(wb, ab) + tech.pe_regs_area_um2(wb, ab) + tech.noc_area_um2(1, wb, ab)
        v = self._values
        if self.template == "eyeriss":
            self._rf_um2 = [
                np.array([tech.rf_area_um2(int(w), bits) for w in v[i]])
                for i, bits in ((4, wb), (5, wb), (6, ab))
            ]
            self._gb_um2 = np.array(
                [[tech.sram_area_um2(int(c) * KIB, float(b)) for b in v[3]] for c in v[2]]
            )
        elif self.template == "per_operand":
            self._rf_um2 = [
                np.array([tech.rf_area_um2(int(w), bits) for w in v[i]])
                for i, bits in ((8, wb), (9, wb), (10, ab))
            ]
            self._buf_um2 = {  # (size, bandwidth) -> µm²; size 0 = no buffer = no area
                op: np.array([[tech.sram_area_um2(int(c) * KIB, float(b)) if c else 0.0 for b in v[j]] for c in v[i]])
                for op, _, i, j in _PER_OPERAND_BUFFERS
            }
        else:
            blocks = v[0]
            # VTA's fixed bandwidths (one entry per cycle, acc read + write) and entry sizes, per block.
            bw = {"I": blocks * wb / 8, "W": blocks**2 * wb / 8, "O": 2 * blocks * ab / 8}
            self._entry = {"I": blocks * wb / 8, "W": blocks**2 * wb / 8, "O": blocks * ab / 8}
            self._buf_um2 = {
                op: np.array([[tech.sram_area_um2(int(c) * KIB, float(b)) for c in v[i]] for b in bw[op]])
                for op, i in (("I", 1), ("W", 2), ("O", 3))
            }

    def _npe(self, g: np.ndarray) -> np.ndarray:
        if self.template != "vta":
            return self._values[0][g[:, 0]] * self._values[1][g[:, 1]]
        return self._values[0][g[:, 0]] ** 2

    def area_batch(self, genomes: np.ndarray) -> np.ndarray:
        """``(m,)`` total area in mm² of each genome's config; equals ``area(decode(g)).total_mm2`` to rounding."""
        g = self._as_genomes(genomes)
        npe = self._npe(g).astype(float)
        if self.template == "eyeriss":
            per_pe = self._per_pe_um2 + self._rf_um2[0][g[:, 4]] + self._rf_um2[1][g[:, 5]] + self._rf_um2[2][g[:, 6]]
            buf = self._gb_um2[g[:, 2], g[:, 3]]
        elif self.template == "per_operand":
            per_pe = self._per_pe_um2 + self._rf_um2[0][g[:, 8]] + self._rf_um2[1][g[:, 9]] + self._rf_um2[2][g[:, 10]]
            buf = sum(self._buf_um2[op][g[:, i], g[:, j]] for op, _, i, j in _PER_OPERAND_BUFFERS)
        else:
            per_pe = self._per_pe_um2
            buf = sum(self._buf_um2[op][g[:, 0], g[:, i]] for op, i in (("I", 1), ("W", 2), ("O", 3)))
        return (npe * per_pe + buf) * _UM2

    def _structural_ok(self, g: np.ndarray) -> np.ndarray:
        """Constraints other than area: every VTA buffer holds at least one entry; a per_operand buffer of size 0
        has its bandwidth gene at 0 (the gene is dead then: one genome per config)."""
        if self.template == "per_operand":
            ok = np.ones(len(g), dtype=bool)
            for _, _, i, j in _PER_OPERAND_BUFFERS:
                ok &= (self._values[i][g[:, i]] > 0) | (g[:, j] == 0)
            return ok
        if self.template != "vta":
            return np.ones(len(g), dtype=bool)
        ok = np.ones(len(g), dtype=bool)
        for op, i in (("I", 1), ("W", 2), ("O", 3)):
            ok &= self._values[i][g[:, i]] * KIB >= self._entry[op][g[:, 0]]
        return ok

    def _fits(self, g: np.ndarray) -> np.ndarray:
        """In-box genomes only: structural constraints and area <= budget (exact near the budget)."""
        ok = self._structural_ok(g)
        a = self.area_batch(g)
        fits = ok & (a <= self.area_budget_mm2)
        edge = np.flatnonzero(ok & (np.abs(a - self.area_budget_mm2) <= _EDGE * self.area_budget_mm2))
        for i in edge:  # rounding of the vectorised sum must not decide: ask hardware.area
            fits[i] = area(self._config(g[i])).total_mm2 <= self.area_budget_mm2
        return fits

    def _in_box(self, g: np.ndarray) -> np.ndarray:
        return np.all((g >= 0) & (g < self._radix), axis=1)

    def valid(self, genomes: np.ndarray) -> np.ndarray:
        """``(m,)`` bool: inside the gene bounds, structurally valid, and within the area budget."""
        g = np.asarray(genomes, dtype=np.int64).reshape(-1, self.genome_size)
        inb = self._in_box(g)
        out = np.zeros(len(g), dtype=bool)
        if inb.any():
            out[inb] = self._fits(g[inb])
        return out

    # ----------------------------------------------------------------------------------------------------------
    # Genomes <-> configs.

    def _as_genomes(self, genomes: np.ndarray) -> np.ndarray:
        g = np.asarray(genomes, dtype=np.int64).reshape(-1, self.genome_size)
        if len(g) and not self._in_box(g).all():
            raise CodesignError(f"genome outside the {self.template} space's gene bounds")
        return g

    def knob_values(self, genome: Sequence[int]) -> dict[str, int]:
        """``{knob name: value}`` of one genome, in the knobs' units."""
        g = self._as_genomes(np.asarray(genome))[0]
        return {k.name: int(self._values[i][g[i]]) for i, k in enumerate(self.knobs)}

    def _config(self, genome: Sequence[int], name: str = "codesign") -> HardwareConfig:
        v = self.knob_values(genome)
        if self.template == "eyeriss":
            return HardwareConfig(
                name=name,
                pe_rows=v["pe_rows"],
                pe_cols=v["pe_cols"],
                buffers=(Buffer("global", v["gb_kib"] * KIB, ("I", "O"), float(v["gb_bandwidth"])),),
                rf_input_words=v["rf_input_words"],
                rf_weight_words=v["rf_weight_words"],
                rf_output_words=v["rf_output_words"],
                system=self.system,
            )
        if self.template == "per_operand":
            return HardwareConfig(
                name=name,
                pe_rows=v["pe_rows"],
                pe_cols=v["pe_cols"],
                buffers=tuple(
                    Buffer(bname, v[self.knobs[i].name] * KIB, (op,), float(v[self.knobs[j].name]))
                    for op, bname, i, j in _PER_OPERAND_BUFFERS
                    if v[self.knobs[i].name]
                ),
                rf_input_words=v["rf_input_words"],
                rf_weight_words=v["rf_weight_words"],
                rf_output_words=v["rf_output_words"],
                system=self.system,
            )
        b = v["block"]
        bufs = _vta_buffers(b, self.system, v["inp_kib"] * KIB, v["wgt_kib"] * KIB, v["acc_kib"] * KIB)
        return HardwareConfig(name=name, pe_rows=b, pe_cols=b, buffers=bufs, system=self.system)

    def decode(self, genome: Sequence[int]) -> HardwareConfig:
        """The :class:`HardwareConfig` of ``genome``, named ``codesign-<first 8 hex of its config hash>``."""
        hw = self._config(genome)
        return dataclasses.replace(hw, name=f"codesign-{hw.config_hash()[:8]}")

    def genome_of(self, hw: HardwareConfig) -> np.ndarray:
        """The genome whose config equals ``hw`` knob-wise, or a one-line :class:`CodesignError` saying why none."""
        why = f"{hw.name!r} is not in the {self.template} hardware space:"
        if hw.system != self.system:
            raise CodesignError(f"{why} its system parameters differ from the run's")
        if self.template == "eyeriss":
            b = hw.buffer_for("I")
            if len(hw.buffers) != 1 or b is None or b.operands != ("I", "O") or b.name != "global":
                raise CodesignError(f"{why} the template has one buffer 'global' holding I and O (W bypasses it)")
            if b.capacity % KIB or not float(b.bandwidth).is_integer():
                raise CodesignError(f"{why} buffer size {b.capacity} B or bandwidth {b.bandwidth:g} is off the grid")
            vals = [hw.pe_rows, hw.pe_cols, b.capacity // KIB, int(b.bandwidth), *(hw.rf_words(o) for o in "IWO")]
        elif self.template == "per_operand":
            sizes, bws = [], []
            for op, bname, i, j in _PER_OPERAND_BUFFERS:
                b = hw.buffer_for(op)
                if b is None:
                    sizes.append(0)
                    bws.append(self.knobs[j].values[0])  # dead gene: canonical index 0
                    continue
                if b.operands != (op,) or b.name != bname:
                    raise CodesignError(
                        f"{why} the template has one buffer per operand, named input/weight/accumulator"
                    )
                if b.capacity % KIB or not float(b.bandwidth).is_integer():
                    raise CodesignError(
                        f"{why} buffer size {b.capacity} B or bandwidth {b.bandwidth:g} is off the grid"
                    )
                sizes.append(b.capacity // KIB)
                bws.append(int(b.bandwidth))
            vals = [hw.pe_rows, hw.pe_cols, *sizes, *bws, *(hw.rf_words(o) for o in "IWO")]
        else:
            try:
                cfg = to_vta_config(hw)
            except CodesignError as err:
                raise CodesignError(f"{why} {err}") from None
            vals = [2 ** cfg["LOG_BLOCK"]] + [
                2 ** cfg[k] // KIB for k in ("LOG_INP_BUFF_SIZE", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE")
            ]
            if min(2 ** cfg[k] for k in ("LOG_INP_BUFF_SIZE", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE")) < KIB:
                raise CodesignError(f"{why} a buffer is smaller than 1 KiB")
        genome = []
        for knob, value in zip(self.knobs, vals):
            i = knob.index(value)
            if i is None:
                raise CodesignError(
                    f"{why} {knob.name} = {value} is not on its grid ({knob.values[0]}..{knob.values[-1]})"
                )
            genome.append(i)
        g = np.array(genome, dtype=np.int64)
        if self._config(g).config_hash() != hw.config_hash():
            raise CodesignError(f"{why} it differs from the config of its nearest genome (buffer names or order?)")
        return g

    def preset_genomes(self) -> np.ndarray:
        """``(m, genome_size)`` genomes of the presets representable in this space that fit the budget (checked
        with :func:`hardware.area`): the warm start of the outer search. May be empty."""
        out = []
        for name in PRESETS:
            hw = preset(name, self.system)
            try:
                g = self.genome_of(hw)
            except CodesignError:
                continue
            if area(hw).total_mm2 <= self.area_budget_mm2 and self._structural_ok(g[None])[0]:
                out.append(g)
        return np.array(out, dtype=np.int64).reshape(-1, self.genome_size)

    # ----------------------------------------------------------------------------------------------------------
    # SearchSpace.

    def gene_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Inclusive ``(low, high)`` per gene: ``0`` and ``len(grid) - 1``."""
        return np.zeros(self.genome_size, dtype=np.int64), self._radix - 1

    def box_size(self) -> int:
        """Genomes inside the gene bounds, in budget or not."""
        return int(np.prod(self._radix.astype(object)))

    def _box_chunks(self, chunk: int = 1 << 16) -> Iterator[np.ndarray]:
        total = self.box_size()
        for lo in range(0, total, chunk):
            flat = np.arange(lo, min(total, lo + chunk), dtype=np.int64)
            yield np.stack(np.unravel_index(flat, tuple(self._radix)), axis=1).astype(np.int64)

    def _feasible_all(self) -> np.ndarray:
        """Every in-budget genome of a small space (cached)."""
        if self._feasible_cache is None:
            parts = [c[self._fits(c)] for c in self._box_chunks()]
            self._feasible_cache = np.concatenate(parts) if parts else np.zeros((0, self.genome_size), np.int64)
        return self._feasible_cache

    def size(self) -> float:
        """Genomes meeting the known constraints: counted exactly up to :data:`COUNT_LIMIT` genomes in the box,
        else the box size times the acceptance of a fixed-seed probe of 200,000 uniform genomes (an estimate)."""
        if self._size_cache is None:
            box = self.box_size()
            if box <= SMALL_SPACE:
                self._size_cache = float(len(self._feasible_all()))
            elif box <= COUNT_LIMIT:
                self._size_cache = float(sum(int(self._fits(c).sum()) for c in self._box_chunks()))
            else:
                probe = np.random.default_rng(0).integers(0, self._radix, size=(200_000, self.genome_size))
                self._size_cache = float(box) * float(self._fits(probe).mean())
        return self._size_cache

    def enumerate(self, limit: int) -> Iterator[np.ndarray]:
        """Every in-budget genome in chunks (mixed-radix order); refuses a space above ``limit`` at the call."""
        if self.box_size() > COUNT_LIMIT or self.size() > limit:
            raise CodesignError(
                f"{self.template} hardware space has ~{self.size():.3g} genomes in budget "
                f"({self.box_size():.3g} in its bounds); too many to enumerate (limit {limit})"
            )
        return (c[self._fits(c)] for c in self._box_chunks())

    @property
    def acceptance_rate(self) -> float:
        """Fraction of uniformly drawn genomes that met the known constraints so far (NaN before any draw); for a
        small space, which samples from its listing, the exact in-budget fraction of its box."""
        if self.box_size() <= SMALL_SPACE:
            return self.size() / self.box_size()
        return self.accepted / self.drawn if self.drawn else float("nan")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(m, genome_size)`` genomes within the budget, ``m = n`` unless nothing fits (then ``m = 0``).

        Uniform draws (:meth:`sample_uniform`); with ``fill_share > 0``, each row with probability ``fill_share`` is
        then grown to fill the budget (:meth:`grow`).
        """
        g = self.sample_uniform(n, rng)
        if self.fill_share > 0 and len(g):
            pick = rng.random(len(g)) < self.fill_share
            g[pick] = self.grow(g[pick], rng)
        return g

    def grow(self, genomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each genome grown one grid step at a time, on a random knob that can still grow within the budget,
        until none can: a maximal design (every single-knob step up breaks the budget or the bounds).

        Area never decreases when a gene grows, so the walk ends; the result is in budget whenever the start is.
        """
        g = self._as_genomes(genomes).copy()
        alive = np.arange(len(g))
        K = self.genome_size
        while len(alive):
            cur = g[alive]
            cand = np.repeat(cur, K, axis=0)
            cand[np.arange(len(cand)), np.tile(np.arange(K), len(cur))] += 1
            ok = self.valid(cand).reshape(len(cur), K)
            keys = np.where(ok, rng.random(ok.shape), -1.0)
            k = keys.argmax(axis=1)
            can = ok.any(axis=1)
            g[alive[can], k[can]] += 1
            alive = alive[can]
        return g

    def sample_uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(m, genome_size)`` genomes drawn uniformly within the budget, ``m = n`` unless nothing fits.

        Small spaces (<= :data:`SMALL_SPACE` genomes) draw uniformly from their listed in-budget genomes. Larger
        ones draw uniformly in the box and reject (uniform over the in-budget set), up to ``50 n`` draws; any
        shortfall (a tight budget) is filled constructively: knobs in random order, each uniform over the values
        that still fit with the remaining knobs at their smallest (area is monotone in every knob).
        """
        if n <= 0:
            return np.zeros((0, self.genome_size), dtype=np.int64)
        if self.box_size() <= SMALL_SPACE:
            pts = self._feasible_all()
            if not len(pts):
                return pts.copy()
            return pts[rng.integers(0, len(pts), n)]
        got: list[np.ndarray] = []
        have, drawn = 0, 0
        # Batch sizes follow a fixed-seed prior and this call's own draws only, never earlier calls: the same
        # rng state gives the same genomes whatever the space was asked before (resumed runs replay exactly).
        rate = self._prior_rate()
        while have < n and drawn < 50 * n:
            m = int(min(max(1.2 * (n - have) / rate, 256), 50 * n - drawn, 2_000_000))
            g = rng.integers(0, self._radix, size=(m, self.genome_size))
            ok = self._fits(g)
            self.drawn += m
            self.accepted += int(ok.sum())
            drawn += m
            got.append(g[ok])
            have += int(ok.sum())
            rate = max(have / drawn, 1.0 / drawn)
        out = np.concatenate(got)[:n]
        if len(out) < n:
            out = np.concatenate([out, self._constructive(n - len(out), rng)])
        return out

    def _prior_rate(self) -> float:
        """Acceptance of a fixed-seed probe of 4096 uniform genomes (at least 1/4096)."""
        if not hasattr(self, "_prior"):
            probe = np.random.default_rng(12345).integers(0, self._radix, size=(4096, self.genome_size))
            self._prior = max(float(self._fits(probe).mean()), 1.0 / 4096)
        return self._prior

    def _constructive(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``<= n`` in-budget genomes built knob by knob (see :meth:`sample`)."""
        g = np.zeros((n, self.genome_size), dtype=np.int64)
        alive = self._fits(g)  # the all-smallest genome: if it does not fit, nothing does
        g = g[alive]
        order = rng.permutation(self.genome_size)
        if self.template == "per_operand":
            order = np.concatenate([order[~np.isin(order, (5, 6, 7))], order[np.isin(order, (5, 6, 7))]])
        for k in order:
            if not len(g):
                break
            L = int(self._radix[k])
            cand = np.repeat(g, L, axis=0)
            cand[:, k] = np.tile(np.arange(L), len(g))
            ok = self._fits(cand).reshape(len(g), L)
            # Uniform among the fitting values of knob k: the argmax of random keys over the fitting ones.
            keys = np.where(ok, rng.random(ok.shape), -1.0)
            g[:, k] = keys.argmax(axis=1)
        # (per_operand: sizes are placed before bandwidths, see the order above, so a bandwidth is not pinned to 0
        # only because its buffer had not been sized yet.)
        return g

    def encode(self, genomes: np.ndarray) -> np.ndarray:
        """``(m, genome_size)`` floats in [0, 1]: log2 of each knob's value normalised over its grid (0 = absent
        sits one octave below the smallest positive value); a single-valued knob encodes as 0."""
        g = self._as_genomes(genomes)
        if not hasattr(self, "_enc_tables"):
            tables = []
            for vals in self._values:
                pos = vals[vals > 0]
                logs = np.where(vals > 0, np.log2(np.maximum(vals, 1)), np.log2(pos.min()) - 1 if len(pos) else 0)
                span = logs.max() - logs.min()
                tables.append((logs - logs.min()) / span if span > 0 else np.zeros(len(vals)))
            self._enc_tables = tables
        return np.stack([t[g[:, i]] for i, t in enumerate(self._enc_tables)], axis=1).astype(float)

    def neighbors(self, genomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One move from each genome: one knob changed by ±1, ±2 or ±4 grid steps (60/25/15 %), kept in budget.

        If the move does not fit (or leaves the bounds), the same knob's ±1 steps are tried, then ±1 steps of the
        other knobs in random order; the first that fits is taken. So every result differs from its genome in
        exactly one knob, unless no one-knob step fits at all (then the genome is returned unchanged).
        """
        g = self._as_genomes(genomes)
        n, K = g.shape
        if n == 0:
            return g.copy()
        k0 = rng.integers(0, K, n)
        sign = rng.choice(np.array([-1, 1]), n)
        mag = rng.choice(np.array([1, 2, 4]), n, p=[0.6, 0.25, 0.15])
        moves_k = [k0, k0, k0]
        moves_d = [sign * mag, sign, -sign]
        order = np.argsort(rng.random((n, K)), axis=1)  # other knobs in random order, k0 skipped below
        for j in range(K):
            kj = order[:, j]
            sj = rng.choice(np.array([-1, 1]), n)
            moves_k += [kj, kj]
            moves_d += [np.where(kj == k0, 0, sj), np.where(kj == k0, 0, -sj)]
        M = len(moves_k)
        cand = np.repeat(g[None], M, axis=0)  # (M, n, K)
        rows = np.arange(n)
        for c in range(M):
            cand[c, rows, moves_k[c]] += moves_d[c]
        flat = cand.reshape(M * n, K)
        changed = np.any(flat != np.tile(g, (M, 1)), axis=1)
        ok = changed & self._in_box(flat)
        if ok.any():
            ok[ok] = self._fits(flat[ok])
        ok = ok.reshape(M, n)
        first = ok.argmax(axis=0)
        out = cand[first, rows]
        return np.where(ok.any(axis=0)[:, None], out, g)

    # ----------------------------------------------------------------------------------------------------------
    def min_area(self) -> tuple[float, HardwareConfig | None]:
        """The smallest area of a structurally valid config in the space, and that config (``None`` if none).

        Area grows with every knob, so for ``eyeriss`` it is the all-smallest genome; ``vta`` (entry constraints)
        searches its listed box when small, else takes the all-smallest genome that holds one entry per buffer.
        """
        if self.box_size() <= COUNT_LIMIT:
            best, arg = math.inf, None
            for c in self._box_chunks():
                c = c[self._structural_ok(c)]
                if len(c):
                    a = self.area_batch(c)
                    i = int(a.argmin())
                    if a[i] < best:
                        best, arg = float(a[i]), c[i]
            if arg is None:
                return math.inf, None
        else:
            arg = np.zeros(self.genome_size, dtype=np.int64)
            if not self._structural_ok(arg[None])[0]:
                return math.inf, None
        hw = self.decode(arg)
        return area(hw).total_mm2, hw

    def describe(self) -> str:
        """One line per knob: name, grid ends and count, unit."""
        return "\n".join(
            f"{k.name}: {k.values[0]}..{k.values[-1]} {k.unit} ({len(k)} values)" for k in self.knobs
        )

    def __repr__(self) -> str:
        return (
            f"HardwareSpace({self.template!r}, budget={self.area_budget_mm2:.4g} mm², "
            f"{self.system.precision}, genes={self.genome_size}, box={self.box_size():.3g})"
        )
