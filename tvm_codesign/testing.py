"""Helpers that only tests and benchmarks use: reference implementations and generators, kept out of the
production modules so those hold only what the co-design and the compiler run.
"""

from __future__ import annotations

import math
from typing import Any


# The TVM side (TVM imported inside: importing this module stays cheap) --------------------------------------
def lowered_buffer_sizes(mod: Any) -> dict[str, int]:
    """Elements of every allocated buffer after the passes that size cache buffers to their tiles.

    Runs ``LowerInitBlock, PlanAndUpdateBufferAllocationLocation, ConvertBlocksToOpaque,
    CompactBufferAllocation`` (see the TVM 0.27 notes) and reads the allocations off the result.
    """
    import tvm
    import tvm_ffi
    from tvm import s_tir

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
    return sizes


def stage_transfer_counts(mod: Any) -> dict[str, int]:
    """Elements each block moves in one run: the product of all loop extents around it, predicates ignored.

    For a cache stage this is (number of fills) × (tile elements), the quantity the cost model counts as a
    level's fills or write-backs. For the rfactor write-back of a spill (stage kind ``accumulate``) it is the
    parent's updates, and also its reads of the parent (one read-modify-write per element and visit): minus one
    first visit per output element, the cost model's read-backs.
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



def is_codesign_target(target: Any) -> bool:
    """Whether ``target`` was made by :func:`tvm_codesign.compiler.target.codesign_target`."""
    from tvm_codesign.compiler.target import TARGET_KEY

    return TARGET_KEY in list(target.keys) and str(target.attrs.get("model", "")).startswith("codesign-")
