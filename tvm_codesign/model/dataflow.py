"""Named dataflows: restrictions of the one mapping genome (:class:`~tvm_codesign.spaces.mapping.space.MappingSpace`).

A dataflow never has its own code path: it only narrows which values some genes may take (which factor slots a dim
may use, which loop orders the RF level may have, where operands are cut, what bypasses), so that every genome of a
dataflow's space is also a genome of the free space and decodes the same way there (a warm start embeds as is).

``row_stationary`` follows the constraints of Timeloop's published Eyeriss example (``eyeriss_like``
``constraints``), whose dim names match ours (P pairs with R, Q with S):

* PE rows take all of S plus any of C and K; PE columns take Q and K;
* the RF level is three sub-levels, inner to outer: the psum RF (K), the weight RF (all of R, plus C) and the input
  RF (nothing): outputs are cut just above the K loops, weights and inputs above the R and C loops;
* the global buffer takes all of P (and any of C, K, N, G; no Q, R, S) and holds inputs and outputs at one cut
  (Timeloop's even form); weights bypass it.

``vta_gemm``: VTA's GEMM core unrolls the batch and the two channel dims only, so spatial loops are over N, C, K.
"""

from __future__ import annotations

import dataclasses

from tvm_codesign.errors import CodesignError

#: Factor slots of a dim, outer to inner: DRAM-level temporal (takes the ceil), GB-level temporal, PE rows, PE
#: columns, RF-level temporal. ``FACTOR_SLOTS[1:]`` are the genome's (the outer one is implied).
FACTOR_SLOTS: tuple[str, ...] = ("dram", "gb", "rows", "cols", "rf")


@dataclasses.dataclass(frozen=True)
class Dataflow:
    """Restrictions of the mapping genome; ``None`` / empty means free.

    Attributes
    ----------
    name
        Registry key.
    rows, cols
        Dims allowed a factor > 1 on the PE rows / columns.
    whole
        ``(dim, slot)`` pairs: that slot takes all of the dim (every other slot of it is 1).
    gb_one
        Dims whose GB-level temporal factor is 1.
    rf_chain
        RF sub-levels inner to outer as ``(operand, dims)``: the operand is cut just above its sub-level, whose
        loops are over ``dims`` (any order among them); dims in no sub-level have RF factor 1.
    gb_bypass
        Operands that bypass the GB level.
    gb_even
        Operands the GB holds are cut together at the top of the GB-level loops (and not bypassed).
    """

    name: str
    rows: frozenset[str] | None = None
    cols: frozenset[str] | None = None
    whole: tuple[tuple[str, str], ...] = ()
    gb_one: frozenset[str] = frozenset()
    rf_chain: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    gb_bypass: frozenset[str] = frozenset()
    gb_even: bool = False

    def slot_rule(self, dim: str, slot: str) -> str:
        """``"all"``, ``"one"`` or ``"free"`` for one factor slot of ``dim`` (``slot`` in ``FACTOR_SLOTS[1:]``)."""
        whole = dict(self.whole)
        if dim in whole:
            return "all" if whole[dim] == slot else "one"
        if slot == "rows" and self.rows is not None and dim not in self.rows:
            return "one"
        if slot == "cols" and self.cols is not None and dim not in self.cols:
            return "one"
        if slot == "gb" and dim in self.gb_one:
            return "one"
        if slot == "rf" and self.rf_chain is not None and all(dim not in dims for _, dims in self.rf_chain):
            return "one"
        return "free"


ROW_STATIONARY = Dataflow(
    name="row_stationary",
    rows=frozenset({"S", "C", "K"}),
    cols=frozenset({"Q", "K"}),
    whole=(("S", "rows"), ("R", "rf"), ("P", "gb")),
    gb_one=frozenset({"Q", "R", "S"}),
    rf_chain=(("O", ("K",)), ("W", ("C", "R")), ("I", ())),
    gb_bypass=frozenset({"W"}),
    gb_even=True,
)

VTA_GEMM = Dataflow(name="vta_gemm", rows=frozenset({"N", "C", "K"}), cols=frozenset({"N", "C", "K"}))

#: Dataflows by name.
DATAFLOWS: dict[str, Dataflow] = {d.name: d for d in (ROW_STATIONARY, VTA_GEMM)}


def get_dataflow(name: str | Dataflow | None) -> Dataflow | None:
    """A dataflow by name (``None`` = free mapping)."""
    if name is None or isinstance(name, Dataflow):
        return name
    if name not in DATAFLOWS:
        raise CodesignError(f"unknown dataflow {name!r}; known dataflows: {', '.join(DATAFLOWS)}")
    return DATAFLOWS[name]
