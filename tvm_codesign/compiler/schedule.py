"""A :class:`~tvm_codesign.model.mapping.Mapping` as a TVM schedule: the mapping space is also a schedule space.

:func:`apply_mapping` turns one mapping of a workload into an ``s_tir.Schedule`` on the (fused) PrimFunc:

1. the TIR loops are brought to the canonical dims (several vars of one dim are fused; a grouped conv's output
   channel loop is split into ``G`` and ``K/G``), then split by the mapping's factors > 1 per dim (imperfect
   factors give ceil splits whose padded iterations are masked by a predicate) and reordered to the mapping's nest;
2. each operand's cache stage is placed at its cut for each on-chip level (``cache_read`` for inputs and weights,
   GB then RF; the input's ``pad_temp`` is inlined into its outermost cache stage);
3. the output is cached with ``cache_write`` at each level where it is held.

**Partial-sum spills** (:func:`tvm_codesign.model.schedulability.spills_partial_sums`: a reduction loop with factor > 1
lies above an output stage's attach point, so the tile is evicted before its reduction completes) are scheduled with
``rfactor`` as an accumulating write-back. For the one reduction loop ``r`` above the spilling stage,
``sch.rfactor(r, factor_axis=0)`` turns the MAC block into an rf block that accumulates into a new buffer
``O_rf[r, ...]`` (the output's dtype; ``r`` is now a spatial axis of it) and the original block into the write-back
``O[...] += O_rf[r, ...]``, whose reduction over ``r`` carries the init ``O = 0`` at ``r``'s first iteration. The write-back
is ``reverse_compute_at``-ed to the spilling stage's attach loop and ``O_rf`` gets that level's scope: ``O_rf``
lives for one visit of the tile, so CompactBufferAllocation shrinks it to the tile, and it *is* the output's cache
buffer at that level. The write-back reads the partial sums so far in the parent level and adds the tile: the cost
model's read-back plus update. Counts (perfect factors): the write-back moves ``E·U`` words, the parent's updates;
it reads the parent ``E·U`` times, one per element and visit **including the first** (where it reads the init's
zero), while the model reads back only on the later visits, ``(E − D)·U``. So TIR's reads of the parent minus one
first visit per output element equal the model's read-backs (the spilling level's fills). ``tests/test_schedule.py``
checks this on hand-derived and random mappings (dense, convs, grouped and depthwise convs, batch matmul).

* A **GB spill** rfactors the loop above the GB stage (the write-back reads and writes the output in DRAM); an
  **RF spill** (none at GB) rfactors the loop above the RF stage, and the GB stage of the output is then made
  by ``cache_write`` of the write-back, which so accumulates into the GB tile.
* Still refused, and the cost model still charges them: **several reduction loops** above the spilling stage,
  a **GB spill with the output also held at RF**, a **spatial reduction loop** above a per-PE output stage. What
  is schedulable is decided in one place, :mod:`tvm_codesign.model.schedulability`, which the search's
  ``MappingSpace(schedulable_only=True)`` uses too: the search samples exactly the mappings this module schedules.
* Why not an in-place read-back, which would fit the model's picture at every level: TVM 0.27 has no primitive
  that reads a partial tile back into the **same** buffer the MAC block accumulates into (after
  ``decompose_reduction`` has split off the zero-init so that the MAC block reads the output). ``cache_read`` of
  the output refuses a buffer with two writers; ``read_at`` refuses a loop body whose subtree that reads the buffer
  also writes it; ``cache_inplace`` places its stages next to the block it is given, with regions in that block's
  iteration variables (one element wide around the MAC block, and unbuildable around a ``blockize``-d tile);
  ``write_at`` gives only the write-back half. A read-back written into the IR by hand would be missing from
  ``sch.trace``, which the meta_schedule database replays (:mod:`tvm_codesign.compiler.database`).
  ``tests/test_schedule.py::test_tvm_027_cannot_read_partial_sums_back_in_place`` pins these failures.

**Grouped-conv tiles that are strided** along TIR's single channel axis, and **tiles that straddle a TIR loop
boundary** of a dim made of several TIR loops (N = batch × sequence, fused here into one loop), are refused too:
TVM would cache their bounding box (see :mod:`tvm_codesign.model.schedulability`).

A cache stage is attached at the innermost *temporal* loop above its cut that indexes the operand (see
:mod:`tvm_codesign.model.loop_nest`), so that each stage moves what the cost model says the parent level sends to (or
receives from) that level: at GB, the GB tile once per change; at RF, the union of the per-PE tiles of the whole
array once per change (``docs/cost-model.md``).

Storage scopes are ``global.codesign_gb`` and ``global.codesign_rf``: custom scopes that llvm builds like global
memory, so the scheduled module runs on the CPU as a functional check of the loop structure.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import tvm
from tvm import s_tir

from tvm_codesign.errors import CodesignError
from tvm_codesign.compiler.extract import analyse_block
from tvm_codesign.model.loop_nest import attach_position
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.schedulability import spill_loop, unschedulable_reason
from tvm_codesign.model.workload import DIMS, Workload

#: Storage scope of each on-chip level's cache buffers.
SCOPES: dict[str, str] = {"GB": "global.codesign_gb", "RF": "global.codesign_rf"}

#: Annotation key put on spatial loops (value: ``spatial_rows`` / ``spatial_cols``).
SPATIAL_ANNOTATION = "codesign.spatial"


@dataclasses.dataclass(frozen=True)
class ScheduledStage:
    """One cache stage the schedule created: which operand, at which level, and its block name."""

    operand: str
    level: str
    block: str
    buffer: str  # the cache buffer the stage fills (for reads) or drains (for writes)
    kind: str  # "read", "write" or "accumulate" (the rfactor write-back of a spill: O += tile)


def schedulable_module(func: Any) -> Any:
    """A private deep copy of ``func`` as ``main`` of a new module.

    The copy matters: in TVM 0.27 a Schedule can mutate the nodes of the function it was made from, which would
    corrupt the caller's module.
    """

    func = tvm.ir.load_json(tvm.ir.save_json(func))
    if func.attrs is None or "global_symbol" not in func.attrs:
        func = func.with_attr("global_symbol", "main")
    return tvm.IRModule({"main": func})


def find_mac_block(func: Any) -> str:
    """Name of the one multiply-accumulate block of ``func`` (``CodesignError`` if none or several)."""
    from tvm_codesign.compiler.extract import _blocks  # the same walk extraction uses

    names = []
    for block in _blocks(func):
        if not block.iter_vars:
            continue
        try:
            analyse_block(func, block.name_hint)
        except CodesignError:
            continue
        names.append(block.name_hint)
    if len(names) != 1:
        raise CodesignError(f"expected one multiply-accumulate block, found {len(names)}: {', '.join(names)}")
    return names[0]


def apply_mapping(
    func: Any, workload: Workload, mapping: Mapping, block: str | None = None
) -> tuple[Any, list[ScheduledStage]]:
    """Schedule ``func`` so that its MAC block follows ``mapping``.

    Parameters
    ----------
    func
        A ``tirx.PrimFunc`` holding the workload's MAC block (e.g. a fused ``fused_conv2d_add_relu``).
    workload
        The workload ``mapping`` was made for; its signature must equal the block's.
    mapping
        The mapping to apply; every dim's factor product must cover its bound.
    block
        The MAC block's name; found automatically when ``None``.

    Returns
    -------
    (s_tir.Schedule, list[ScheduledStage])
        The schedule (``sch.mod`` is the scheduled module, ``sch.trace`` replays it) and the cache stages made.
    """

    sch = s_tir.Schedule(schedulable_module(func))
    return sch, schedule_mapping(sch, workload, mapping, block)


def schedule_mapping(sch: Any, workload: Workload, mapping: Mapping, block: str | None = None) -> list[ScheduledStage]:
    """Apply ``mapping`` in place to ``sch`` (whose ``main`` holds the MAC block); the primitives go to its trace.

    This is the template both :func:`apply_mapping` and the meta_schedule design space
    (:mod:`tvm_codesign.compiler.ms_tuning`) use, so the two stay one schedule space.
    """
    func = sch.mod["main"]
    block = block or find_mac_block(func)
    analysis = analyse_block(func, block)
    if analysis.workload.signature != workload.signature:
        raise CodesignError(
            f"block {block!r} is {analysis.workload.name}, not the workload {workload.name} the mapping is for"
        )
    mapping.check_covers(workload)
    reason = unschedulable_reason(workload, mapping)
    if reason is not None:
        raise CodesignError(f"the mapping is not schedulable yet: it {reason}")
    main = sch.get_sblock(block)
    nest = _canonical_loops(sch, main, analysis.binding)
    loop_rvs = _split_and_reorder(sch, nest, mapping, workload)
    write_back = None
    spill = spill_loop(workload, mapping)
    if spill is not None:
        # The MAC block becomes the rf block (accumulating into the spilled tile); ``write_back`` adds the tile to
        # the partial sums in the parent level.
        main, write_back, loop_rvs = _rfactor(sch, main, loop_rvs, spill[1])
    for i, loop in enumerate(mapping.loops):
        if loop.spatial and loop_rvs[i] is not None:
            sch.annotate(loop_rvs[i], SPATIAL_ANNOTATION, loop.kind)
    return _place_caches(sch, main, mapping, analysis.buffers, loop_rvs, write_back, spill[0] if spill else None)


# ------------------------------------------------------------------------------------------------------------
def _canonical_loops(sch: Any, block: Any, binding: dict) -> dict[str, Any]:
    """One loop per canonical dim that has TIR iterations: ``{dim: LoopRV}``; unit loops left outermost."""
    loops = sch.get_loops(block)
    sblock = sch.get(block)
    iter_vars = [iv.var.name for iv in sblock.iter_vars]
    if len(loops) != len(iter_vars):
        raise CodesignError(f"block {sblock.name_hint!r} is not a perfect loop nest; cannot apply a mapping")
    per_dim: dict[str, list[Any]] = {d: [] for d in DIMS}
    for loop, var in zip(loops, iter_vars):
        parts = binding[var]
        if len(parts) == 1:
            per_dim[parts[0][0]].append(loop)
        else:  # grouped conv: the output-channel loop is (G, K/G)
            split = sch.split(loop, [extent for _, extent in parts])
            for (dim, _), rv in zip(parts, split):
                per_dim[dim].append(rv)
    ordered = [rv for d in DIMS for rv in per_dim[d]]
    if len(ordered) > 1:
        sch.reorder(*ordered)
    nest: dict[str, Any] = {}
    for d in DIMS:
        rvs = per_dim[d]
        if len(rvs) == 1:
            nest[d] = rvs[0]
        elif len(rvs) > 1:
            nest[d] = sch.fuse(*rvs)
    return nest


def _split_and_reorder(sch: Any, nest: dict[str, Any], mapping: Mapping, workload: Workload) -> list[Any]:
    """Split each dim's loop by the mapping's factors and reorder to the mapping's nest; one LoopRV per loop of
    factor > 1 (``None`` for factor-1 loops, which change nothing and get no TIR loop)."""
    rvs: list[Any] = [None] * len(mapping.loops)
    unit_tir_loops: list[Any] = []
    for d in DIMS:
        positions = [i for i, l in enumerate(mapping.loops) if l.dim == d and l.factor > 1]
        if d not in nest:
            if positions:
                # A dim the TIR does not iterate has bound 1: factors > 1 would only compute padding.
                raise CodesignError(f"dim {d} has no TIR loop (bound 1) but the mapping gives it factors > 1")
            continue
        if not positions:
            if getattr(workload, d) != 1:
                raise CodesignError(f"the mapping has no loop over {d} (bound {getattr(workload, d)})")
            unit_tir_loops.append(nest[d])
            continue
        # Factor-1 loops are not split off: a unit loop inside a stage hides the predicate of a padded split from
        # TVM's region analysis on fused loops (a whole-dim tile of a fused [16, 31] padded to 500 was cached as
        # 17 x 31 and written out of bounds), and a unit *reduction* loop above a cache stage would make TVM keep
        # that stage's buffer at full size (it cannot tell the reduction is trivial).
        factors = [mapping.loops[i].factor for i in positions]
        split = [nest[d]] if len(factors) == 1 else sch.split(nest[d], factors, preserve_unit_iters=True)
        for i, rv in zip(positions, split):
            rvs[i] = rv
    ordered = [rv for rv in rvs if rv is not None] + unit_tir_loops
    if len(ordered) > 1:
        sch.reorder(*ordered)
    return rvs


def _rfactor(sch: Any, main: Any, loop_rvs: list[Any], position: int) -> tuple[Any, Any, list[Any]]:
    """``rfactor`` the loop at mapping ``position``: ``(rf block, write-back block, loop_rvs of the rf block)``.

    The rf block keeps the loop nest (the factored loop becomes spatial: one partial-sum tile per iteration); the
    original block becomes the write-back ``O[...] += rf[k, ...]`` in a nest of its own, which
    :func:`_place_caches` moves to the spilling stage's attach loop. The old LoopRVs do not survive rfactor reliably,
    so the rf block's loops are looked up again by their index in the nest (rfactor keeps the order).
    """
    loops = [sch.get(rv) for rv in sch.get_loops(main)]
    index = [None if rv is None else next(j for j, l in enumerate(loops) if l.same_as(sch.get(rv))) for rv in loop_rvs]
    rf_block = sch.rfactor(loop_rvs[position], factor_axis=0)
    rf_loops = sch.get_loops(rf_block)
    return rf_block, main, [None if j is None else rf_loops[j] for j in index]


def _attach_rv(loop_rvs: list[Any], mapping: Mapping, position: int) -> Any:
    """The LoopRV of a mapping position, skipping outward past loops the TIR does not have (bound-1 dims)."""
    for i in range(position, -1, -1):
        if loop_rvs[i] is not None:
            return loop_rvs[i]
    return None


def _read_index(sch: Any, block: Any, buffer_name: str) -> int:
    for i, region in enumerate(sch.get(block).reads):
        if region.source.name == buffer_name:
            return i
    raise CodesignError(f"block does not read buffer {buffer_name!r}")


def _place_caches(
    sch: Any,
    main: Any,
    mapping: Mapping,
    buffers: dict[str, str],
    loop_rvs: list[Any],
    write_back: Any = None,
    spill_level: str | None = None,
) -> list[ScheduledStage]:
    stages: list[ScheduledStage] = []
    top: list[Any] = []

    def attach_loop(operand: str, cut: int) -> Any:
        """The loop to attach a stage at; a stage filled once goes under a unit loop above the whole nest
        (at the root, cache_read would copy the whole buffer rather than the region the nest touches)."""
        at = _attach_rv(loop_rvs, mapping, attach_position(mapping, operand, cut))
        if at is None:
            if not top:
                top.append(sch.add_unit_loop(sch.get_loops(main)[0]))
            at = top[0]
        return at

    # Inputs and weights: GB (outer) first, so the RF stage reads from the GB copy.
    for operand in ("I", "W"):
        source = buffers[operand]
        first_stage = None
        for level in ("GB", "RF"):
            cut = mapping.cut(level, operand)
            if cut is None:
                continue
            cache = sch.cache_read(main, _read_index(sch, main, source), SCOPES[level])
            _attach(sch, cache, attach_loop(operand, cut), reverse=False)
            source = sch.get(cache).writes[0].source.name
            stages.append(ScheduledStage(operand, level, sch.get(cache).name_hint, source, "read"))
            first_stage = first_stage or cache
        if operand == "I" and first_stage is not None:
            _inline_padding(sch, first_stage)
    # Outputs: write-back stages, outer level first so the RF stage writes into the GB copy.
    out_stages: dict[str, ScheduledStage] = {}
    if write_back is not None:
        # rfactor's buffer is the spilled tile; its write-back reads the partial sums so far from the parent level
        # and adds the tile (the read-modify-write the cost model charges as read-back + update). Placed first, so
        # that a GB stage above an RF spill is made from (and drains) the write-back.
        sch.set_scope(main, 0, SCOPES[spill_level])
        _attach(sch, write_back, attach_loop("O", mapping.cut(spill_level, "O")), reverse=True)
        buffer = sch.get(main).writes[0].source.name
        out_stages[spill_level] = ScheduledStage("O", spill_level, sch.get(write_back).name_hint, buffer, "accumulate")
    for level in ("GB", "RF"):
        cut = mapping.cut(level, "O")
        if cut is None or level in out_stages:
            continue
        # Below a GB spill the RF stage drains the rf block; above an RF spill the GB stage drains the write-back.
        writer = write_back if spill_level == "RF" else main
        wb = sch.cache_write(writer, 0, SCOPES[level])
        _attach(sch, wb, attach_loop("O", cut), reverse=True)
        wb_block = sch.get(wb)
        out_stages[level] = ScheduledStage("O", level, wb_block.name_hint, wb_block.reads[0].source.name, "write")
    stages += [out_stages[level] for level in ("GB", "RF") if level in out_stages]
    return stages


def _attach(sch: Any, block: Any, loop: Any, reverse: bool) -> None:
    """``compute_at`` (or ``reverse_compute_at``) unless the block already sits directly in that loop.

    TVM inserts a second-level cache stage where the first level's tile lives; when both levels attach at the
    same loop it is already in place, and moving a block to an enclosing loop is an error.
    """
    target = sch.get(loop)
    if any(sch.get(rv).same_as(target) for rv in sch.get_loops(block)):
        return
    if reverse:
        sch.reverse_compute_at(block, loop, preserve_unit_loops=True)
    else:
        sch.compute_at(block, loop, preserve_unit_loops=True)


def _inline_padding(sch: Any, cache: Any) -> None:
    """Inline a ``pad_temp``-style producer of the input into its cache stage (padding happens on the fill)."""
    for producer in sch.get_producers(cache):
        sblock = sch.get(producer)
        if len(sblock.reads) == 1 and not any(int(iv.iter_type) == 2 for iv in sblock.iter_vars):
            try:
                sch.compute_inline(producer)
            except Exception:  # noqa: BLE001 - not inlinable (e.g. an output): keep it as a separate stage
                pass
