"""Where an operand's tile is attached in a mapping's loop nest: one rule for the cost model, the schedulability
rule and the TVM schedule.

The tile of operand ``X`` cut at nest position ``c`` changes exactly when a *temporal* loop of factor > 1 that
indexes ``X`` and lies above ``c`` advances: the innermost such loop is the tile's **attach point**. The cost model
counts a refill per iteration of the loops down to it (:meth:`tvm_codesign.cost.nest.Nest.fill_events`), the TVM
schedule attaches the cache stage there (:func:`attach_position`), and the schedulability rule
(:mod:`tvm_codesign.model.schedulability`) reads tile extents and partial-sum spills off it. Spatial loops are never
attach points: the PEs they unroll hold their tiles at the same time, so the stage above them moves the union of
the per-PE tiles (multicast, or sliding-window overlap), which is what the cost model charges for feeding the array.

Pure numpy, no TVM.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.workload import DIMS, OPERAND_DIMS

_TEMPORAL = 0  # index of "temporal" in tvm_codesign.model.mapping.KINDS


#: ``_INDEXES[operand][dim index]``: whether the dim indexes the operand (a table lookup beats ``np.isin``).
_INDEXES = {op: np.array([d in dims for d in DIMS]) for op, dims in OPERAND_DIMS.items()}


def indexing_temporal_loops(
    dim: np.ndarray, factor: np.ndarray, kind: np.ndarray, operand: str, temporal_big: np.ndarray | None = None
) -> np.ndarray:
    """``(L, B)`` bool: the temporal loops of factor > 1 over a dim that indexes ``operand`` -- the loops whose
    advance changes ``operand``'s tiles below them (loops of factor 1 change nothing). ``temporal_big`` may pass
    ``(kind == temporal) & (factor > 1)`` when the caller has it already (the cost model's hot path)."""
    if temporal_big is None:
        temporal_big = (kind == _TEMPORAL) & (factor > 1)
    return temporal_big & _INDEXES[operand][dim]


def attach_table(
    dim: np.ndarray, factor: np.ndarray, kind: np.ndarray, operand: str, temporal_big: np.ndarray | None = None
) -> np.ndarray:
    """``(L + 1, B)``: entry ``[c, b]`` is 1 + the nest position of the innermost temporal loop of factor > 1
    indexing ``operand`` above position ``c`` of mapping ``b`` (0 if there is none: the tile is filled once).

    ``dim``, ``factor`` and ``kind`` are a :class:`~tvm_codesign.model.mapping.MappingBatch`'s ``(L, B)`` arrays
    (``temporal_big`` as in :func:`indexing_temporal_loops`). Small ints and a running maximum over the slots: the
    cheapest scan numpy offers.
    """
    L, B = dim.shape
    it = np.int8 if L < 127 else np.int32
    rel = indexing_temporal_loops(dim, factor, kind, operand, temporal_big).view(np.int8).astype(it, copy=False)
    out = np.zeros((L + 1, B), it)
    for l in range(L):
        np.maximum(out[l], rel[l] * it(l + 1), out=out[l + 1])
    return out


def attach_points(batch: MappingBatch, operand: str, cut: np.ndarray) -> np.ndarray:
    """``(B,)`` int64 attach point of ``operand``'s tile cut at ``cut`` (per mapping): the innermost temporal loop
    of factor > 1 indexing it above the cut, -1 if none. ``cut`` < 0 (bypass) gives -1."""
    table = attach_table(batch.dim, batch.factor, batch.kind, operand)
    c = np.asarray(cut, np.int64)
    at = table[np.maximum(c, 0), np.arange(len(c))].astype(np.int64) - 1
    return np.where(c >= 0, at, -1)


def one_mapping_batch(mapping: Mapping) -> MappingBatch:
    """``mapping`` as a batch of one (at least one loop slot), for asking a vectorised rule about one mapping."""
    return MappingBatch.from_mappings([mapping], slots=max(len(mapping.loops), 1))


def attach_position(mapping: Mapping, operand: str, cut: int) -> int:
    """The attach point of one mapping's tile of ``operand`` cut at ``cut`` (-1: filled once)."""
    return int(attach_points(one_mapping_batch(mapping), operand, np.array([cut]))[0])


__all__ = [
    "attach_points", "attach_position", "attach_table", "indexing_temporal_loops", "one_mapping_batch"
]
