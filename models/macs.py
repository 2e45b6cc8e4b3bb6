"""Count multiply-accumulates of an ONNX model from the graph itself, with no TVM.

This is the independent reference that TVM-based workload extraction is checked against: shapes come from
``onnx.shape_inference`` and the formulas are the textbook ones,

* ``Conv``: ``N * K * (C / group) * P * Q * R * S`` = ``prod(output shape) * prod(weight shape[1:])``;
* ``MatMul``: ``prod(batch) * M * K * N`` with numpy broadcasting of the batch dims (1-D operands promoted);
* ``Gemm``: ``M * K * N`` (after ``transA`` / ``transB``).

Every other op (pooling, elementwise, Softmax, LayerNormalization) counts zero: they are not MAC loop nests.
"""

from __future__ import annotations

import math
import os
from typing import Sequence

import onnx
from google.protobuf.message import DecodeError

from tvm_codesign.errors import CodesignError

#: Op types that are counted.
MAC_OPS: tuple[str, ...] = ("Conv", "Gemm", "MatMul")


def _static_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    """Name -> static shape of every tensor the inferred graph knows (symbolic dims become -1)."""
    shapes: dict[str, tuple[int, ...]] = {}
    graph = model.graph
    for init in graph.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    for vi in (*graph.input, *graph.value_info, *graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim)
    return shapes


def _shape(shapes: dict[str, tuple[int, ...]], name: str, node: onnx.NodeProto) -> tuple[int, ...]:
    shape = shapes.get(name)
    if shape is None or any(d < 0 for d in shape):
        raise CodesignError(
            f"cannot count MACs of {node.op_type} node {node.name or node.output[0]!r}: tensor {name!r} has no static "
            "shape (give the model fixed input shapes)"
        )
    return shape


def _matmul_macs(a: Sequence[int], b: Sequence[int]) -> int:
    # numpy.matmul semantics: a 1-D operand is promoted to a matrix and the added dim removed afterwards.
    a = (1, *a) if len(a) == 1 else tuple(a)
    b = (*b, 1) if len(b) == 1 else tuple(b)
    batch = _broadcast(a[:-2], b[:-2])
    return math.prod(batch) * a[-2] * a[-1] * b[-1]


def _broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def node_macs(model: onnx.ModelProto | str | os.PathLike) -> list[tuple[str, str, int]]:
    """MACs of every ``Conv`` / ``Gemm`` / ``MatMul`` node in graph order.

    Parameters
    ----------
    model
        A ``ModelProto`` or the path of an ``.onnx`` file. It must have static shapes.

    Returns
    -------
    list of (node name, op type, MACs)
        Nodes without a name are reported by their first output's name.

    Raises
    ------
    CodesignError
        If a counted node's operand or output has no static shape.
    """
    if not isinstance(model, onnx.ModelProto):
        try:
            model = onnx.load(os.fspath(model))
        except (OSError, DecodeError) as err:
            raise CodesignError(f"cannot read ONNX model {os.fspath(model)!r}: {err}") from err
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except onnx.shape_inference.InferenceError as err:
        raise CodesignError(f"ONNX shape inference failed: {err}") from err
    shapes = _static_shapes(inferred)
    out: list[tuple[str, str, int]] = []
    for node in inferred.graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in MAC_OPS:
            continue
        label = node.name or node.output[0]
        if node.op_type == "Conv":
            y = _shape(shapes, node.output[0], node)
            w = _shape(shapes, node.input[1], node)
            # out = [N, K, P, Q, ...], weight = [K, C/group, R, S, ...]
            macs = math.prod(y) * math.prod(w[1:])
        elif node.op_type == "MatMul":
            macs = _matmul_macs(_shape(shapes, node.input[0], node), _shape(shapes, node.input[1], node))
        else:  # Gemm
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            a = _shape(shapes, node.input[0], node)
            b = _shape(shapes, node.input[1], node)
            m, k = (a[1], a[0]) if attrs.get("transA", 0) else (a[0], a[1])
            n = b[0] if attrs.get("transB", 0) else b[1]
            macs = m * k * n
        out.append((label, node.op_type, int(macs)))
    return out


def onnx_macs(model: onnx.ModelProto | str | os.PathLike) -> int:
    """Total MACs of the ``Conv`` / ``Gemm`` / ``MatMul`` nodes of an ONNX model (see :func:`node_macs`)."""
    return sum(macs for _, _, macs in node_macs(model))
