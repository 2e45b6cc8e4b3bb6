"""A :class:`~tvm_codesign.mapping.Mapping` as a TVM schedule: the mapping space is also a schedule space.

:func:`apply_mapping` turns one mapping of a workload into an ``s_tir.Schedule`` on the (fused) PrimFunc:

1. the TIR loops are brought to the canonical dims (several vars of one dim are fused; a grouped conv's output
   channel loop is split into ``G`` and ``K/G``), then split by the mapping's factors per dim (imperfect factors
   give ceil splits whose padded iterations are masked by a predicate) and reordered to the mapping's nest;
2. each operand's cache stage is placed at its cut for each on-chip level (``cache_read`` for inputs and weights,
   GB then RF; the input's ``pad_temp`` is inlined into its outermost cache stage);
3. the output is cached with ``cache_write`` at each level where it is held.

**Not schedulable yet: partial-sum spills.** Where a reduction loop lies above an output tile (the tile is evicted
before its reduction completes and read back later), a faithful schedule needs a read-back stage; TVM's
``cache_write`` has none, and ``cache_inplace`` around a blockized tile does not build in TVM 0.27. Such mappings
raise :class:`CodesignError`; :func:`spills_partial_sums` tells them apart so that searches that must emit a
schedule can stay in the schedulable space. The cost model still evaluates them.

A cache stage is attached at the innermost loop *above its cut that indexes the operand*: loops between that one
and the cut do not change the tile, so the tile (and so its footprint) is the same and it is filled once per
change of tile, exactly as the cost model counts refetches (``docs/cost-model.md``).

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
    kind: str  # "read", "write", or "readback" (the read half of a partial-sum read-modify-write)


def _as_schedulable_module(func: Any) -> Any:
    import tvm

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

    block = block or find_mac_block(func)
    analysis = analyse_block(func, block)
    if analysis.workload.signature != workload.signature:
        raise CodesignError(
            f"block {block!r} is {analysis.workload.name}, not the workload {workload.name} the mapping is for"
        )
    mapping.check_covers(workload)
    for level in ("GB", "RF"):
        cut = mapping.cut(level, "O")
        if cut is not None and spills_partial_sums(mapping, cut):
            raise CodesignError(
                f"the mapping spills partial sums at {level} (a reduction loop above the output tile); "
                "such mappings are not schedulable yet"
            )
    sch = s_tir.Schedule(_as_schedulable_module(func))
    main = sch.get_sblock(block)
    nest = _canonical_loops(sch, main, analysis.binding)
    loop_rvs = _split_and_reorder(sch, nest, mapping, workload)
    for i, loop in enumerate(mapping.loops):
        if loop.spatial and loop_rvs[i] is not None:
            sch.annotate(loop_rvs[i], SPATIAL_ANNOTATION, loop.kind)
    stages = _place_caches(sch, main, mapping, analysis.buffers, loop_rvs)
    return sch, stages


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
            continue  # a unit TIR loop stays outermost
        factors = [mapping.loops[i].factor for i in positions]
        split = [nest[d]] if len(factors) == 1 else sch.split(nest[d], factors, preserve_unit_iters=True)
        for i, rv in zip(positions, split):
            rvs[i] = rv
    ordered = [rv for rv in rvs if rv is not None]
    if len(ordered) > 1:
        sch.reorder(*ordered)
    return rvs


def attach_position(mapping: Mapping, operand: str, cut: int) -> int:
    """Index of the innermost loop above ``cut`` that indexes ``operand`` (-1: the tile is filled once, at root).

    Loops between that one and the cut do not change the operand's tile; attaching there leaves the tile (and its
    footprint) unchanged and fills it once per change, as the cost model counts.
    """
    dims = OPERAND_DIMS[operand]
    for i in range(cut - 1, -1, -1):
        loop = mapping.loops[i]
        if loop.dim in dims and loop.factor > 1:
            return i
    return -1


def spills_partial_sums(mapping: Mapping, cut: int) -> bool:
    """Whether an output tile cut at ``cut`` is evicted before its reduction completes (read back later)."""
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
            sch.compute_at(cache, attach_loop(operand, cut), preserve_unit_loops=True)
            stages.append(ScheduledStage(operand, level, sch.get(cache).name_hint, "read"))
            source = sch.get(cache).writes[0].source.name
            first_stage = first_stage or cache
        if operand == "I" and first_stage is not None:
            _inline_padding(sch, first_stage)
    # Outputs: write-back stages, outer level first so the RF stage writes into the GB copy.
    for level in ("GB", "RF"):
        cut = mapping.cut(level, "O")
        if cut is None:
            continue
        wb = sch.cache_write(main, 0, SCOPES[level])
        sch.reverse_compute_at(wb, attach_loop("O", cut), preserve_unit_loops=True)
        stages.append(ScheduledStage("O", level, sch.get(wb).name_hint, "write"))
    return stages


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
    import tvm_ffi
    from tvm import s_tir, tirx

    counts: dict[str, int] = {}

    def walk(stmt: Any, trips: int) -> None:
        kind = type(stmt).__name__
        if kind == "For":
            walk(stmt.body, trips * int(stmt.extent))
        elif kind == "SeqStmt":
            for s in stmt.seq:
                walk(s, trips)
        elif kind == "SBlockRealize":
            blk = stmt.block
            inner = math.prod(int(iv.dom.extent) for iv in blk.iter_vars) if not _is_loop_bound(stmt) else 1
            counts[blk.name_hint] = counts.get(blk.name_hint, 0) + trips * inner
            walk(blk.body, trips)
        elif hasattr(stmt, "body"):
            walk(stmt.body, trips)

    del tvm_ffi, s_tir, tirx
    walk(mod["main"].body, 1)
    return counts


def _is_loop_bound(realize: Any) -> bool:
    """A block realize whose iter values are bound to enclosing loops (every block but the root)."""
    return len(realize.iter_values) > 0
