"""Checks of one scheduled mapping against numpy, brute force and the cost model (shared by the schedule tests and
the differential fuzzer).

:func:`check_schedule` builds ``apply_mapping(func, workload, mapping)`` on llvm and

* compares its output with :func:`reference`, the layer in numpy (sliding windows and einsum for convs,
  ``np.matmul`` for dense and batch matmul, plus a fused bias), independent of TVM;
* reads the lowered TIR: with perfect factors every compacted cache buffer equals the box of TIR indices the
  loops below the stage touch, found by enumerating them in the *TIR* axes (:func:`tir_box`: a dim made of several
  TIR loops is unravelled into them, a grouped conv's channels are one axis), and the GB buffer equals the cost
  model's GB tile; each stage moves (executions × region) what the cost model charges the level (with imperfect
  factors too, for weights and outputs).
"""

from __future__ import annotations

import numpy as np
import tvm

from tvm_codesign.cost.model import evaluate
from tvm_codesign.model.hardware import LEVELS
from tvm_codesign.model.loop_nest import attach_position
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.compiler.schedule import apply_mapping
from tvm_codesign.testing import lowered_buffer_sizes, stage_transfer_counts
from tvm_codesign.model.workload import OPERANDS, Workload


def param_shapes(func) -> list[list[int]]:
    """Shapes of a PrimFunc's parameters (the last one is the output)."""
    return [[int(d) for d in p.ty.shape] for p in func.params]


def random_args(func, rng: np.random.Generator) -> list[np.ndarray]:
    """Standard-normal float32 arrays for every parameter but the last (the output)."""
    return [rng.standard_normal(shape).astype("float32") for shape in param_shapes(func)[:-1]]


def _conv(w: Workload, x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """NCHW conv of ``w`` in numpy: zero padding (asymmetric too), stride, dilation, groups."""
    top, left, bottom, right = w.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    g = w.G
    n, c_all = xp.shape[:2]
    xg = xp.reshape(n, g, c_all // g, *xp.shape[2:])
    kh = (w.R - 1) * w.dilation[0] + 1
    kw = (w.S - 1) * w.dilation[1] + 1
    win = np.lib.stride_tricks.sliding_window_view(xg, (kh, kw), axis=(3, 4))
    win = win[:, :, :, :: w.stride[0], :: w.stride[1]][:, :, :, : w.P, : w.Q]
    win = win[..., :: w.dilation[0], :: w.dilation[1]]
    wg = wt.reshape(g, wt.shape[0] // g, *wt.shape[1:])
    out = np.einsum("ngcpqrs,gkcrs->ngkpq", win.astype(np.float64), wg.astype(np.float64))
    return out.reshape(n, g * (wt.shape[0] // g), w.P, w.Q)


def reference(w: Workload, args: list[np.ndarray]) -> np.ndarray:
    """The fused layer in numpy: the MAC op on the first two arguments, plus a third (a bias) broadcast."""
    if w.op in ("dense", "batch_matmul"):
        out = np.matmul(args[0].astype(np.float64), args[1].astype(np.float64))
    else:
        out = _conv(w, args[0], args[1])
    for extra in args[2:]:
        out = out + extra
    return out


def _unravel(index: np.ndarray, loops: tuple[int, ...]) -> list[np.ndarray]:
    """Indices of a canonical dim as the TIR loops that make it (outer to inner)."""
    return list(np.unravel_index(index, loops)) if len(loops) > 1 else [index]


def tir_box(w: Workload, mapping: Mapping, operand: str, attach: int, box: bool = True) -> int:
    """Elements of the box (``box=True``) or of the set of TIR indices of ``operand`` that the loops below
    ``attach`` touch at the first iteration above it, by enumerating them.

    Indices are in the TIR tensor's axes: a canonical dim made of several TIR loops (``w.tir_loops``) is
    unravelled into them, a grouped conv's channel axis is ``g·(K/G) + k`` (``g·(C/G) + c`` for the input), the
    input's rows and columns are the (padded) window ``p·stride + r·dilation``.
    """
    idx = {d: np.zeros(1, dtype=np.int64) for d in "GNKCPQRS"}
    for pos, l in enumerate(mapping.loops):
        if pos <= attach:
            continue
        inner = 1  # inner loops of a dim are finer
        for m in mapping.loops[pos + 1 :]:
            if m.dim == l.dim:
                inner *= m.factor
        idx[l.dim] = (idx[l.dim][:, None] + np.arange(l.factor)[None, :] * inner).reshape(-1)
    for d in idx:
        idx[d] = np.unique(idx[d][idx[d] < getattr(w, d)])  # padded iterations touch nothing
    grouped = w.op in ("group_conv2d", "depthwise_conv2d")
    if operand == "W":
        axes = [("G", "K"), ("C",), ("R",), ("S",)] if grouped else [("G",), ("C",), ("K",), ("R",), ("S",)]
    elif operand == "O":
        axes = [("N",), ("G", "K"), ("P",), ("Q",)] if grouped else [("G",), ("N",), ("K",), ("P",), ("Q",)]
    else:
        axes = [("N",), ("G", "C"), ("P", "R"), ("Q", "S")]
        if not grouped:
            axes = [("G",)] + axes[:1] + [("C",)] + axes[2:]
    # One grid over the dims that index the operand, then each TIR axis as a function of it.
    dims = sorted({d for ax in axes for d in ax}, key="GNKCPQRS".index)
    grids = dict(zip(dims, (g.reshape(-1) for g in np.meshgrid(*(idx[d] for d in dims), indexing="ij"))))
    columns: list[np.ndarray] = []
    for ax in axes:
        if ax in (("P", "R"), ("Q", "S")):
            k = 0 if ax[0] == "P" else 1
            columns.append(grids[ax[0]] * w.stride[k] + grids[ax[1]] * w.dilation[k])
        elif len(ax) == 2:  # grouped channels: one TIR axis
            columns.append(grids[ax[0]] * getattr(w, ax[1]) + grids[ax[1]])
        else:
            columns += _unravel(grids[ax[0]], w.loops_of(ax[0]))
    if not box:
        return len(np.unique(np.stack(columns, axis=1), axis=0))
    # A buffer holds a box: per tensor axis, from the lowest to the highest index touched.
    return int(np.prod([int(c.max() - c.min() + 1) if c.size else 0 for c in columns]))


def expected_transfer(cost, mapping: Mapping, operand: str, level: str, attach: int) -> float:
    """What the cost model says a stage moves.

    A GB stage moves GB's fills (outputs: GB's write-backs into DRAM). An RF stage attached above the spatial
    loops moves, per fill, the union of the per-PE tiles: the parent's reads that feed the array (outputs: the
    parent's updates). One attached below them runs once per PE: it moves the RF fills themselves (outputs: the
    parent's updates still, as the PEs' output tiles are disjoint there).
    """
    oi = OPERANDS.index(operand)
    lv = {name: i for i, name in enumerate(LEVELS)}
    if level == "GB":
        return cost.fills[lv["GB"], oi, 0] if operand != "O" else cost.updates[lv["DRAM"], oi, 0]
    spatial = [i for i, l in enumerate(mapping.loops) if l.spatial and l.factor > 1]
    if spatial and attach > spatial[0] and operand != "O":
        return cost.fills[lv["RF"], oi, 0]
    # Outputs: a stage below spatial loops (only possible over output dims: a reduction one would spill and is
    # refused) drains each PE's own tile, E·T·PEs words in all, which is the union E·U the parent is updated with.
    parent = "GB" if mapping.cut("GB", operand) is not None else "DRAM"
    return cost.reads[lv[parent], oi, 0] if operand != "O" else cost.updates[lv[parent], oi, 0]


def run(mod, args: list[np.ndarray], shape) -> np.ndarray:
    """Build ``mod`` for llvm and run its ``main`` on ``args``; the output as an array."""
    lib = tvm.compile(mod, target="llvm")
    out = tvm.runtime.empty(tuple(shape), "float32")
    lib["main"](*[tvm.runtime.tensor(a) for a in args], out)
    return out.numpy()


def check_schedule(w, func, block, hw, mapping, args, want) -> None:
    """Build ``mapping`` as a schedule and check it.

    Before running it (a tile that is not a box would write out of bounds): with perfect factors every compacted
    cache buffer equals the brute-force box of TIR indices; whatever the factors, a tile with gaps is only an
    input's strided or dilated window. Then its output against numpy, and the data each stage moves against the
    cost model's counts: every stage with perfect factors, weights and outputs with imperfect ones too (TVM's
    compaction over-allocates some padded tiles, so buffer sizes are compared on perfect factors only).
    """
    sch, stages = apply_mapping(func, w, mapping, block)
    sizes = lowered_buffer_sizes(sch.mod)
    perfect = all(v == 0 for v in mapping.padding(w).values())
    for st in stages:
        attach = attach_position(mapping, st.operand, mapping.cut(st.level, st.operand))
        box, touched = tir_box(w, mapping, st.operand, attach), tir_box(w, mapping, st.operand, attach, box=False)
        if perfect:
            assert sizes[st.buffer] == box, (st, str(mapping), sizes[st.buffer], box, touched)
        if touched < box:
            # Only a strided or dilated window leaves gaps in a tile: TVM holds the box, the cost model counts the
            # rows the layer reads (docs/cost-model.md, "Strided windows"). Any other gap would be a tile that is
            # not a box of the TIR axes (it straddles a loop boundary): refused by the rule.
            assert st.operand == "I" and max(w.stride + w.dilation) > 1, (st, str(mapping), box, touched)
    got = run(sch.mod, args, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=str(mapping))
    cost = evaluate(w, hw, [mapping])
    assert cost.valid[0]
    moved = stage_transfer_counts(sch.mod)
    for st in stages:
        if not perfect and st.operand == "I":
            # With ceil splits the input's window over padded output rows reaches past the tensor: TVM's stages
            # move that halo, the cost model clips it. Weights and outputs are compared with padding too.
            continue
        attach = attach_position(mapping, st.operand, mapping.cut(st.level, st.operand))
        expected = expected_transfer(cost, mapping, st.operand, st.level, attach)
        box, touched = tir_box(w, mapping, st.operand, attach), tir_box(w, mapping, st.operand, attach, box=False)
        if touched < box:
            if st.level == "GB":
                assert cost.tile_words[1, OPERANDS.index(st.operand), 0] == touched, st
            assert moved[st.block] > expected, (st, str(mapping))
            continue
        if st.level == "GB" and perfect:  # the box is the compacted buffer (checked above)
            assert box == cost.tile_words[1, OPERANDS.index(st.operand), 0], st
        assert moved[st.block] == expected, (st, str(mapping))
        if st.kind == "accumulate" and perfect:
            # The rfactor write-back reads the partial sums in the parent on every visit, the first included
            # (where they are still the init's zeros); the cost model reads back only on the later visits. With
            # perfect factors every output element has exactly one first visit.
            assert moved[st.block] - want.size == cost.fills[LEVELS.index(st.level), OPERANDS.index("O"), 0], st
