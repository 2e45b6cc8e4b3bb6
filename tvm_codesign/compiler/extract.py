"""Workload extraction from TIR: recognise MAC loop nests by their iteration kinds and access patterns.

The Relax module is lowered as the default pipeline would (``LegalizeOps``, ``AnnotateTIROpPattern``, ``FuseOps``,
``FuseTIR``); then every block of every PrimFunc that ``main`` calls is classified from its structure, never from
names:

* a **MAC block** stores ``O[s...] = O[s...] + A[...] * B[...]`` with at least one reduction iter var and two
  distinct tensors ``A`` and ``B``;
* an index of the form ``s·stride + r·dilation`` (a spatial and a reduction var) is a **sliding window**: the
  operand that has one is the input, the window gives ``P, R`` (first window) and ``Q, S`` (second);
* ``k // (K/G) * (C/G) + c`` in the input's channel index is a **grouped** conv (TIR has no group loop); a
  spatial var that indexes output, input and weight directly is a **G** dim (depthwise channels, attention heads);
* remaining spatial vars in output and input only are ``N``, in output and weight only ``K``; remaining reduction
  vars in both inputs are ``C``.

Reductions that are not a product of two tensors (softmax sums, pooling, norms) and every other block are listed
as not mapped, with their arithmetic.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import Any, Iterable, NamedTuple

import tvm
import tvm_ffi
from tvm import relax, s_tir, tirx

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.workload import Workload, merge_by_signature

#: Iter-var kinds in TIR (``IterVar.iter_type``).
_SPATIAL, _REDUCE = 0, 2


@dataclasses.dataclass(frozen=True)
class UnmappedBlock:
    """A block that is not mapped onto the accelerator (runs on the host), with its arithmetic.

    ``kind`` is ``"reduction"`` (has a reduction iter var but is not a two-tensor MAC), ``"elementwise"`` (does
    arithmetic) or ``"copy"`` (moves data only: padding, reshape, transpose). ``ops`` is the number of block
    iterations of one call, the unit in which the model's arithmetic share is reported (one MAC = one op).
    """

    primfunc: str
    block: str
    kind: str
    ops: int
    count: int

    @property
    def total_ops(self) -> int:
        return self.ops * self.count


@dataclasses.dataclass(frozen=True)
class Extraction:
    """What :func:`extract_workloads` found: MAC workloads (merged by signature) and everything else."""

    workloads: tuple[Workload, ...]
    unmapped: tuple[UnmappedBlock, ...]

    @property
    def total_macs(self) -> int:
        return sum(w.total_macs for w in self.workloads)

    @property
    def unmapped_ops(self) -> int:
        """Arithmetic of the unmapped blocks (copies excluded)."""
        return sum(u.total_ops for u in self.unmapped if u.kind != "copy")

    @property
    def mapped_share(self) -> float:
        """Share of the model's arithmetic (MACs + other ops) that the accelerator runs."""
        total = self.total_macs + self.unmapped_ops
        return self.total_macs / total if total else 0.0


# ------------------------------------------------------------------------------------------------------------
def lower_to_tir(mod: Any) -> Any:
    """Lower a Relax module to fused TIR PrimFuncs as the default pipeline would, before scheduling."""

    seq = tvm.transform.Sequential(
        [
            relax.transform.LegalizeOps(),
            relax.transform.AnnotateTIROpPattern(),
            relax.transform.FoldConstant(),
            relax.transform.FuseOps(),
            relax.transform.FuseTIR(),
        ]
    )
    with tvm.transform.PassContext(opt_level=3):
        return seq(mod)


def call_site_counts(mod: Any) -> Counter:
    """How many times ``main`` calls each PrimFunc (by name), through ``call_tir`` and friends."""

    counts: Counter = Counter()
    if "main" not in [gv.name_hint for gv in mod.get_global_vars()]:
        raise CodesignError("the module has no 'main' function")

    def visit(call: Any) -> None:
        for arg in list(call.args)[:1]:
            if isinstance(arg, relax.GlobalVar):
                counts[arg.name_hint] += 1

    tvm_ffi.structural_walk(mod["main"], (relax.Call, visit), order="pre")
    return counts


def extract_workloads(mod: Any, lowered: bool = False) -> Extraction:
    """Extract the MAC workloads of a Relax module.

    Parameters
    ----------
    mod
        A Relax IRModule (as :func:`tvm_codesign.compiler.frontend.load_model` returns).
    lowered
        ``True`` if ``mod`` already went through :func:`lower_to_tir`.

    Raises
    ------
    CodesignError
        If the model has no conv2d or matmul to map.
    """

    if not lowered:
        mod = lower_to_tir(mod)
    counts = call_site_counts(mod)
    found: list[Workload] = []
    unmapped: list[UnmappedBlock] = []
    # In call order, so that tables list layers as the model runs them.
    for name in counts:
        func = mod[name]
        if not isinstance(func, tirx.PrimFunc):
            continue
        blocks = _blocks(func)
        producers = {b.writes[0].source.name: b for b in blocks if len(b.writes) == 1 and b.iter_vars}
        for block in blocks:
            if not block.iter_vars:
                continue  # the root block
            analysed = _analyse_mac_block(block, name, counts[name], producers)
            if analysed is not None:
                found.append(analysed[0])
            else:
                unmapped.append(
                    UnmappedBlock(name, block.name_hint, _block_kind(block), _iterations(block), counts[name])
                )
    workloads = merge_by_signature(found)
    if not workloads:
        raise CodesignError("the model has no conv2d, dense or matmul to map onto the accelerator")
    return Extraction(tuple(workloads), tuple(unmapped))


# ------------------------------------------------------------------------------------------------------------
def _blocks(func: Any) -> list[Any]:

    blocks: list[Any] = []
    tvm_ffi.structural_walk(func.body, (s_tir.SBlock, blocks.append), order="pre")
    return blocks


def _iterations(block: Any) -> int:
    return math.prod(int(iv.dom.extent) for iv in block.iter_vars)


def _kind(node: Any) -> str:
    return type(node).__name__


def _strip_cast(node: Any) -> Any:
    while _kind(node) == "Cast":
        node = node.value
    return node


def _block_kind(block: Any) -> str:
    if any(int(iv.iter_type) == _REDUCE for iv in block.iter_vars):
        return "reduction"
    body = block.body
    if _kind(body) != "BufferStore":
        return "elementwise"
    value = _strip_cast(body.value)
    if _kind(value) == "Call" and "if_then_else" in str(getattr(value, "op", "")):
        value = _strip_cast(value.args[1])
    return "copy" if _kind(value) == "TensorLoad" else "elementwise"


@dataclasses.dataclass
class _Affine:
    """An index expression as Σ coef·var + Σ coef·(var // div) + const."""

    terms: dict[str, int] = dataclasses.field(default_factory=dict)
    floordivs: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)  # (var, divisor, coef)
    const: int = 0

    def scaled(self, k: int) -> "_Affine":
        return _Affine(
            {v: c * k for v, c in self.terms.items()}, [(v, d, c * k) for v, d, c in self.floordivs], self.const * k
        )

    def plus(self, other: "_Affine", sign: int = 1) -> "_Affine":
        terms = dict(self.terms)
        for v, c in other.terms.items():
            terms[v] = terms.get(v, 0) + sign * c
        return _Affine(
            {v: c for v, c in terms.items() if c},
            self.floordivs + [(v, d, sign * c) for v, d, c in other.floordivs],
            self.const + sign * other.const,
        )

    @property
    def vars(self) -> set[str]:
        return set(self.terms) | {v for v, _, _ in self.floordivs}


def _affine(expr: Any) -> _Affine | None:
    """Parse an index into :class:`_Affine`, or ``None`` if it is not of that form."""
    expr = _strip_cast(expr)
    kind = _kind(expr)
    if kind == "Var":
        return _Affine({expr.name: 1})
    if kind == "IntImm":
        return _Affine(const=int(expr.value))
    if kind in ("Add", "Sub"):
        a, b = _affine(expr.a), _affine(expr.b)
        if a is None or b is None:
            return None
        return a.plus(b, 1 if kind == "Add" else -1)
    if kind == "Mul":
        a, b = _affine(expr.a), _affine(expr.b)
        if a is None or b is None:
            return None
        if not b.vars:
            return a.scaled(b.const)
        if not a.vars:
            return b.scaled(a.const)
        return None
    if kind == "FloorDiv":
        a, b = _affine(expr.a), _affine(expr.b)
        if a is None or b is None or b.vars or len(a.terms) != 1 or a.floordivs or a.const:
            return None
        (var, coef), = a.terms.items()
        if coef != 1 or b.const < 1:
            return None
        return _Affine(floordivs=[(var, b.const, 1)])
    return None


def _loads_of_product(value: Any) -> tuple[Any, Any] | None:
    """``(A, B)`` if ``value`` is ``A * B`` of two tensor loads (casts allowed), else ``None``."""
    value = _strip_cast(value)
    if _kind(value) != "Mul":
        return None
    a, b = _strip_cast(value.a), _strip_cast(value.b)
    if _kind(a) == "TensorLoad" and _kind(b) == "TensorLoad":
        return a, b
    return None


#: How each TIR iter var of a MAC block maps onto canonical dims: ``{var: ((dim, extent), ...)}``, outer to
#: inner. Most vars map to one dim; a grouped conv's output-channel var maps to ``(("G", G), ("K", K/G))``.
IterBinding = dict[str, tuple[tuple[str, int], ...]]


class BlockAnalysis(NamedTuple):
    """A MAC block understood: its workload, how its iter vars map to dims, and its operand buffers' names."""

    workload: Workload
    binding: IterBinding
    buffers: dict[str, str]  # operand ("I", "W", "O") -> TIR buffer name


def analyse_block(func: Any, block_name: str, primfunc: str = "main") -> BlockAnalysis:
    """Analyse one named block of a PrimFunc as a MAC nest (what :func:`tvm_codesign.compiler.schedule` builds on).

    Raises
    ------
    CodesignError
        If the block does not exist or is not a two-tensor multiply-accumulate.
    """
    blocks = _blocks(func)
    producers = {b.writes[0].source.name: b for b in blocks if len(b.writes) == 1 and b.iter_vars}
    for block in blocks:
        if block.name_hint == block_name:
            analysed = _analyse_mac_block(block, primfunc, 1, producers)
            if analysed is None:
                raise CodesignError(f"block {block_name!r} of {primfunc} is not a multiply-accumulate nest")
            return analysed
    raise CodesignError(f"{primfunc} has no block named {block_name!r}")


def _analyse_mac_block(
    block: Any, primfunc: str, count: int, producers: dict[str, Any]
) -> BlockAnalysis | None:
    """The block as a :class:`BlockAnalysis` if it is a two-tensor MAC, else ``None``."""
    kinds = {iv.var.name: int(iv.iter_type) for iv in block.iter_vars}
    extents = {iv.var.name: int(iv.dom.extent) for iv in block.iter_vars}
    if _REDUCE not in kinds.values() or any(k not in (_SPATIAL, _REDUCE) for k in kinds.values()):
        return None
    store = block.body
    if _kind(store) != "BufferStore" or _kind(store.value) != "Add":
        return None
    out = store.buffer
    add = store.value
    product = None
    for acc, rest in ((add.a, add.b), (add.b, add.a)):
        acc = _strip_cast(acc)
        if _kind(acc) == "TensorLoad" and acc.source.same_as(out):
            product = _loads_of_product(rest)
            break
    if product is None:
        return None
    a, b = product
    if a.source.same_as(b.source) or a.source.same_as(out) or b.source.same_as(out):
        return None  # x*x (norms), or not a product of two distinct tensors

    # Output indices must be plain spatial vars (or constants for unit dims).
    out_vars: set[str] = set()
    for idx in store.indices:
        aff = _affine(idx)
        if aff is None or aff.floordivs or len(aff.terms) > 1:
            return None
        if aff.terms:
            (v, c), = aff.terms.items()
            if c != 1 or kinds.get(v) != _SPATIAL:
                return None
            out_vars.add(v)
    idx_a = [_affine(i) for i in a.indices]
    idx_b = [_affine(i) for i in b.indices]
    if any(x is None for x in idx_a + idx_b):
        return None

    def windows(indices: list[_Affine], other: list[_Affine]) -> list[tuple[int, str, str | None, int, int]]:
        """(position, spatial var, reduction var or None, stride, dilation) of sliding-window indices.

        The spatial var of a window is an output pixel (P or Q): it never indexes the other operand.
        """
        other_vars = set().union(*(x.vars for x in other)) if other else set()
        found = []
        for pos, aff in enumerate(indices):
            if aff.floordivs:
                continue
            sp = [v for v in aff.terms if kinds.get(v) == _SPATIAL and v in out_vars and v not in other_vars]
            rd = [v for v in aff.terms if kinds.get(v) == _REDUCE]
            if len(sp) == 1 and len(rd) == 1 and len(aff.terms) == 2:
                found.append((pos, sp[0], rd[0], aff.terms[sp[0]], aff.terms[rd[0]]))
            elif len(sp) == 1 and not rd and len(aff.terms) == 1 and aff.terms[sp[0]] > 1:
                found.append((pos, sp[0], None, aff.terms[sp[0]], 1))  # strided 1-wide window
        return found

    win_a, win_b = windows(idx_a, idx_b), windows(idx_b, idx_a)
    if win_a and win_b:
        return None
    if win_b:  # the operand with the sliding window is the input
        a, b, idx_a, idx_b, win_a, win_b = b, a, idx_b, idx_a, win_b, win_a
    inp, wgt, idx_i, idx_w, wins = a, b, idx_a, idx_b, win_a
    if len(wins) > 2:
        return None

    vars_i = set().union(*(x.vars for x in idx_i)) if idx_i else set()
    vars_w = set().union(*(x.vars for x in idx_w)) if idx_w else set()
    win_vars = {w[1] for w in wins} | {w[2] for w in wins if w[2]}
    # Every iteration var must take part, or the block is not a plain MAC nest.
    if set(kinds) - (out_vars | vars_i | vars_w):
        return None

    # Grouped conv: the input's channel index is k // (K/G) * (C/G) + c.
    groups = 1
    k_per_group_var: str | None = None
    channel_pos: int | None = None
    for pos, aff in enumerate(idx_i):
        if aff.floordivs:
            if len(aff.floordivs) != 1:
                return None
            var, div, _coef = aff.floordivs[0]
            if kinds.get(var) != _SPATIAL or var not in vars_w or extents[var] % div:
                return None
            groups = extents[var] // div
            k_per_group_var = var
            channel_pos = pos

    g_vars, n_vars, k_vars, c_vars = [], [], [], []
    for v in kinds:
        if v in win_vars:
            continue
        in_i, in_w, in_o = v in vars_i, v in vars_w, v in out_vars
        if kinds[v] == _SPATIAL:
            if v == k_per_group_var:
                k_vars.append(v)
            elif in_o and in_i and in_w:
                g_vars.append(v)
            elif in_o and in_i:
                n_vars.append(v)
            elif in_o and in_w:
                k_vars.append(v)
            else:
                return None
        else:
            if in_i and in_w:
                c_vars.append(v)
            else:
                return None
    if not (c_vars or any(w[2] for w in wins)):
        return None

    def prod(vs: Iterable[str]) -> int:
        return math.prod(extents[v] for v in vs)

    G = prod(g_vars) * groups
    K = prod(k_vars) // groups
    dims = dict(G=G, N=prod(n_vars), K=K, C=prod(c_vars), P=1, Q=1, R=1, S=1)
    binding: IterBinding = {}
    for dim, vs in (("G", g_vars), ("N", n_vars), ("K", k_vars), ("C", c_vars)):
        for v in vs:
            grouped = v == k_per_group_var
            binding[v] = (("G", groups), ("K", extents[v] // groups)) if grouped else ((dim, extents[v]),)
    stride, dilation = [1, 1], [1, 1]
    for slot, (pos, sv, rv, st, dl) in enumerate(sorted(wins)):
        pd, rd_ = ("P", "R") if slot == 0 and len(wins) == 2 else ("Q", "S")
        dims[pd] = extents[sv]
        dims[rd_] = extents[rv] if rv else 1
        stride[0 if pd == "P" else 1] = st
        dilation[0 if pd == "P" else 1] = dl if rv else 1
        binding[sv] = ((pd, extents[sv]),)
        if rv:
            binding[rv] = ((rd_, extents[rv]),)

    if wins:
        if groups > 1 or g_vars:
            op = "depthwise_conv2d" if dims["C"] == 1 else "group_conv2d"
        else:
            op = "conv2d"
        if channel_pos is None:
            c_positions = [p for p, aff in enumerate(idx_i) if aff.vars & set(c_vars)]
            channel_pos = c_positions[0] if c_positions else None
        win_positions = [w[0] for w in wins]
        layout = "NHWC" if channel_pos is not None and win_positions and channel_pos > max(win_positions) else "NCHW"
    else:
        op = "batch_matmul" if G > 1 else "dense"
        layout = "matmul"

    padding = _padding(inp, wins, producers)
    # Canonical dims made of several TIR loops (N = batch x sequence, G = batch x heads), outer to inner as the
    # block nests them; unit loops change nothing and are left out.
    tir_loops = []
    for dim, vs in (("G", g_vars), ("N", n_vars), ("K", [v for v in k_vars if v != k_per_group_var]), ("C", c_vars)):
        loop_extents = tuple(extents[v] for v in vs if extents[v] > 1)
        if len(loop_extents) > 1:
            tir_loops.append((dim, loop_extents))
    name = _workload_name(op, dims, stride, dilation, tir_loops)
    workload = Workload(
        name=name,
        op=op,
        **dims,
        stride=tuple(stride),
        dilation=tuple(dilation),
        count=count,
        dtype=str(out.dtype),
        layout=layout,
        padding=padding,
        sources=((primfunc, block.name_hint),),
        tir_loops=tuple(tir_loops),
    )
    return BlockAnalysis(workload, binding, {"I": inp.source.name, "W": wgt.source.name, "O": out.name})


def _padding(inp: Any, wins: list[tuple], producers: dict[str, Any]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) if the input is a ``pad_temp``-style copy of another tensor, else zeros."""
    producer = producers.get(inp.source.name)
    if producer is None or len(wins) == 0 or len(producer.reads) != 1:
        return (0, 0, 0, 0)
    src = producer.reads[0].source
    padded_shape = [int(d) for d in inp.source.shape]
    src_shape = [int(d) for d in src.shape]
    if len(padded_shape) != len(src_shape):
        return (0, 0, 0, 0)
    region = producer.reads[0].region
    pads: list[tuple[int, int]] = []
    for pos in [w[0] for w in sorted(wins)][-2:]:
        lo = _affine(region[pos].min)
        top = -lo.const if lo is not None else 0
        pads.append((top, padded_shape[pos] - src_shape[pos] - top))
    while len(pads) < 2:
        pads.insert(0, (0, 0))
    (t, b), (l, r) = pads
    return (t, l, b, r)


def _workload_name(
    op: str, d: dict[str, int], stride: list[int], dilation: list[int], tir_loops: list[tuple[str, tuple[int, ...]]]
) -> str:
    if op in ("dense", "batch_matmul"):
        base = f"{op}_{d['N']}x{d['C']}x{d['K']}"
        name = base if op == "dense" else f"{base}_g{d['G']}"
    else:
        name = f"{op}_{d['R']}x{d['S']}"
        if stride != [1, 1]:
            name += f"_s{stride[0]}" if stride[0] == stride[1] else f"_s{stride[0]}x{stride[1]}"
        if dilation != [1, 1]:
            name += f"_d{dilation[0]}" if dilation[0] == dilation[1] else f"_d{dilation[0]}x{dilation[1]}"
        name += f"_c{d['C']}_k{d['K']}_{d['P']}x{d['Q']}"
        if d["G"] > 1:
            name += f"_g{d['G']}"
        if d["N"] > 1:
            name += f"_n{d['N']}"
    # A dim made of several TIR loops is another workload (its signature differs): say so in the name.
    return name + "".join(f"_{dim}{'x'.join(map(str, extents))}" for dim, extents in tir_loops)
