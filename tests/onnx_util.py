"""Tiny ONNX graph builders for tests (independent of the zoo)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def make_model(
    nodes: Sequence[onnx.NodeProto],
    inputs: dict[str, Sequence[int | str]],
    outputs: Sequence[str],
    weights: dict[str, np.ndarray] | None = None,
    opset: int = 17,
) -> onnx.ModelProto:
    """A float32 ONNX model from nodes, named input shapes (ints or dim names), outputs and initializers."""
    graph = helper.make_graph(
        list(nodes),
        "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(v if v.dtype.kind == "i" else v.astype(np.float32), k) for k, v in (weights or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    # Fill in the output shapes so that the model passes onnx.checker like an exported one would.
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def linear_3d_model() -> onnx.ModelProto:
    """A Linear layer on a 3-D tensor, ``[16, 31, 32] x [32, 32]``: N = 16 x 31 is two TIR loops (issue 11)."""
    w = np.random.default_rng(0).standard_normal((32, 32))
    return make_model([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [16, 31, 32]}, ["y"], {"w": w})


def conv_model(
    cin: int, cout: int, hw: int, k: int, stride: int = 1, pad: int = 0, dilation: int = 1, groups: int = 1
) -> onnx.ModelProto:
    """One Conv (no bias) on a 1×cin×hw×hw input."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((cout, cin // groups, k, k))
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], strides=[stride] * 2, pads=[pad] * 4, dilations=[dilation] * 2, group=groups
    )
    return make_model([node], {"x": [1, cin, hw, hw]}, ["y"], {"w": w})
