"""Random one-layer ONNX models of every kind the extractor produces, as hypothesis strategies (the schedule fuzzer).

Each case is an ONNX model with one MAC op: Conv (stride, dilation, asymmetric padding, groups, depthwise with a
channel multiplier, optional bias), MatMul with a weight from 2-D, 3-D and 4-D inputs (N made of several TIR
loops), batch MatMul with one or two batch loops (G made of several TIR loops, or batch x heads with the weight
broadcast over the batch), and Gemm with ``transB`` and an optional bias. Sizes are small and mostly odd, so tiles
straddle loop boundaries and factors are imperfect.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import helper

from .onnx_util import make_model


@dataclasses.dataclass(frozen=True)
class Case:
    """A generated model and a one-line description for failure messages."""

    kind: str
    text: str
    model: onnx.ModelProto


def _weights(seed: int, **shapes: tuple[int, ...]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


@st.composite
def conv_cases(draw) -> Case:
    groups_kind = draw(st.sampled_from(["dense", "grouped", "depthwise"]))
    n = draw(st.integers(1, 2))
    if groups_kind == "dense":
        groups, cin, cout = 1, draw(st.integers(1, 9)), draw(st.integers(1, 9))
    elif groups_kind == "grouped":
        groups = draw(st.integers(2, 4))
        cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    else:
        groups = cin = draw(st.integers(2, 9))
        cout = cin * draw(st.integers(1, 2))  # channel multiplier 1 or 2
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pads = [draw(st.integers(0, 2)) for _ in range(4)]  # top, left, bottom, right
    h = draw(st.integers(max(1, (kh - 1) * dh + 1 - pads[0] - pads[2]), 11))
    w = draw(st.integers(max(1, (kw - 1) * dw + 1 - pads[1] - pads[3]), 11))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    inputs = ["x", "w"] + (["b"] if bias else [])
    node = helper.make_node(
        "Conv", inputs, ["y"], strides=[sh, sw], dilations=[dh, dw], group=groups,
        pads=[pads[0], pads[1], pads[2], pads[3]], kernel_shape=[kh, kw],
    )
    weights = _weights(seed, w=(cout, cin // groups, kh, kw), **({"b": (cout,)} if bias else {}))
    text = (f"Conv x[{n},{cin},{h},{w}] w[{cout},{cin // groups},{kh},{kw}] stride {sh}x{sw} dil {dh}x{dw} "
            f"pads {pads} groups {groups}{' +bias' if bias else ''}")
    return Case("conv", text, make_model([node], {"x": [n, cin, h, w]}, ["y"], weights))


@st.composite
def matmul_cases(draw) -> Case:
    """A Linear layer: ``[*batch, M, C] x [C, K]`` with 0, 1 or 2 leading batch dims."""
    batch = draw(st.lists(st.integers(1, 5), min_size=0, max_size=2))
    m, c, k = draw(st.integers(1, 33)), draw(st.integers(1, 33)), draw(st.integers(1, 33))
    seed = draw(st.integers(0, 2**16))
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    shape = [*batch, m, c]
    model = make_model([node], {"x": shape}, ["y"], _weights(seed, w=(c, k)))
    return Case("matmul", f"MatMul x{shape} w[{c},{k}]", model)


@st.composite
def batch_matmul_cases(draw) -> Case:
    """``[*batch, M, C] x [*batch', C, K]``, both inputs: one or two batch loops, or the weight broadcast over the
    first batch dim (batch x heads with shared heads)."""
    batch = draw(st.lists(st.integers(2, 4), min_size=1, max_size=2))
    broadcast = len(batch) == 2 and draw(st.booleans())
    m, c, k = draw(st.integers(1, 17)), draw(st.integers(1, 17)), draw(st.integers(1, 17))
    a, b = [*batch, m, c], [*(batch[1:] if broadcast else batch), c, k]
    node = helper.make_node("MatMul", ["x", "y"], ["z"])
    return Case("batch_matmul", f"MatMul x{a} y{b}", make_model([node], {"x": a, "y": b}, ["z"]))


@st.composite
def gemm_cases(draw) -> Case:
    """ONNX Gemm ``x[M, C] x B`` with ``transB`` (B stored ``[K, C]``) and an optional bias."""
    m, c, k = draw(st.integers(1, 33)), draw(st.integers(1, 33)), draw(st.integers(1, 33))
    trans_b, bias = draw(st.booleans()), draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    weights = _weights(seed, B=(k, c) if trans_b else (c, k), **({"C": (k,)} if bias else {}))
    node = helper.make_node("Gemm", ["x", "B"] + (["C"] if bias else []), ["y"], transB=int(trans_b))
    text = f"Gemm x[{m},{c}] B{list(weights['B'].shape)} transB {int(trans_b)}{' +bias' if bias else ''}"
    return Case("gemm", text, make_model([node], {"x": [m, c]}, ["y"], weights))


#: Every kind of case, equally likely.
any_case = st.one_of(conv_cases(), matmul_cases(), batch_matmul_cases(), gemm_cases())
