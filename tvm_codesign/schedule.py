"""A :class:`~tvm_codesign.mapping.Mapping` as a TVM schedule: the mapping space is also a schedule space.

:func:`apply_mapping` turns one mapping of a workload into an ``s_tir.Schedule`` on the (fused) PrimFunc:

1. the TIR loops are brought to the canonical dims (several vars of one dim are fused; a grouped conv's output
   channel loop is split into ``G`` and ``K/G``), then split by the mapping's factors per dim (imperfect factors
   give ceil splits whose padded iterations are masked by a predicate) and reordered to the mapping's nest;
2. each operand's cache stage is placed at its cut for each on-chip level (``cache_read`` for inputs and weights,
   GB then RF; the input's ``pad_temp`` is inlined into its outermost cache stage);
3. the output is cached with ``cache_write`` at each level where it is held.

**Not schedulable yet** (:func:`unschedulable_reason` tells; :func:`apply_mapping` raises
:class:`CodesignError`; the cost model still evaluates them, and searches that must emit a schedule can stay in the
schedulable space):

* partial-sum spills (:func:`spills_partial_sums`): where a reduction loop lies above an output stage's attach
  point, the tile is evicted before its reduction completes and must be read back later. A faithful schedule
  needs, at the attach loop, a stage that reads the partial tile back into the **same** cache buffer the MAC
  block accumulates into (then the write-back). TVM 0.27 has no primitive that builds it (after
  ``decompose_reduction`` has split off the zero-init so that the MAC block reads the output):

  - ``cache_read`` of the output refuses a buffer with two writers (the init and the update block);
  - ``read_at`` refuses a loop body whose subtree that reads the buffer also writes it;
  - ``cache_inplace`` places its stages right next to the block it is given, with regions written in that
    block's own iteration variables: around the MAC block they are one element wide and ``compute_at`` cannot
    move them out (the read stage is not the only writer of the cache buffer); around a ``blockize``-d tile
    they sit at the right loop but use the tile block's variables outside it, and the module does not build;
  - ``write_at`` does give the write-back at the attach loop; the read-back is the missing half;
  - ``rfactor`` of the reduction loops above the tile would accumulate on the write-back into an intermediate
    buffer per factored loop, one loop at a time: not the read-modify-write the cost model charges.

  A read-back stage written into the IR by hand (outside the schedule primitives) would not be in ``sch.trace``,
  which the meta_schedule database replays (:mod:`tvm_codesign.database`). So spilling mappings are excluded, and
  ``tests/test_schedule.py::test_tvm_027_cannot_read_partial_sums_back_in_place`` fails as soon as a TVM
  upgrade makes one of these routes work. The cost model still charges spills
  (``docs/cost-model.md``), so searches that only score mappings may use them;
* grouped-conv tiles that are strided along TIR's single channel axis (see :func:`unschedulable_reason`).

A cache stage is attached at the innermost *temporal* loop above its cut that indexes the operand (see
:func:`attach_position`), so that each stage moves what the cost model says the parent level sends to (or
receives from) that level: at GB, the GB tile once per change; at RF, the union of the per-PE tiles of the whole
array once per change (``docs/cost-model.md``).

Storage scopes are ``global.codesign_gb`` and ``global.codesign_rf``: custom scopes that llvm builds like global
memory, so the scheduled module runs on the CPU as a functional check of the loop structure.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .errors import CodesignError
from .extract import analyse_block
from .mapping import Mapping
from .workload import DIMS, OPERAND_DIMS, REDUCTION_DIMS, Workload

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
    kind: str  # "read" or "write"


def schedulable_module(func: Any) -> Any:
    """A private deep copy of ``func`` as ``main`` of a new module.

    The copy matters: in TVM 0.27 a Schedule can mutate the nodes of the function it was made from, which would
    corrupt the caller's module.
    """
    import tvm

    func = tvm.ir.load_json(tvm.ir.save_json(func))
    if func.attrs is None or "global_symbol" not in func.attrs:
        func = func.with_attr("global_symbol", "main")
    return tvm.IRModule({"main": func})


def find_mac_block(func: Any) -> str:
    """Name of the one multiply-accumulate block of ``func`` (``CodesignError`` if none or several)."""
    from .extract import _blocks  # the same walk extraction uses

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
    from tvm import s_tir

    sch = s_tir.Schedule(schedulable_module(func))
    return sch, schedule_mapping(sch, workload, mapping, block)


def schedule_mapping(sch: Any, workload: Workload, mapping: Mapping, block: str | None = None) -> list[ScheduledStage]:
    """Apply ``mapping`` in place to ``sch`` (whose ``main`` holds the MAC block); the primitives go to its trace.

    This is the template both :func:`apply_mapping` and the meta_schedule design space
    (:mod:`tvm_codesign.ms_tuning`) use, so the two stay one schedule space.
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
    for i, loop in enumerate(mapping.loops):
        if loop.spatial and loop_rvs[i] is not None:
            sch.annotate(loop_rvs[i], SPATIAL_ANNOTATION, loop.kind)
    return _place_caches(sch, main, mapping, analysis.buffers, loop_rvs)


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
    """Split each dim's loop by the mapping's factors and reorder to the mapping's nest; one LoopRV per loop."""
    rvs: list[Any] = [None] * len(mapping.loops)
    unit_tir_loops: list[Any] = []
    for d in DIMS:
        positions = [i for i, l in enumerate(mapping.loops) if l.dim == d]
        if d not in nest:
            if any(mapping.loops[i].factor != 1 for i in positions):
                # A dim the TIR does not iterate has bound 1: factors > 1 would only compute padding.
                raise CodesignError(f"dim {d} has no TIR loop (bound 1) but the mapping gives it factors > 1")
            continue
        if not positions:
            if getattr(workload, d) != 1:
                raise CodesignError(f"the mapping has no loop over {d} (bound {getattr(workload, d)})")
            unit_tir_loops.append(nest[d])
            continue
        factors = [mapping.loops[i].factor for i in positions]
        split = [nest[d]] if len(factors) == 1 else sch.split(nest[d], factors, preserve_unit_iters=True)
        for i, rv in zip(positions, split):
            rvs[i] = rv
    # Unit loops go innermost: they change nothing, but a unit *reduction* loop above a cache stage would make
    # TVM keep that stage's buffer at full size (it cannot tell the reduction is trivial).
    loops = [(rv, mapping.loops[i].factor) for i, rv in enumerate(rvs) if rv is not None]
    ordered = [rv for rv, f in loops if f > 1] + [rv for rv, f in loops if f == 1] + unit_tir_loops
    if len(ordered) > 1:
        sch.reorder(*ordered)
    return rvs


def attach_position(mapping: Mapping, operand: str, cut: int) -> int:
    """Index of the innermost *temporal* loop above ``cut`` that indexes ``operand`` (-1: filled once).

    Loops between that one and the cut do not change the tile: attaching there leaves the data the stage moves
    unchanged and moves it once per change, as the cost model counts refetches. Spatial loops are never attach
    points: the PEs they unroll hold their tiles at the same time, so the stage above them moves the **union** of
    the per-PE tiles — multicast where a spatial loop does not index the operand, sliding-window overlap where it
    does — which is what the cost model charges the parent level for feeding (or draining) the array.
    """
    dims = OPERAND_DIMS[operand]
    for i in range(cut - 1, -1, -1):
        loop = mapping.loops[i]
        if loop.dim in dims and loop.factor > 1 and not loop.spatial:
            return i
    return -1


def unschedulable_reason(workload: Workload, mapping: Mapping) -> str | None:
    """Why :func:`apply_mapping` cannot turn ``mapping`` into a faithful schedule, or ``None`` if it can.

    Two cases are not schedulable yet:

    * a **partial-sum spill** (see :func:`spills_partial_sums`): TVM 0.27's primitives cannot read a spilled tile
      back into the buffer the MAC block accumulates into (the module docstring lists what fails and why);
    * a **strided channel tile** in a grouped conv: TIR has one channel axis ``g·(K/G) + k`` (``g·(C/G) + c`` for
      the input), so a tile that spans several groups but only part of ``K/G`` is strided. TVM caches the
      bounding box: more than the tile for reads and, for an output, a write-back that overwrites outputs the
      tile never computed. It happens when a G loop with factor > 1 lies below a stage's attach point while a
      K (or C) loop with factor > 1 lies above it.
    """
    for level in ("GB", "RF"):
        cut = mapping.cut(level, "O")
        if cut is not None and spills_partial_sums(mapping, cut):
            return f"spills partial sums at {level} (a reduction loop above the output tile)"
    if workload.G > 1 and workload.op in ("group_conv2d", "depthwise_conv2d"):
        for operand, inner in (("O", "K"), ("W", "K"), ("I", "C")):
            for level in ("GB", "RF"):
                cut = mapping.cut(level, operand)
                if cut is None:
                    continue
                attach = attach_position(mapping, operand, cut)
                above, below = mapping.loops[: attach + 1], mapping.loops[attach + 1 :]
                if any(l.dim == "G" and l.factor > 1 for l in below) and any(
                    l.dim == inner and l.factor > 1 for l in above
                ):
                    return f"{operand} tile at {level} spans several groups but part of {inner} (strided channels)"
    return None


def spills_partial_sums(mapping: Mapping, cut: int) -> bool:
    """Whether an output tile cut at ``cut`` is evicted before its reduction completes (read back later).

    True when a reduction loop (factor > 1) lies above the stage's :func:`attach_position`: a temporal one
    revisits the tile after eviction; a spatial one above a stage attached below the spatial loops would make each
    PE's stage drain its own partial sums into the parent. Neither is schedulable in TVM 0.27 (module docstring).
    """
    attach = attach_position(mapping, "O", cut)
    return any(l.dim in REDUCTION_DIMS and l.factor > 1 for l in mapping.loops[: max(attach, 0)])


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
    sch: Any, main: Any, mapping: Mapping, buffers: dict[str, str], loop_rvs: list[Any]
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
    for level in ("GB", "RF"):
        cut = mapping.cut(level, "O")
        if cut is None:
            continue
        wb = sch.cache_write(main, 0, SCOPES[level])
        _attach(sch, wb, attach_loop("O", cut), reverse=True)
        wb_block = sch.get(wb)
        stages.append(ScheduledStage("O", level, wb_block.name_hint, wb_block.reads[0].source.name, "write"))
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


# ------------------------------------------------------------------------------------------------------------
def lowered_buffer_sizes(mod: Any) -> dict[str, int]:
    """Elements of every allocated buffer after the passes that size cache buffers to their tiles.

    Runs ``LowerInitBlock, PlanAndUpdateBufferAllocationLocation, ConvertBlocksToOpaque,
    CompactBufferAllocation`` (see the TVM 0.27 notes) and reads the allocations off the result.
    """
    import tvm
    import tvm_ffi
    from tvm import s_tir, tirx

    passes = [
        s_tir.transform.LowerInitBlock(),
        s_tir.transform.PlanAndUpdateBufferAllocationLocation(),
        s_tir.transform.ConvertBlocksToOpaque(),
        s_tir.transform.CompactBufferAllocation(),
    ]
    lowered = tvm.transform.Sequential(passes)(mod)
    sizes: dict[str, int] = {}

    def visit(block: Any) -> None:
        for buf in block.alloc_buffers:
            sizes[buf.name] = math.prod(int(x) for x in buf.shape)

    tvm_ffi.structural_walk(lowered["main"].body, (s_tir.SBlock, visit), order="pre")
    del tirx
    return sizes


def stage_transfer_counts(mod: Any) -> dict[str, int]:
    """Elements each block moves in one run: the product of all loop extents around it, predicates ignored.

    For a cache stage this is (number of fills) × (tile elements), the quantity the cost model counts as a
    level's fills or write-backs.
    """
    from tvm.sym.analyzer import Analyzer

    counts: dict[str, int] = {}
    analyzer = Analyzer()

    def extent(loop: Any) -> int:
        # A boundary tile of an imperfect split has an extent like min(f, n - i*f): count its full size, the
        # padded tile the cost model charges (hardware with fixed tile sizes moves it too).
        if type(loop.extent).__name__ == "IntImm":
            return int(loop.extent)
        return int(analyzer.const_int_bound(loop.extent).max_value)

    def walk(stmt: Any, trips: int) -> None:
        kind = type(stmt).__name__
        if kind == "For":
            walk(stmt.body, trips * extent(stmt))
        elif kind == "SeqStmt":
            for s in stmt.seq:
                walk(s, trips)
        elif kind == "SBlockRealize":
            # A block's iter vars are bound to the loops around it: one execution per enclosing iteration.
            blk = stmt.block
            counts[blk.name_hint] = counts.get(blk.name_hint, 0) + trips
            walk(blk.body, trips)
        elif hasattr(stmt, "body"):
            walk(stmt.body, trips)

    walk(mod["main"].body, 1)
    return counts

