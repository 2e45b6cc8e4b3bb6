"""MappingBatch: a batch of mappings as slot-major arrays, the form the cost model and the schedulability rule read.

Slot-major ``(L, B)`` arrays so that every loop over the few slots is a vector operation over the whole batch
(:func:`tvm_codesign.cost.model.evaluate`, :func:`tvm_codesign.model.schedulability.check`). It lives in the model
layer, not in :mod:`tvm_codesign.cost`, because the schedulability rule and :mod:`tvm_codesign.model.loop_nest` read
it too and the model layer imports nothing above it.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.loop import KINDS, ON_CHIP, Loop
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.workload import DIMS, OPERANDS


@dataclasses.dataclass
class MappingBatch:
    """A batch of ``B`` mappings as slot-major arrays over a fixed number ``L`` of loop slots.

    Attributes
    ----------
    dim
        ``(L, B)`` int8 index into :data:`DIMS`.
    factor
        ``(L, B)`` int64 trip counts; unused slots (past ``n_loops``) have factor 1.
    kind
        ``(L, B)`` int8 index into :data:`KINDS`.
    cut
        ``(len(ON_CHIP), len(OPERANDS), B)`` int16 nest positions; -1 = bypass.
    double_buffered
        ``(len(ON_CHIP), B)`` bool.
    n_loops
        ``(B,)`` int16: how many slots of each row are real loops (for the round trip to :class:`Mapping`).
    """

    dim: np.ndarray
    factor: np.ndarray
    kind: np.ndarray
    cut: np.ndarray
    double_buffered: np.ndarray
    n_loops: np.ndarray

    def __len__(self) -> int:
        return int(self.n_loops.shape[0])

    @property
    def slots(self) -> int:
        """``L``, the number of loop slots."""
        return int(self.dim.shape[0])

    @classmethod
    def from_mappings(cls, mappings: Sequence[Mapping], slots: int | None = None) -> "MappingBatch":
        """Pack mappings; ``slots`` defaults to the longest nest."""
        b = len(mappings)
        need = max((len(m.loops) for m in mappings), default=0)
        L = need if slots is None else slots
        if L < need:
            raise CodesignError(f"{slots} loop slots cannot hold a nest of {need} loops")
        dim = np.zeros((L, b), np.int8)
        factor = np.ones((L, b), np.int64)
        kind = np.zeros((L, b), np.int8)
        cut = np.full((len(ON_CHIP), len(OPERANDS), b), -1, np.int16)
        dbuf = np.zeros((len(ON_CHIP), b), bool)
        n_loops = np.zeros(b, np.int16)
        for j, m in enumerate(mappings):
            n_loops[j] = len(m.loops)
            for i, l in enumerate(m.loops):
                dim[i, j] = DIMS.index(l.dim)
                factor[i, j] = l.factor
                kind[i, j] = KINDS.index(l.kind)
            for li in range(len(ON_CHIP)):
                dbuf[li, j] = m.double_buffered[li]
                for oi in range(len(OPERANDS)):
                    pos = m.placement[li][oi]
                    cut[li, oi, j] = -1 if pos is None else pos
        return cls(dim, factor, kind, cut, dbuf, n_loops)

    def mapping(self, i: int) -> Mapping:
        """Row ``i`` back as a :class:`Mapping` (exact inverse of :meth:`from_mappings`)."""
        n = int(self.n_loops[i])
        loops = tuple(
            Loop(DIMS[int(self.dim[s, i])], int(self.factor[s, i]), KINDS[int(self.kind[s, i])]) for s in range(n)
        )
        placement = tuple(
            tuple(None if self.cut[li, oi, i] < 0 else int(self.cut[li, oi, i]) for oi in range(len(OPERANDS)))
            for li in range(len(ON_CHIP))
        )
        dbuf = tuple(bool(self.double_buffered[li, i]) for li in range(len(ON_CHIP)))
        return Mapping(loops, placement, dbuf)

    def to_mappings(self) -> list[Mapping]:
        """Every row as a :class:`Mapping`."""
        return [self.mapping(i) for i in range(len(self))]

    def take(self, index: np.ndarray | Sequence[int]) -> "MappingBatch":
        """The rows ``index`` (an int array or a boolean mask) as a new batch."""
        idx = np.asarray(index)
        return MappingBatch(
            self.dim[:, idx].copy(),
            self.factor[:, idx].copy(),
            self.kind[:, idx].copy(),
            self.cut[:, :, idx].copy(),
            self.double_buffered[:, idx].copy(),
            self.n_loops[idx].copy(),
        )

    @classmethod
    def concat(cls, batches: Sequence["MappingBatch"]) -> "MappingBatch":
        """Rows of several batches (with the same slot count) in order."""
        return cls(
            np.concatenate([b.dim for b in batches], axis=1),
            np.concatenate([b.factor for b in batches], axis=1),
            np.concatenate([b.kind for b in batches], axis=1),
            np.concatenate([b.cut for b in batches], axis=2),
            np.concatenate([b.double_buffered for b in batches], axis=1),
            np.concatenate([b.n_loops for b in batches]),
        )


def as_batch(mappings: "MappingBatch | Mapping | Sequence[Mapping]") -> MappingBatch:
    """A :class:`MappingBatch` from a batch, one mapping, or a sequence of mappings."""
    if isinstance(mappings, MappingBatch):
        return mappings
    if isinstance(mappings, Mapping):
        return MappingBatch.from_mappings([mappings])
    mappings = list(mappings)
    for m in mappings:
        if not isinstance(m, Mapping):
            raise CodesignError(f"expected Mapping objects, got {type(m).__name__}")
    return MappingBatch.from_mappings(mappings)


__all__ = ["MappingBatch", "as_batch"]
