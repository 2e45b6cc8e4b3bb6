"""The analytical cost model: ``evaluate(workload, hw, mappings)`` -> access counts, energy, cycles, validity.

Vectorised over a batch of mappings (struct of arrays, slot-major ``(L, B)``): every Python loop here runs over the
few loop slots, levels, operands or dims, never over mappings. The semantics are written down in
``docs/cost-model.md``; the numbers each formula produces are checked by hand in ``tests/test_cost_hand.py``.

Counting, per operand X, along its chain of storage levels DRAM -> GB? -> RF? -> MAC (bypassed levels skipped):

* ``E(c)`` fill events of a tile cut at ``c``: the product of the temporal trip counts of the loops above ``c`` down
  to the innermost one that indexes X (loops below it that do not index X give reuse for free).
* A per-PE child (RF, or the MAC itself) is fed the union of the PEs' tiles: multicast across spatial loops that
  do not index X, sliding-window overlap credited across spatial loops over P/R (Q/S).
* Outputs: evictions go up as updates; a tile refilled after its first fill reads its partial sums back
  (``(E - D) x union``, ``D`` = distinct tiles); spatial reduction collapses PEs' partial sums in the network.
* The MAC has no operand registers: each MAC reads I and W and read-modify-writes O at the innermost level holding
  them, except the first touch of a zero-initialised partial sum.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np

from tvm_codesign.cost.nest import Nest, tile_words
from tvm_codesign.errors import CodesignError
from tvm_codesign.cost.physical import EnergyTable, energy_table
from tvm_codesign.model.hardware import LEVELS, HardwareConfig
from tvm_codesign.model.batch import MappingBatch, as_batch
from tvm_codesign.model.mapping import ON_CHIP, Mapping
from tvm_codesign.model.workload import DIMS, OPERANDS, Workload

# ---------------------------------------------------------------------------------------------------------------
# Reason codes. 0 = valid; the others name what failed (the first failing check, in this order).
VALID = 0
FACTOR_PRODUCT = 10  #: + index of the dim in DIMS (10..17): product of that dim's factors < bound
FANOUT_ROWS = 20  #: product of spatial_rows factors > pe_rows
FANOUT_COLS = 21  #: product of spatial_cols factors > pe_cols
NO_STORAGE = 30  #: + 3*on-chip level index + operand index (30..35): placed at a level with no storage for it
CAPACITY = 40  #: + 3*on-chip level index + operand index (40..45): tile does not fit
#: A batch row breaks the nest structure :class:`Mapping` enforces (only possible for a MappingBatch built from
#: raw arrays): a spatial loop outside [every GB cut, every RF cut), a GB cut inside its RF cut, a cut out of range.
STRUCTURE = 50

_OP = {o: i for i, o in enumerate(OPERANDS)}
_DRAM, _GB, _RF = 0, 1, 2


def reason_text(code: int) -> str:
    """Generic text of a reason code (the per-mapping text with numbers is :meth:`CostResult.reason_text`)."""
    code = int(code)
    if code == VALID:
        return "valid"
    if FACTOR_PRODUCT <= code < FACTOR_PRODUCT + len(DIMS):
        return f"factor product of {DIMS[code - FACTOR_PRODUCT]} < its bound"
    if code == FANOUT_ROWS:
        return "fan-out rows > pe_rows"
    if code == FANOUT_COLS:
        return "fan-out cols > pe_cols"
    if code == STRUCTURE:
        return "loop nest structure: spatial loops must lie between every GB cut and every RF cut, GB above RF"
    for base, what in ((NO_STORAGE, "no storage at {lv} for {op}"), (CAPACITY, "capacity of {lv} for {op}")):
        if base <= code < base + len(ON_CHIP) * len(OPERANDS):
            li, oi = divmod(code - base, len(OPERANDS))
            return what.format(lv=ON_CHIP[li], op=OPERANDS[oi])
    raise CodesignError(f"unknown reason code {code}")


# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class CostResult:
    """Cost of a batch of ``B`` mappings; every array's last axis is the batch.

    Attributes
    ----------
    energy_pj, cycles, edp
        ``(B,)``. ``edp`` is ``inf`` for invalid mappings; energy and cycles are still reported for them.
    valid, reason
        ``(B,)`` bool and reason code (see :func:`reason_text`, :meth:`reason_text`).
    macs_computed
        ``(B,)`` MACs executed, padded iterations and idle-but-computing padded PEs included.
    utilisation
        ``(B,)`` workload MACs / (cycles x PEs of the array).
    compute_cycles
        ``(B,)`` product of all temporal trip counts.
    transfer_cycles
        ``(2, B)`` bandwidth-limited time of DRAM and of the GB level (slowest buffer).
    reads, fills, updates
        ``(3, 3, B)`` words per (level in :data:`LEVELS`, operand in ``OPERANDS``): reads out of the level, writes
        into it from its parent (incl. partial sums read back), writes into it from its child or the MACs.
    access_energy
        ``(3, 3, B)`` pJ of those accesses.
    tile_words
        ``(3, 3, B)`` words of each operand's tile per level (DRAM: the whole tensor; RF: per PE; 0 if bypass).
    energy_breakdown
        ``name -> (B,)`` pJ: ``DRAM``, ``GB``, ``RF`` (accesses), ``noc`` (deliveries to / collection from PEs),
        ``reduction`` (spatial partial-sum hops), ``mac``. They add up to ``energy_pj``.
    """

    workload: Workload
    hw: HardwareConfig
    energy_pj: np.ndarray
    cycles: np.ndarray
    edp: np.ndarray
    valid: np.ndarray
    reason: np.ndarray
    macs_computed: np.ndarray
    utilisation: np.ndarray
    compute_cycles: np.ndarray
    transfer_cycles: np.ndarray
    reads: np.ndarray
    fills: np.ndarray
    updates: np.ndarray
    access_energy: np.ndarray
    tile_words: np.ndarray
    energy_breakdown: dict[str, np.ndarray]
    # Numbers for the reason text.
    factor_products: np.ndarray  # (8, B)
    fanout: np.ndarray  # (2, B) rows, cols
    gb_bytes: np.ndarray  # (n_buffers, B) bytes used per GB buffer
    gb_capacity: np.ndarray  # (n_buffers, B) usable bytes (halved when double-buffered)
    rf_capacity: np.ndarray  # (3, B) usable words per operand

    def __len__(self) -> int:
        return int(self.energy_pj.shape[0])

    def reason_text(self, i: int) -> str:
        """One line naming what makes mapping ``i`` invalid, with the numbers (``"valid"`` if it is not)."""
        code = int(self.reason[i])
        if code == VALID:
            return "valid"
        if FACTOR_PRODUCT <= code < FACTOR_PRODUCT + len(DIMS):
            d = code - FACTOR_PRODUCT
            return f"factor product of {DIMS[d]} {int(self.factor_products[d, i])} < {getattr(self.workload, DIMS[d])}"
        if code == FANOUT_ROWS:
            return f"fan-out rows {int(self.fanout[0, i])} > {self.hw.pe_rows}"
        if code == FANOUT_COLS:
            return f"fan-out cols {int(self.fanout[1, i])} > {self.hw.pe_cols}"
        if code == STRUCTURE:
            return reason_text(code)
        li, oi = divmod((code - NO_STORAGE) if code < CAPACITY else (code - CAPACITY), len(OPERANDS))
        lv, op = ON_CHIP[li], OPERANDS[oi]
        if code < CAPACITY:
            where = "no GB buffer holds it" if lv == "GB" else "its RF has 0 words"
            return f"{op} placed at {lv} but {where}"
        if lv == "GB":
            bi = next(k for k, b in enumerate(self.hw.buffers) if op in b.operands)
            b = self.hw.buffers[bi]
            return (
                f"capacity of GB for {op}: {_num(self.gb_bytes[bi, i])} B > {_num(self.gb_capacity[bi, i])} B "
                f"(buffer {b.name!r}, holding {'+'.join(b.operands)})"
            )
        return (
            f"capacity of RF for {op}: {_num(self.tile_words[_RF, oi, i])} words > "
            f"{_num(self.rf_capacity[oi, i])} words"
        )

    def row(self, i: int) -> "MappingCost":
        """Mapping ``i``'s cost as plain Python numbers."""
        per = {}
        for li, lv in enumerate(LEVELS):
            for oi, op in enumerate(OPERANDS):
                per[f"{lv}.{op}"] = {
                    "reads": float(self.reads[li, oi, i]),
                    "fills": float(self.fills[li, oi, i]),
                    "updates": float(self.updates[li, oi, i]),
                    "energy_pj": float(self.access_energy[li, oi, i]),
                    "tile_words": float(self.tile_words[li, oi, i]),
                }
        return MappingCost(
            energy_pj=float(self.energy_pj[i]),
            cycles=float(self.cycles[i]),
            edp=float(self.edp[i]),
            valid=bool(self.valid[i]),
            reason=int(self.reason[i]),
            reason_text=self.reason_text(i),
            macs=self.workload.macs,
            macs_computed=float(self.macs_computed[i]),
            utilisation=float(self.utilisation[i]),
            compute_cycles=float(self.compute_cycles[i]),
            transfer_cycles={"DRAM": float(self.transfer_cycles[0, i]), "GB": float(self.transfer_cycles[1, i])},
            energy_breakdown={k: float(v[i]) for k, v in self.energy_breakdown.items()},
            accesses=per,
        )

    def to_json(self, i: int) -> dict[str, Any]:
        """Mapping ``i``'s cost as a JSON-ready dict (``edp`` is ``null`` when invalid)."""
        return self.row(i).to_json()


@dataclasses.dataclass(frozen=True)
class MappingCost:
    """One mapping's cost (a row of :class:`CostResult`)."""

    energy_pj: float
    cycles: float
    edp: float
    valid: bool
    reason: int
    reason_text: str
    macs: int
    macs_computed: float
    utilisation: float
    compute_cycles: float
    transfer_cycles: dict[str, float]
    energy_breakdown: dict[str, float]
    accesses: dict[str, dict[str, float]]

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if not math.isfinite(out["edp"]):
            out["edp"] = None  # JSON has no infinity
        return out


def _num(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:g}"


# ---------------------------------------------------------------------------------------------------------------
def evaluate(
    workload: Workload,
    hw: HardwareConfig,
    mappings: MappingBatch | Mapping | Sequence[Mapping],
    energy: EnergyTable | None = None,
) -> CostResult:
    """Cost of every mapping of ``workload`` on ``hw`` (see the module docstring and ``docs/cost-model.md``).

    Parameters
    ----------
    workload, hw
        The layer and the accelerator.
    mappings
        A :class:`MappingBatch`, one :class:`Mapping`, or a sequence of them.
    energy
        Energy per access; defaults to :func:`tvm_codesign.model.hardware.energy_table` of ``hw`` (tests pass round
        numbers here).
    """
    mb = as_batch(mappings)
    et = energy if energy is not None else energy_table(hw)
    B = len(mb)
    if B <= _CHUNK:
        return _evaluate_chunk(workload, hw, mb, et)
    # Chunks keep the (B,) temporaries cache-sized; every operation is per mapping, so results are unchanged.
    parts = [_evaluate_chunk(workload, hw, _rows(mb, i, min(i + _CHUNK, B)), et) for i in range(0, B, _CHUNK)]
    return _concat(parts)


#: Mappings per chunk inside :func:`evaluate` (the (B,) temporaries then stay in the CPU caches).
_CHUNK = 16384


def _rows(mb: MappingBatch, start: int, stop: int) -> MappingBatch:
    """Rows ``start:stop`` of a batch as views (no copy)."""
    return MappingBatch(
        mb.dim[:, start:stop], mb.factor[:, start:stop], mb.kind[:, start:stop], mb.cut[:, :, start:stop],
        mb.double_buffered[:, start:stop], mb.n_loops[start:stop],
    )


def _concat(parts: list[CostResult]) -> CostResult:
    """One result from the results of consecutive chunks."""
    first = parts[0]
    kw: dict[str, Any] = {"workload": first.workload, "hw": first.hw}
    for f in dataclasses.fields(CostResult):
        if f.name in kw:
            continue
        v = getattr(first, f.name)
        if isinstance(v, dict):
            kw[f.name] = {k: np.concatenate([getattr(p, f.name)[k] for p in parts], axis=-1) for k in v}
        else:
            kw[f.name] = np.concatenate([getattr(p, f.name) for p in parts], axis=-1)
    return CostResult(**kw)


# Masks that are uniform over a batch are plain bools, so that the common case skips the selects entirely.
def _uniform(mask: np.ndarray) -> np.ndarray | bool:
    """``True`` / ``False`` if the mask is uniform over the batch, else the mask."""
    if mask.all():
        return True
    if not mask.any():
        return False
    return mask


def _not(m: np.ndarray | bool) -> np.ndarray | bool:
    return (not m) if isinstance(m, bool) else ~m


def _and(a: np.ndarray | bool, b: np.ndarray | bool) -> np.ndarray | bool:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return a & b


def _masked(m: np.ndarray | bool, x: np.ndarray) -> np.ndarray:
    """``x`` where the mask holds, 0 elsewhere."""
    return x if m is True else np.where(m, x, 0.0)


def _pick(m: np.ndarray | bool, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if m is True:
        return a
    if m is False:
        return b
    return np.where(m, a, b)


def _add(out: np.ndarray, m: np.ndarray | bool, x: np.ndarray) -> None:
    """``out += x`` where the mask holds (in place)."""
    if m is True:
        out += x
    elif m is not False:
        out += np.where(m, x, 0.0)


def _evaluate_chunk(workload: Workload, hw: HardwareConfig, mb: MappingBatch, et: EnergyTable) -> CostResult:
    """:func:`evaluate` on one chunk."""
    nest = Nest(mb, workload)
    B = nest.B
    zeros = np.zeros(B)
    reads = np.zeros((3, 3, B))
    fills = np.zeros((3, 3, B))
    updates = np.zeros((3, 3, B))
    tiles = np.zeros((3, 3, B))
    noc = np.zeros(B)
    hops = np.zeros(B)
    T = nest.total_temporal
    npe = nest.pes
    any_rf: np.ndarray | bool = False
    full_c = np.zeros(B, np.int64)

    for oi, op in enumerate(OPERANDS):
        cg, cr = mb.cut[0, oi].astype(np.int64), mb.cut[1, oi].astype(np.int64)
        # held_*: True / False when uniform over the batch (the common case: the hardware decides), else a mask.
        held_g, held_r = _uniform(cg >= 0), _uniform(cr >= 0)
        any_rf = any_rf | held_r
        cg, cr = np.maximum(cg, 0), np.maximum(cr, 0)
        fg, fr = nest.flat(cg), nest.flat(cr)
        t_dram = tile_words(nest, mb, workload, op, full_c, union=False)
        wpj = et.noc_pj_per_word.get(op, et.noc_pj_per_destination) if et.noc_pj_per_word else et.noc_pj_per_destination
        # Pair DRAM -> GB (no spatial loop between: the union is the tile itself).
        if held_g is False:
            t_gb = e_g = zeros
        else:
            t_gb = _masked(held_g, tile_words(nest, mb, workload, op, cg, union=False))
            e_g = _masked(held_g, nest.fill_events(op, fg))
        # Pair (GB or DRAM) -> RF: per-PE tiles, the parent serves their union.
        if held_r is False:
            t_rf = e_r = u_r = zeros
        else:
            t_rf = _masked(held_r, tile_words(nest, mb, workload, op, cr, union=False))
            e_r = _masked(held_r, nest.fill_events(op, fr))
            u_r = _masked(held_r, tile_words(nest, mb, workload, op, cr, union=True))
        tiles[_DRAM, oi], tiles[_GB, oi], tiles[_RF, oi] = t_dram, t_gb, t_rf
        # Pair innermost level -> MAC: once per temporal iteration; from a shared level, the union over PEs.
        if held_r is True:
            u_m, np_m = 1.0, npe  # from the PE's own RF
        else:
            u_shared = tile_words(nest, mb, workload, op, None, union=True)
            u_m = u_shared if held_r is False else np.where(held_r, 1.0, u_shared)
            np_m = 1.0 if held_r is False else np.where(held_r, npe, 1.0)
        # Which level is the RF's parent, and which feeds the MACs (bypassed levels skipped).
        rf_from = {_GB: held_g, _DRAM: _not(held_g)}
        mac_from = {_RF: held_r, _GB: _and(_not(held_r), held_g), _DRAM: _and(_not(held_r), _not(held_g))}
        crosses_m = _not(held_r)  # MAC operands travel over the array network unless they come from the PE's own RF

        if op != "O":
            # DRAM -> GB
            x = e_g * t_gb
            reads[_DRAM, oi] += x
            fills[_GB, oi] += x
            # parent -> RF: the parent reads the union once per fill event (multicast); every PE is filled.
            if held_r is not False:
                xr = e_r * u_r
                for lv, sel in rf_from.items():
                    _add(reads[lv, oi], sel, xr)
                delivered = e_r * t_rf * npe
                fills[_RF, oi] += delivered
                noc += delivered * wpj
            # innermost -> MAC
            xm = T * u_m * np_m
            for lv, sel in mac_from.items():
                _add(reads[lv, oi], sel, xm)
            _add(noc, crosses_m, T * npe * wpj)
        else:
            # DRAM <-> GB: evictions up, partial sums read back on every refill but the first of each tile.
            z_g = zeros
            if held_g is not False:
                d_g = _masked(held_g, nest.distinct_outputs(fg))
                back_g = (e_g - d_g) * t_gb
                reads[_DRAM, oi] += back_g
                fills[_GB, oi] += back_g
                updates[_DRAM, oi] += e_g * t_gb
                reads[_GB, oi] += e_g * t_gb
                z_g = e_g * t_gb - back_g  # element lifetimes at GB that start from zero
            # parent <-> RF, through the array network; spatial reduction collapses the PEs' partial sums.
            z_r = zeros
            if held_r is not False:
                d_r = _masked(held_r, nest.distinct_outputs(fr))
                back_r = (e_r - d_r) * u_r
                up_r = e_r * u_r
                for lv, sel in rf_from.items():
                    _add(reads[lv, oi], sel, back_r)
                    _add(updates[lv, oi], sel, up_r)
                fills[_RF, oi] += back_r
                reads[_RF, oi] += e_r * t_rf * npe
                hops += e_r * (t_rf * npe - u_r)
                noc += (back_r + up_r) * wpj
                z_r = e_r * t_rf * npe - back_r
            # innermost -> MAC: read-modify-write per MAC, except the first touch of a zero-started lifetime.
            z_inner = _pick(held_r, z_r, _pick(held_g, z_g, t_dram))
            up_m = T * u_m * np_m
            rd_m = up_m - z_inner
            for lv, sel in mac_from.items():
                _add(reads[lv, oi], sel, rd_m)
                _add(updates[lv, oi], sel, up_m)
            hops += T * (npe - u_m * np_m)
            _add(noc, crosses_m, (rd_m + up_m) * wpj)

    # ---- validity -------------------------------------------------------------------------------------------
    reason = np.zeros(B, np.int16)
    dbuf_g, dbuf_r = mb.double_buffered[0], mb.double_buffered[1]
    # RF capacity (lowest priority: assigned first, overwritten by any higher-priority failure).
    rf_cap = np.zeros((3, B))
    for oi in reversed(range(3)):
        op = OPERANDS[oi]
        words = hw.rf_words(op)
        rf_cap[oi] = np.where(dbuf_r, words // 2, words)
        reason = np.where((mb.cut[1, oi] >= 0) & (tiles[_RF, oi] > rf_cap[oi]), CAPACITY + 3 + oi, reason)
    # GB capacity per buffer; blame the operand with the biggest tile in an overflowing shared buffer.
    nb = len(hw.buffers)
    gb_bytes = np.zeros((nb, B))
    gb_cap = np.zeros((nb, B))
    for bi in reversed(range(nb)):
        buf = hw.buffers[bi]
        blame = np.full(B, _OP[buf.operands[0]])
        biggest = np.full(B, -1.0)
        for op in buf.operands:
            oi = _OP[op]
            by = tiles[_GB, oi] * hw.word_bytes(op)
            gb_bytes[bi] += by
            blame = np.where(by > biggest, oi, blame)
            biggest = np.maximum(by, biggest)
        gb_cap[bi] = np.where(dbuf_g, buf.capacity / 2, buf.capacity)
        reason = np.where(gb_bytes[bi] > gb_cap[bi], CAPACITY + blame, reason)
    for li in reversed(range(2)):
        for oi in reversed(range(3)):
            op = OPERANDS[oi]
            absent = hw.buffer_for(op) is None if li == 0 else hw.rf_words(op) == 0
            if absent:
                reason = np.where(mb.cut[li, oi] >= 0, NO_STORAGE + 3 * li + oi, reason)
    reason = np.where(nest.cols > hw.pe_cols, FANOUT_COLS, reason)
    reason = np.where(nest.rows > hw.pe_rows, FANOUT_ROWS, reason)
    for d in reversed(range(len(DIMS))):
        reason = np.where(nest.prod[d] < nest.bounds[d], FACTOR_PRODUCT + d, reason)
    reason = np.where(_bad_structure(mb), STRUCTURE, reason)
    valid = reason == VALID

    # ---- energy ---------------------------------------------------------------------------------------------
    acc_e = np.zeros((3, 3, B))
    level_e = {}
    for li, lv in enumerate(LEVELS):
        tot = zeros
        for oi, op in enumerate(OPERANDS):
            acc_e[li, oi] = reads[li, oi] * et.read[(lv, op)] + (fills[li, oi] + updates[li, oi]) * et.write[(lv, op)]
            tot = tot + acc_e[li, oi]
        level_e[lv] = tot
    macs_computed = T * npe
    breakdown = {
        **level_e,
        "noc": noc,
        "reduction": hops * et.reduction_hop_pj,
        "mac": macs_computed * et.mac_pj,
    }
    energy_pj = zeros
    for v in breakdown.values():
        energy_pj = energy_pj + v

    # ---- cycles ---------------------------------------------------------------------------------------------
    traffic = reads + fills + updates
    t_dram = zeros
    for oi, op in enumerate(OPERANDS):
        t_dram = t_dram + traffic[_DRAM, oi] * hw.word_bytes(op)
    t_dram = t_dram / hw.system.dram_bandwidth
    t_gb = zeros
    for buf in hw.buffers:
        by = zeros
        for op in buf.operands:
            by = by + traffic[_GB, _OP[op]] * hw.word_bytes(op)
        t_gb = np.maximum(t_gb, by / buf.bandwidth)
    # DRAM transfers fill the GB: hidden behind compute only if the GB is double-buffered. GB transfers feed the
    # RFs: hidden if the RFs are double-buffered, or if no operand uses an RF (the GB streams to the MACs).
    ov_dram = dbuf_g
    ov_gb = dbuf_r | _not(any_rf)
    cycles = (
        np.maximum(np.maximum(T, np.where(ov_dram, t_dram, 0.0)), np.where(ov_gb, t_gb, 0.0))
        + np.where(ov_dram, 0.0, t_dram)
        + np.where(ov_gb, 0.0, t_gb)
    )
    edp = np.where(valid, energy_pj * cycles, np.inf)
    return CostResult(
        workload=workload,
        hw=hw,
        energy_pj=energy_pj,
        cycles=cycles,
        edp=edp,
        valid=valid,
        reason=reason,
        macs_computed=macs_computed,
        utilisation=workload.macs / (cycles * hw.num_pes),
        compute_cycles=T,
        transfer_cycles=np.stack([t_dram, t_gb]),
        reads=reads,
        fills=fills,
        updates=updates,
        access_energy=acc_e,
        tile_words=tiles,
        energy_breakdown=breakdown,
        factor_products=nest.prod,
        fanout=np.stack([nest.rows, nest.cols]),
        gb_bytes=gb_bytes,
        gb_capacity=gb_cap,
        rf_capacity=rf_cap,
    )


def _bad_structure(mb: MappingBatch) -> np.ndarray:
    """Rows violating :class:`Mapping`'s structure rules (a batch built from raw arrays is not checked on entry)."""
    L, B = mb.dim.shape
    first = np.full(B, L)  # first / last spatial slot (L / -1 if none)
    last = np.full(B, -1)
    for l in range(L - 1, -1, -1):
        sp = mb.kind[l] != 0
        first = np.where(sp, l, first)
        last = np.maximum(last, np.where(sp, l, -1))
    cg, cr = mb.cut[0].astype(np.int64), mb.cut[1].astype(np.int64)  # (3, B)
    bad = ((mb.cut < -1) | (mb.cut > L)).any(axis=(0, 1))
    bad |= ((cg >= 0) & (cg > first)).any(axis=0)
    bad |= ((cr >= 0) & (cr <= last)).any(axis=0)
    bad |= ((cg >= 0) & (cr >= 0) & (cg > cr)).any(axis=0)
    return bad


__all__ = [
    "VALID", "FACTOR_PRODUCT", "FANOUT_ROWS", "FANOUT_COLS", "NO_STORAGE", "CAPACITY", "STRUCTURE",
    "reason_text", "CostResult", "MappingCost", "evaluate",
]
