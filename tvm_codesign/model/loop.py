"""One loop of a mapping's nest, and the names a mapping uses: loop kinds and the on-chip levels it places tiles at.

Kept apart from :mod:`tvm_codesign.model.mapping` so that the translators (:mod:`tvm_codesign.model.translate`),
which build loops, need not import the :class:`~tvm_codesign.model.mapping.Mapping` that calls them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.workload import DIMS

#: Loop kinds. Spatial loops are unrolled over the PE array's rows or columns.
KINDS: tuple[str, ...] = ("temporal", "spatial_rows", "spatial_cols")

#: On-chip levels a placement names, outer to inner (DRAM holds everything and is implicit).
ON_CHIP: tuple[str, ...] = ("GB", "RF")


def is_int(v: Any) -> bool:
    """Whether ``v`` is a Python or numpy integer (``bool`` excluded: ``True`` is no trip count)."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclasses.dataclass(frozen=True)
class Loop:
    """One loop of the nest.

    Parameters
    ----------
    dim
        One of :data:`tvm_codesign.model.workload.DIMS`.
    factor
        Trip count (>= 1).
    kind
        One of :data:`KINDS`.
    """

    dim: str
    factor: int
    kind: str = "temporal"

    def __post_init__(self) -> None:
        if self.dim not in DIMS:
            raise CodesignError(f"loop dim {self.dim!r} is not one of {' '.join(DIMS)}")
        if not is_int(self.factor) or self.factor < 1:
            raise CodesignError(f"loop over {self.dim}: factor must be a positive integer, got {self.factor!r}")
        object.__setattr__(self, "factor", int(self.factor))
        if self.kind not in KINDS:
            raise CodesignError(f"loop over {self.dim}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def spatial(self) -> bool:
        """Whether the loop is unrolled over the PE array."""
        return self.kind != "temporal"


__all__ = ["KINDS", "ON_CHIP", "Loop", "is_int"]
