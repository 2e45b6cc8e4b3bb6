"""Which mappings the TVM schedule template turns into a faithful schedule: the one rule the search and the
compiler share.

:func:`check` judges a whole :class:`~tvm_codesign.model.mapping.MappingBatch` at once (the search's
``MappingSpace(schedulable_only=True)`` asks it about thousands of genomes); :func:`unschedulable_reason` asks it
about one mapping and says why in one line (:func:`tvm_codesign.compiler.schedule.apply_mapping` refuses with it). Nothing
else decides schedulability, so the space the search draws from and the mappings the compiler accepts cannot drift
apart. Pure numpy, no TVM.

A mapping is refused (:class:`Reason`) when

1. its output **spills partial sums** in a way ``rfactor`` cannot schedule. A spill: a reduction loop (factor
   > 1) lies above an output stage's attach point (:mod:`tvm_codesign.model.loop_nest`), so the tile is evicted before
   its reduction completes. The schedule rfactors the one temporal reduction loop above a spilling stage, at GB
   (the output bypassing RF) or at RF (no GB spill) (:mod:`tvm_codesign.compiler.schedule`). Refused: **several** reduction
   loops above the spilling stage (rfactor factors one; a second would revisit the rf tile after its write-back);
   a **GB spill with the output also held at RF** (each RF tile would start from zero and never read back the
   partial sums the cost model charges it); a **spatial** reduction loop above a per-PE output stage (each PE would
   drain its own partial sums, where the model reduces them in the array);
2. a tile of a grouped or depthwise conv is **strided** along TIR's one channel axis ``g·(K/G) + k``: it spans
   several groups (a G loop of factor > 1 inside the stage) but only part of ``K/G`` (a K loop of factor > 1 above
   it; C for the input). TVM caches the bounding box: more than the tile, and for an output a write-back that
   overwrites outputs the tile never computed. Nor may such a conv **pad** the per-group channels of an operand it
   caches (K's factors multiplying to more than ``K/G`` with W or O held on chip; C's with I held): the padded
   channels of a group's last tile are the next group's first ones, and TVM clips a tile only at the tensor's end,
   so the write-back overwrote the next group's outputs (found by the schedule fuzzer: a K/G = 3 split 2 x 2);
3. a tile **straddles a TIR loop boundary** of a canonical dim made of several TIR loops
   (:attr:`~tvm_codesign.model.workload.Workload.tir_loops`: N = batch × sequence of a 3-D MatMul, G = batch × heads of
   a 4-D batch matmul). The schedule fuses those loops into one and splits it by the mapping's factors; a stage's
   tile of ``t`` consecutive fused indices starting at a multiple of ``t`` is a box of the TIR loops only when it is
   *aligned*: for loops ``(n_1, …, n_m)`` outer to inner with ``s_j = n_j ⋯ n_m``, ``t = a·s_{j+1}`` with
   ``a | n_j`` for some ``j`` (``a`` is free for the outermost loop, whose last tile TVM clips), or ``t`` covers the
   whole dim. Any other tile (e.g. 2 rows of ``[16, 31]``: rows 30 and 31 are ``(0, 30)`` and ``(1, 0)``) is cached
   as its bounding box, and the write-back overwrites outputs the tile never computed (wrong results) -- so it is
   refused, and the search never samples it. Over three or more TIR loops (a 4-D MatMul's N) TVM 0.27's region
   analysis also over-approximates some aligned tiles, so there only tiles holding the whole dim are kept.
"""

from __future__ import annotations

import dataclasses
import enum
import math

import numpy as np

from tvm_codesign.model.loop_nest import attach_points, one_mapping_batch
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.mapping import ON_CHIP, Mapping
from tvm_codesign.model.workload import DIMS, OPERAND_DIMS, OPERANDS, REDUCTION_DIMS, Workload

_REDUCTION = np.isin(np.arange(len(DIMS)), [DIMS.index(d) for d in REDUCTION_DIMS])
_O = OPERANDS.index("O")
#: Operand and the channel dim whose part a strided group tile holds (grouped and depthwise convs).
_GROUP_INNER = (("O", "K"), ("W", "K"), ("I", "C"))


class Reason(enum.IntEnum):
    """Why a mapping is not schedulable (0: it is)."""

    SCHEDULABLE = 0
    SPILL_OVER_SEVERAL_LOOPS = 1
    SPILL_AT_GB_AND_RF = 2
    SPILL_ACROSS_SPATIAL_REDUCTION = 3
    STRIDED_GROUP_TILE = 4
    STRADDLES_TIR_LOOPS = 5
    PADDED_GROUP_CHANNELS = 6


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What :func:`check` found for a batch of ``B`` mappings.

    Attributes
    ----------
    reason
        ``(B,)`` int8 :class:`Reason` codes; 0 where the mapping is schedulable.
    spill_level
        ``(B,)`` int8: for a schedulable partial-sum spill, the index into :data:`~tvm_codesign.model.mapping.ON_CHIP`
        of the spilling level (0 GB, 1 RF); -1 where the output does not spill (or the mapping is refused).
    spill_position
        ``(B,)`` int64 nest position of the reduction loop the schedule rfactors (-1 where ``spill_level`` is).
    """

    reason: np.ndarray
    spill_level: np.ndarray
    spill_position: np.ndarray

    @property
    def schedulable(self) -> np.ndarray:
        """``(B,)`` bool."""
        return self.reason == Reason.SCHEDULABLE


def _reductions(batch: MappingBatch) -> tuple[np.ndarray, np.ndarray]:
    """``(L, B)`` the reduction loops of factor > 1, and ``(L + 1, B)`` how many of them lie above each position."""
    L, B = batch.dim.shape
    red = _REDUCTION[batch.dim] & (batch.factor > 1)
    above = np.zeros((L + 1, B), np.int32)
    np.cumsum(red, axis=0, out=above[1:])
    return red, above


def _reductions_above(above: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``(B,)`` reduction loops above attach points ``at`` (0 for -1), from :func:`_reductions`' count table."""
    return np.where(at >= 0, above[np.maximum(at, 0), np.arange(len(at))], 0)


def _grouped(workload: Workload) -> bool:
    """A grouped or depthwise conv with several groups: TIR's one channel axis is ``g·(K/G) + k``."""
    return workload.G > 1 and workload.op in ("group_conv2d", "depthwise_conv2d")


def _output_spills(batch: MappingBatch) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    """Per on-chip level: ``(B,)`` reduction loops (factor > 1) above the output stage's attach point (0 where the
    output bypasses the level: it spills there when > 0), and whether the output is held there; plus the nest
    position of each mapping's first reduction loop (-1: none) and whether it is spatial."""
    B = len(batch)
    red, above = _reductions(batch)
    counts, held = [], []
    for li in range(len(ON_CHIP)):
        cut = batch.cut[li, _O].astype(np.int64)
        counts.append(_reductions_above(above, attach_points(batch, "O", cut)))
        held.append(cut >= 0)
    first = np.where(red.any(axis=0), red.argmax(axis=0), -1)
    first_spatial = (first >= 0) & (batch.kind[np.maximum(first, 0), np.arange(B)] != 0)
    return counts, held, first, first_spatial


def _strided_group_tiles(workload: Workload, batch: MappingBatch) -> dict[tuple[str, str], np.ndarray]:
    """``{(operand, level): (B,) bool}``: the stage's tile spans several groups but part of K (C for inputs)."""
    out: dict[tuple[str, str], np.ndarray] = {}
    if not _grouped(workload):
        return out
    L, B = batch.dim.shape
    big = batch.factor > 1
    is_g = (batch.dim == DIMS.index("G")) & big
    last_g = np.where(is_g.any(axis=0), L - 1 - is_g[::-1].argmax(axis=0), -1)
    for op, inner in _GROUP_INNER:
        hit = (batch.dim == DIMS.index(inner)) & big
        first_inner = np.where(hit.any(axis=0), hit.argmax(axis=0), L)
        for li, level in enumerate(ON_CHIP):
            cut = batch.cut[li, OPERANDS.index(op)].astype(np.int64)
            at = attach_points(batch, op, cut)
            # A G loop below the attach point (inside the stage) and a K loop at or above it (outside).
            out[op, level] = (cut >= 0) & (last_g > at) & (first_inner <= at)
    return out


def _padded_group_channels(workload: Workload, batch: MappingBatch) -> dict[tuple[str, str], np.ndarray]:
    """``{(operand, dim): (B,) bool}``: a grouped conv pads the per-group channels (K, or C for the input) while
    the operand has a cache stage at some on-chip level."""
    out: dict[tuple[str, str], np.ndarray] = {}
    if not _grouped(workload):
        return out
    for op, inner in _GROUP_INNER:
        bound = getattr(workload, inner)
        covered = np.prod(np.where(batch.dim == DIMS.index(inner), batch.factor, 1), axis=0)
        held = (batch.cut[:, OPERANDS.index(op)] >= 0).any(axis=0)
        out[op, inner] = held & (covered > bound)
    return out


def aligned_tile(extent: np.ndarray, loops: tuple[int, ...]) -> np.ndarray:
    """Whether tiles of ``extent`` consecutive fused indices of a dim made of TIR loops ``loops`` (outer to inner)
    are boxes of those loops that TVM schedules exactly: ``extent = a·s_{j+1}`` with ``a | n_j`` (any ``a`` for the
    outermost loop), or ``extent`` covers the whole dim; over three or more loops only the whole dim. Vectorised
    over ``extent``."""
    t = np.asarray(extent, np.int64)
    ok = t >= math.prod(loops)
    if len(loops) > 2:
        # Three or more loops: TVM 0.27's region analysis does not see through ``(v % 64) // 32`` and caches (and
        # writes back) more than some aligned tiles hold -- a tile of 8 of N = 2 x 2 x 32 wrote back both values
        # of the middle loop (found by the schedule fuzzer) -- so only the whole dim is a safe tile there.
        return ok
    for j, n in enumerate(loops):
        inner = math.prod(loops[j + 1 :])
        a, rest = np.divmod(t, inner)
        ok |= (rest == 0) & (a >= 1) & ((j == 0) | (n % np.maximum(a, 1) == 0))
    return ok


def _straddling_tiles(workload: Workload, batch: MappingBatch) -> dict[tuple[str, str, str], np.ndarray]:
    """``{(operand, level, dim): (B,) bool}``: the stage's tile of a dim made of several TIR loops straddles one
    of their boundaries (see :func:`aligned_tile`)."""
    out: dict[tuple[str, str, str], np.ndarray] = {}
    if not workload.tir_loops:
        return out
    L, B = batch.dim.shape
    cols = np.arange(B)
    for dim, loops in workload.tir_loops:
        # suffix[p] = product of the dim's factors at positions >= p: the stage attached at p - 1 holds that much.
        f = np.where(batch.dim == DIMS.index(dim), batch.factor, 1)
        suffix = np.ones((L + 1, B), np.int64)
        for l in range(L - 1, -1, -1):
            suffix[l] = suffix[l + 1] * f[l]
        for op in OPERANDS:
            if dim not in OPERAND_DIMS[op]:
                continue
            for li, level in enumerate(ON_CHIP):
                cut = batch.cut[li, OPERANDS.index(op)].astype(np.int64)
                at = attach_points(batch, op, cut)
                out[op, level, dim] = (cut >= 0) & ~aligned_tile(suffix[at + 1, cols], loops)
    return out


def check(workload: Workload, batch: MappingBatch) -> Verdict:
    """Judge every mapping of ``batch`` (mappings of ``workload``): the :class:`Verdict`, vectorised."""
    B = len(batch)
    reason = np.zeros(B, np.int8)
    if batch.slots == 0:  # no loops at all: nothing spills, every tile is the whole (unit) workload
        none = np.full(B, -1)
        return Verdict(reason, none.astype(np.int8), none.astype(np.int64))

    def refuse(mask: np.ndarray, why: Reason) -> None:
        reason[(reason == 0) & mask] = why  # the first reason found is the one reported

    counts, held, first, first_spatial = _output_spills(batch)
    gb_spills, rf_spills = counts[0] > 0, counts[1] > 0
    refuse(gb_spills & held[1], Reason.SPILL_AT_GB_AND_RF)
    spilled = np.where(gb_spills, counts[0], counts[1])  # the spilling level: GB if it spills, else RF
    spills = gb_spills | rf_spills
    refuse(spills & (spilled > 1), Reason.SPILL_OVER_SEVERAL_LOOPS)
    # With one reduction loop above the spilling stage, it is the nest's first reduction loop.
    refuse(spills & first_spatial, Reason.SPILL_ACROSS_SPATIAL_REDUCTION)
    for mask in _strided_group_tiles(workload, batch).values():
        refuse(mask, Reason.STRIDED_GROUP_TILE)
    for mask in _padded_group_channels(workload, batch).values():
        refuse(mask, Reason.PADDED_GROUP_CHANNELS)
    for mask in _straddling_tiles(workload, batch).values():
        refuse(mask, Reason.STRADDLES_TIR_LOOPS)
    scheduled_spill = spills & (reason == 0)
    level = np.where(scheduled_spill, np.where(gb_spills, 0, 1), -1).astype(np.int8)
    return Verdict(reason, level, np.where(scheduled_spill, first, -1))


def unschedulable_reason(workload: Workload, mapping: Mapping) -> str | None:
    """Why :func:`tvm_codesign.compiler.schedule.apply_mapping` cannot turn ``mapping`` into a faithful schedule (one line,
    to follow "the mapping ..."), or ``None`` if it can. The verdict is :func:`check`'s."""
    batch = one_mapping_batch(mapping)
    why = Reason(int(check(workload, batch).reason[0]))
    if why == Reason.SCHEDULABLE:
        return None
    if why == Reason.SPILL_AT_GB_AND_RF:
        return (
            "spills partial sums at GB and RF (the output is held at RF below a GB spill; rfactor adds partial "
            "sums only on the GB write-back, so RF would not read them back as the cost model charges)"
        )
    counts, _, _, _ = _output_spills(batch)
    level = "GB" if counts[0][0] > 0 else "RF"
    if why == Reason.SPILL_OVER_SEVERAL_LOOPS:
        at = attach_points(batch, "O", batch.cut[ON_CHIP.index(level), _O].astype(np.int64))[0]
        loops = [l for l in mapping.loops[: max(at, 0)] if l.dim in REDUCTION_DIMS and l.factor > 1]
        dims = ", ".join(f"{l.dim}{l.factor}" for l in loops)
        return f"spills partial sums at {level} over {len(loops)} reduction loops ({dims}); rfactor takes one"
    if why == Reason.SPILL_ACROSS_SPATIAL_REDUCTION:
        return f"spills partial sums at {level} across a spatial reduction loop above the per-PE output stage"
    if why == Reason.STRIDED_GROUP_TILE:
        op, lv = next(k for k, m in _strided_group_tiles(workload, batch).items() if m[0])
        inner = dict(_GROUP_INNER)[op]
        return f"{op} tile at {lv} spans several groups but part of {inner} (strided channels)"
    if why == Reason.PADDED_GROUP_CHANNELS:
        op, inner = next(k for k, m in _padded_group_channels(workload, batch).items() if m[0])
        covered = math.prod(l.factor for l in mapping.loops if l.dim == inner)
        return (
            f"pads the per-group channels {inner} = {getattr(workload, inner)} to {covered} while caching {op}: "
            f"the padding is the next group's channels, which TVM's cache stage would overwrite"
        )
    op, lv, dim = next(k for k, m in _straddling_tiles(workload, batch).items() if m[0])
    loops = dict(workload.tir_loops)[dim]
    at = attach_points(batch, op, batch.cut[ON_CHIP.index(lv), OPERANDS.index(op)].astype(np.int64))[0]
    extent = math.prod(l.factor for l in mapping.loops[at + 1 :] if l.dim == dim)
    shape = " x ".join(map(str, loops))
    if len(loops) > 2:
        return (
            f"holds {extent} of {dim} = {shape} in its {op} tile at {lv}: over three or more TIR loops TVM 0.27's "
            f"region analysis is exact only for tiles of the whole dim"
        )
    return (
        f"holds {extent} of {dim} = {shape} in its {op} tile at {lv}, which straddles a boundary of the TIR loops "
        f"({shape}) that make {dim}: TVM would cache the bounding box and write back outputs the tile never computed"
    )


def spill_loop(workload: Workload, mapping: Mapping) -> tuple[str, int] | None:
    """``(level, position)`` of the reduction loop the schedule rfactors for a schedulable partial-sum spill;
    ``None`` when the output does not spill or the mapping is refused (:func:`check`)."""
    verdict = check(workload, one_mapping_batch(mapping))
    level = int(verdict.spill_level[0])
    return None if level < 0 else (ON_CHIP[level], int(verdict.spill_position[0]))


def spills_partial_sums(mapping: Mapping, cut: int) -> bool:
    """Whether an output tile cut at ``cut`` is evicted before its reduction completes (read back later): a
    reduction loop of factor > 1 lies above the stage's attach point."""
    batch = one_mapping_batch(mapping)
    return bool(_reductions_above(_reductions(batch)[1], attach_points(batch, "O", np.array([cut])))[0] > 0)


__all__ = [
    "Reason",
    "Verdict",
    "aligned_tile",
    "check",
    "spill_loop",
    "spills_partial_sums",
    "unschedulable_reason",
]
