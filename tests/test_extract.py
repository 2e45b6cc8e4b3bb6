"""Workload extraction follows the TIR access patterns, not op names."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from onnx import helper

import tvm
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R
from tvm.script import tirx as T

from tvm_codesign.errors import CodesignError
from tvm_codesign.compiler.extract import extract_workloads
from tvm_codesign.compiler.frontend import load_model
from tvm_codesign.model.workload import Workload

from .onnx_util import conv_model, make_model


def _out(h: int, k: int, stride: int, pad: int, dil: int) -> int:
    """Output size by the usual convolution formula (floor division)."""
    return (h + 2 * pad - dil * (k - 1) - 1) // stride + 1


CONV_CASES = [
    # cin, cout, hw, k, stride, pad, dilation, groups
    (8, 16, 14, 3, 1, 1, 1, 1),
    (8, 16, 15, 3, 2, 1, 1, 1),
    (8, 16, 14, 1, 2, 0, 1, 1),
    (8, 16, 14, 3, 1, 2, 2, 1),
    (8, 16, 14, 3, 1, 1, 1, 4),
    (16, 16, 14, 3, 2, 1, 1, 16),
    (8, 16, 14, 3, 1, 1, 1, 8),  # depthwise with channel multiplier 2
    (4, 8, 20, 5, 3, 0, 1, 1),
]


@pytest.mark.parametrize("cin,cout,hw,k,stride,pad,dil,groups", CONV_CASES)
def test_conv_variants_nchw(cin, cout, hw, k, stride, pad, dil, groups):
    ex = extract_workloads(load_model(conv_model(cin, cout, hw, k, stride, pad, dil, groups)))
    assert len(ex.workloads) == 1
    w = ex.workloads[0]
    p = _out(hw, k, stride, pad, dil)
    assert (w.G, w.N, w.K, w.C, w.P, w.Q, w.R, w.S) == (groups, 1, cout // groups, cin // groups, p, p, k, k)
    assert w.stride == (stride, stride) and w.dilation == (dil, dil)
    assert w.count == 1 and w.layout == "NCHW"
    assert w.padding == (pad, pad, pad, pad) or stride > 1  # bottom pad may be trimmed by the strided window
    expected_op = "conv2d" if groups == 1 else ("depthwise_conv2d" if cin == groups else "group_conv2d")
    assert w.op == expected_op
    assert w.macs == cout * (cin // groups) * p * p * k * k


def _relax_conv_nhwc(cin: int, cout: int, hw: int, k: int, stride: int, pad: int, groups: int) -> tvm.IRModule:
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, hw, hw, cin), "float32"))
    wgt = relax.Var("w", relax.TensorType((k, k, cin // groups, cout), "float32"))
    with bb.function("main", [x, wgt]):
        with bb.dataflow():
            y = bb.emit(
                relax.op.nn.conv2d(
                    x, wgt, strides=stride, padding=pad, groups=groups, data_layout="NHWC", kernel_layout="HWIO"
                )
            )
            out = bb.emit_output(y)
        bb.emit_func_output(out)
    return bb.get()


@pytest.mark.parametrize("stride,pad,groups", [(1, 1, 1), (2, 1, 1), (1, 1, 4)])
def test_conv_nhwc_from_relax(stride, pad, groups):
    ex = extract_workloads(load_model(_relax_conv_nhwc(8, 16, 14, 3, stride, pad, groups)))
    (w,) = ex.workloads
    p = _out(14, 3, stride, pad, 1)
    assert (w.G, w.K, w.C, w.P, w.Q, w.R, w.S) == (groups, 16 // groups, 8 // groups, p, p, 3, 3)
    assert w.stride == (stride, stride)
    assert w.layout == "NHWC"


def test_matmul_gemm_and_batch_matmul():
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
        helper.make_node("Reshape", ["h", "shape"], ["h3"]),
        helper.make_node("Transpose", ["h3"], ["h3t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["h3", "h3t"], ["y"]),
    ]
    weights = {
        "w1": rng.standard_normal((48, 32)),
        "b1": rng.standard_normal(48),
        "shape": np.array([2, 3, 48], dtype=np.int64),
    }
    model = make_model(nodes, {"x": [6, 32]}, ["y"], weights)
    ex = extract_workloads(load_model(model))
    by_op = {w.op: w for w in ex.workloads}
    dense = by_op["dense"]
    assert (dense.G, dense.N, dense.K, dense.C) == (1, 6, 48, 32)
    bmm = by_op["batch_matmul"]
    # [2,3,48] x [2,48,3]: batch 2 is G, rows 3 are N, columns 3 are K, reduction 48 is C
    assert (bmm.G, bmm.N, bmm.K, bmm.C) == (2, 3, 3, 48)
    assert ex.total_macs == 6 * 48 * 32 + 2 * 3 * 3 * 48


def test_identical_layers_merge_with_count():
    rng = np.random.default_rng(2)
    nodes = [helper.make_node("MatMul", [f"h{i}", f"w{i}"], [f"h{i + 1}"]) for i in range(3)]
    nodes.append(helper.make_node("Relu", ["h3"], ["y"]))
    weights = {f"w{i}": rng.standard_normal((16, 16)) for i in range(3)}
    model = make_model(nodes, {"h0": [4, 16]}, ["y"], weights)
    ex = extract_workloads(load_model(model))
    (w,) = ex.workloads
    assert (w.N, w.K, w.C, w.count) == (4, 16, 16, 3)
    assert len(w.sources) >= 1


@I.ir_module
class UnusualNames:
    """A hand-written matmul with names nothing would recognise, plus a sum of squares (not a MAC)."""

    @T.prim_func(private=True, s_tir=True)
    def blend_thing(a: T.Buffer((8, 12), "float32"), b: T.Buffer((12, 5), "float32"), c: T.Buffer((8, 5), "float32")):
        for i, j, r in T.grid(8, 5, 12):
            with T.sblock("mix"):
                vi, vj, vr = T.axis.remap("SSR", [i, j, r])
                with T.init():
                    c[vi, vj] = T.float32(0)
                c[vi, vj] = c[vi, vj] + a[vi, vr] * b[vr, vj]

    @T.prim_func(private=True, s_tir=True)
    def squash(a: T.Buffer((8, 5), "float32"), s: T.Buffer((8,), "float32")):
        for i, r in T.grid(8, 5):
            with T.sblock("acc"):
                vi, vr = T.axis.remap("SR", [i, r])
                with T.init():
                    s[vi] = T.float32(0)
                s[vi] = s[vi] + a[vi, vr] * a[vi, vr]

    @R.function
    def main(x: R.Tensor((8, 12), "float32"), y: R.Tensor((12, 5), "float32")) -> R.Tensor((8,), "float32"):
        cls = UnusualNames
        with R.dataflow():
            c = R.call_tir(cls.blend_thing, (x, y), out_ty=R.Tensor((8, 5), "float32"))  # noqa: F841 - a second call site, unused on purpose
            d = R.call_tir(cls.blend_thing, (x, y), out_ty=R.Tensor((8, 5), "float32"))
            s = R.call_tir(cls.squash, (d,), out_ty=R.Tensor((8,), "float32"))
            R.output(s)
        return s


def test_unusual_names_still_extract():
    ex = extract_workloads(UnusualNames, lowered=True)
    (w,) = ex.workloads
    assert w.op == "dense" and (w.N, w.K, w.C) == (8, 5, 12) and w.count == 2
    assert w.sources == (("blend_thing", "mix"),)
    # The sum of squares is a reduction but not a two-tensor MAC: listed as not mapped.
    assert [(u.block, u.kind, u.ops) for u in ex.unmapped] == [("acc", "reduction", 40)]
    assert ex.mapped_share == pytest.approx(2 * 480 / (2 * 480 + 40))


def test_pooling_and_softmax_are_not_workloads():
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Softmax", ["f"], ["y"]),
    ]
    with pytest.raises(CodesignError, match="no conv2d, dense or matmul"):
        extract_workloads(load_model(make_model(nodes, {"x": [1, 4, 8, 8]}, ["y"])))


def test_dims_made_of_several_tir_loops_are_recorded():
    """A Linear layer on a 4-D tensor (N = 2 x 3 x 5), a batch matmul over batch and heads (G = 2 x 3) and one with
    the weight shared across the batch (batch x rows is N, heads are G): the TIR loops of each dim, outer to inner,
    are part of the signature, so the same dims made of other loops are another workload."""
    rng = np.random.default_rng(2)
    linear = make_model([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [2, 3, 5, 4]}, ["y"],
                        {"w": rng.standard_normal((4, 6))})
    (w,) = extract_workloads(load_model(linear)).workloads
    assert (w.op, w.N, w.tir_loops, w.name) == ("dense", 30, (("N", (2, 3, 5)),), "dense_30x4x6_N2x3x5")
    heads = make_model([helper.make_node("MatMul", ["a", "b"], ["y"])], {"a": [2, 3, 5, 4], "b": [2, 3, 4, 7]}, ["y"])
    (g,) = extract_workloads(load_model(heads)).workloads
    assert (g.op, g.G, g.N, g.K, g.tir_loops) == ("batch_matmul", 6, 5, 7, (("G", (2, 3)),))
    shared = make_model([helper.make_node("MatMul", ["a", "b"], ["y"])], {"a": [2, 3, 5, 4], "b": [3, 4, 7]}, ["y"])
    (s,) = extract_workloads(load_model(shared)).workloads
    assert (s.op, s.G, s.N, s.tir_loops) == ("batch_matmul", 3, 10, (("N", (2, 5)),))
    flat = Workload("flat", "dense", N=30, K=6, C=4)
    assert flat.signature != w.signature and flat.signature == dataclasses.replace(w, tir_loops=()).signature
    assert Workload.from_json(w.to_json()) == w and w.to_json()["tir_loops"] == {"N": [2, 3, 5]}
    for bad, fragment in (({"N": [2, 3]}, "multiplies to 6, not N = 30"), ({"N": [30]}, "two or more extents"),
                          ({"X": [2, 15]}, "unknown or twice")):
        with pytest.raises(CodesignError, match=re.escape(fragment)):
            Workload("bad", "dense", N=30, tir_loops=bad)
