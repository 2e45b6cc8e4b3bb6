"""Workload: one multiply-accumulate loop nest in the canonical form G N K C P Q R S.

This module imports no TVM so that it can be shipped cheaply to worker processes. Extraction from TIR lives in
:mod:`tvm_codesign.compiler.extract`.

Canonical nest (see ``shared/design.md``, "Workloads")::

    for g, n, k, c, p, q, r, s:
        O[g, n, k, p, q] += I[g, n, c, p*stride_h + r*dil_h, q*stride_w + s*dil_w] * W[g, k, c, r, s]

``K`` and ``C`` are *per group*. conv2d has ``G = 1``; depthwise has ``G = channels`` and ``K = C = 1`` (or the
channel multiplier); dense / matmul has ``N = rows, K = output features, C = reduction`` and ``P = Q = R = S = 1``;
the batch of a batch matmul indexes all three operands, so it is ``G``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Iterable, Mapping

from tvm_codesign.errors import CodesignError

#: The canonical dimensions, outer to inner in the reference nest.
DIMS: tuple[str, ...] = ("G", "N", "K", "C", "P", "Q", "R", "S")

#: Operands: input activations, weights, outputs (partial sums while a reduction is in flight).
OPERANDS: tuple[str, ...] = ("I", "W", "O")

#: Which dims index which operand. Input is also indexed by P, Q through the sliding window with R, S.
OPERAND_DIMS: dict[str, frozenset[str]] = {
    "I": frozenset({"G", "N", "C", "P", "Q", "R", "S"}),
    "W": frozenset({"G", "K", "C", "R", "S"}),
    "O": frozenset({"G", "N", "K", "P", "Q"}),
}

#: Reduction dims: looping over them accumulates into the same output element.
REDUCTION_DIMS: frozenset[str] = frozenset({"C", "R", "S"})

#: Operation kinds a workload can have.
OPS: tuple[str, ...] = ("conv2d", "group_conv2d", "depthwise_conv2d", "dense", "batch_matmul")


@dataclasses.dataclass(frozen=True)
class Workload:
    """One MAC loop nest, keyed by its signature (op, dims, stride, dilation).

    Parameters
    ----------
    name
        A readable name, e.g. ``conv2d_k64_c64_p56_r3``; not part of the signature.
    op
        One of :data:`OPS`.
    G, N, K, C, P, Q, R, S
        Loop bounds of the canonical nest (``K`` and ``C`` per group).
    stride, dilation
        ``(h, w)`` pairs; ``P`` pairs with ``R`` and stride/dilation ``h``, ``Q`` with ``S`` and ``w``.
    count
        Number of call sites in the model's ``main`` with this signature.
    dtype
        The TIR dtype of the output, recorded for information only: the accelerator's precision is a property of
        the hardware, never of the TIR.
    layout
        ``"NCHW"``, ``"NHWC"`` or ``"matmul"``: how the source TIR lays out the tensors (not part of the cost).
    padding
        ``(top, left, bottom, right)`` zero padding of the input in the source; the cost model treats the input in
        its padded form, as Timeloop does.
    sources
        ``(primfunc_name, block_name)`` of every TIR block this workload was extracted from.
    tir_loops
        The canonical dims made of several TIR loops, with those loops' extents outer to inner, e.g.
        ``(("N", (16, 31)),)`` for a MatMul ``[16, 31, C] x [C, K]`` (N = batch x sequence) or ``(("G", (2, 3)),)``
        for a batch matmul over ``[2, 3]`` batch and head loops. Loops of extent 1 are left out; a dim made of one
        loop is not listed. Part of the signature: a tile of such a dim is a box in TIR only when it does not
        straddle an inner loop's boundary (:mod:`tvm_codesign.model.schedulability`), so the same dims made of other
        loops are another workload for the schedule. The cost model ignores it.
    """

    name: str
    op: str
    G: int = 1
    N: int = 1
    K: int = 1
    C: int = 1
    P: int = 1
    Q: int = 1
    R: int = 1
    S: int = 1
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    count: int = 1
    dtype: str = "float32"
    layout: str = "NCHW"
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    sources: tuple[tuple[str, str], ...] = ()
    tir_loops: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise CodesignError(f"unknown workload op {self.op!r}; expected one of {', '.join(OPS)}")
        for d in DIMS:
            v = getattr(self, d)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise CodesignError(f"workload {self.name!r}: dim {d} must be a positive integer, got {v!r}")
        for field in ("stride", "dilation"):
            pair = tuple(getattr(self, field))
            if len(pair) != 2 or any(not isinstance(x, int) or x < 1 for x in pair):
                raise CodesignError(f"workload {self.name!r}: {field} must be two positive integers, got {pair!r}")
            object.__setattr__(self, field, pair)
        object.__setattr__(self, "padding", tuple(int(x) for x in self.padding))
        object.__setattr__(self, "sources", tuple(tuple(s) for s in self.sources))
        if self.count < 1:
            raise CodesignError(f"workload {self.name!r}: count must be >= 1, got {self.count}")
        object.__setattr__(self, "tir_loops", self._checked_tir_loops(self.tir_loops))

    def _checked_tir_loops(self, value: Any) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """``tir_loops`` normalised (a dict or pairs; canonical dim order) and checked against the bounds."""
        items = value.items() if isinstance(value, Mapping) else value
        out: dict[str, tuple[int, ...]] = {}
        for entry in items:
            try:
                d, extents = entry
                extents = tuple(extents)
            except (TypeError, ValueError):
                raise CodesignError(
                    f"workload {self.name!r}: tir_loops entries are (dim, [extents]), got {entry!r}"
                ) from None
            if d not in DIMS or d in out:
                raise CodesignError(f"workload {self.name!r}: tir_loops names {d!r} (unknown or twice)")
            if len(extents) < 2 or any(not isinstance(e, int) or isinstance(e, bool) or e < 2 for e in extents):
                raise CodesignError(
                    f"workload {self.name!r}: tir_loops[{d}] must be two or more extents >= 2, got {list(extents)}"
                )
            if math.prod(extents) != getattr(self, d):
                raise CodesignError(
                    f"workload {self.name!r}: tir_loops[{d}] = {list(extents)} multiplies to {math.prod(extents)}, "
                    f"not {d} = {getattr(self, d)}"
                )
            out[d] = extents
        return tuple((d, out[d]) for d in DIMS if d in out)

    def loops_of(self, dim: str) -> tuple[int, ...]:
        """Extents of the TIR loops that make canonical ``dim``, outer to inner (``(bound,)`` for one loop)."""
        return dict(self.tir_loops).get(dim, (getattr(self, dim),))

    # ----------------------------------------------------------------------------------------------------------
    @property
    def dims(self) -> dict[str, int]:
        """Loop bounds as a ``{dim: bound}`` dict in :data:`DIMS` order."""
        return {d: getattr(self, d) for d in DIMS}

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one instance (one call site)."""
        return math.prod(getattr(self, d) for d in DIMS)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of all call sites: ``count * macs``."""
        return self.count * self.macs

    @property
    def signature(self) -> tuple:
        """What makes two workloads the same: op, dims, stride and dilation (and, for the schedule, the TIR loops
        that make a dim, when some dim is made of several)."""
        sig = (self.op, *(getattr(self, d) for d in DIMS), *self.stride, *self.dilation)
        return sig + (self.tir_loops,) if self.tir_loops else sig

    @property
    def input_hw(self) -> tuple[int, int]:
        """Height and width of the (padded) input window the nest touches."""
        h = (self.P - 1) * self.stride[0] + (self.R - 1) * self.dilation[0] + 1
        w = (self.Q - 1) * self.stride[1] + (self.S - 1) * self.dilation[1] + 1
        return h, w

    def operand_size(self, operand: str) -> int:
        """Elements of an operand's whole tensor as the nest sees it (input in its padded form)."""
        if operand == "I":
            h, w = self.input_hw
            return self.G * self.N * self.C * h * w
        if operand == "W":
            return self.G * self.K * self.C * self.R * self.S
        if operand == "O":
            return self.G * self.N * self.K * self.P * self.Q
        raise CodesignError(f"unknown operand {operand!r}; expected one of {', '.join(OPERANDS)}")

    def with_count(self, count: int) -> "Workload":
        """A copy with another call-site count."""
        return dataclasses.replace(self, count=count)

    # ----------------------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; ``macs`` (per instance) is included for readers and ignored on load."""
        out: dict[str, Any] = {"name": self.name, "op": self.op}
        out.update(self.dims)
        out.update(
            stride=list(self.stride),
            dilation=list(self.dilation),
            count=self.count,
            macs=self.macs,
            dtype=self.dtype,
            layout=self.layout,
            padding=list(self.padding),
            sources=[list(s) for s in self.sources],
        )
        if self.tir_loops:
            out["tir_loops"] = {d: list(e) for d, e in self.tir_loops}
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Workload":
        """Inverse of :meth:`to_json`; missing dims default to 1, ``stride``/``dilation`` may be one int."""
        if not isinstance(obj, Mapping):
            raise CodesignError(f"a workload must be a JSON object, got {type(obj).__name__}")
        if "op" not in obj:
            raise CodesignError("workload JSON has no 'op' field")
        known = {f.name for f in dataclasses.fields(cls)} | {"macs"}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise CodesignError(f"workload JSON has unknown field(s): {', '.join(unknown)}")
        kwargs: dict[str, Any] = {k: v for k, v in obj.items() if k != "macs"}
        kwargs.setdefault("name", str(obj["op"]))
        for field in ("stride", "dilation"):
            if field in kwargs:
                v = kwargs[field]
                kwargs[field] = (v, v) if isinstance(v, int) else tuple(v)
        if "padding" in kwargs:
            kwargs["padding"] = tuple(kwargs["padding"])
        if "sources" in kwargs:
            kwargs["sources"] = tuple(tuple(s) for s in kwargs["sources"])
        if "tir_loops" in kwargs and not isinstance(kwargs["tir_loops"], Mapping):
            raise CodesignError("workload JSON: tir_loops must be an object such as {\"N\": [16, 31]}")
        try:
            return cls(**kwargs)
        except TypeError as err:  # wrong value types
            raise CodesignError(f"bad workload JSON: {err}") from None

    @classmethod
    def from_json_text(cls, text: str) -> "Workload":
        """Parse a workload from a JSON string (one object)."""
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise CodesignError(f"workload is not valid JSON: {err}") from None
        return cls.from_json(obj)


def merge_by_signature(workloads: Iterable[Workload]) -> list[Workload]:
    """Merge workloads with the same signature: counts add up and sources concatenate; first name wins.

    Order is the order of first appearance, so the result is deterministic for a given model.
    """
    merged: dict[tuple, Workload] = {}
    for w in workloads:
        prev = merged.get(w.signature)
        if prev is None:
            merged[w.signature] = w
        else:
            merged[w.signature] = dataclasses.replace(
                prev, count=prev.count + w.count, sources=prev.sources + w.sources
            )
    return list(merged.values())


def total_macs(workloads: Iterable[Workload]) -> int:
    """Σ count × macs over the workloads."""
    return sum(w.total_macs for w in workloads)
