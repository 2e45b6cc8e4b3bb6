"""A small ONNX graph builder shared by the zoo's model families.

Every layer is written once here (conv with bias, linear, pooling, attention pieces), and every
multiply-accumulate layer records its MACs from the builder's *own* shape bookkeeping. That record is
independent of :func:`models.macs.onnx_macs` (which reads the finished graph through ONNX shape inference),
so the two can check each other.

Weights are declared while the graph is built and only drawn from the seeded RNG in :meth:`Graph.to_model`,
so the structure (shapes, layer MACs) of even ResNet-50 is available without generating 25 M random numbers.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: Bump when a change here changes the ONNX any builder writes (it is part of the zoo cache file name).
GRAPH_VERSION = 1

#: ONNX opset and IR version of every zoo model (IR 8 is the one that introduced opset 17).
OPSET = 17
IR_VERSION = 8


@dataclasses.dataclass(frozen=True)
class Layer:
    """One MAC layer as the builder sees it.

    Parameters
    ----------
    name
        The ONNX node name of the Conv / Gemm / MatMul.
    op
        The ONNX op type.
    macs
        Multiply-accumulates from the builder's shapes: conv ``N*K*(C/group)*P*Q*R*S``, matmul
        ``prod(batch)*M*K*N``.
    shape
        Human-readable shape summary, e.g. ``"4x84x84 -> 32x20x20, 8x8/4"``.
    """

    name: str
    op: str
    macs: int
    shape: str


@dataclasses.dataclass
class _Init:
    """An initializer to be materialised later: explicit values or a seeded random draw."""

    name: str
    shape: tuple[int, ...]
    std: float = 0.0
    mean: float = 0.0
    value: np.ndarray | None = None
    dtype: type = np.float32


class Graph:
    """Builds one ONNX graph with static shapes and float32 weights.

    Parameters
    ----------
    name
        Graph name (the zoo name).
    seed
        Seed of the numpy RNG that draws all weights, in declaration order.
    doc
        Doc string stored in the model (cite the architecture's source here).
    """

    def __init__(self, name: str, seed: int, doc: str = "") -> None:
        self.name = name
        self.seed = seed
        self.doc = doc
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[_Init] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.layers: list[Layer] = []
        self._names: set[str] = set()

    # ------------------------------------------------------------------ plumbing
    def _unique(self, name: str) -> str:
        if name in self._names:
            raise ValueError(f"duplicate node name {name!r} in {self.name}")
        self._names.add(name)
        return name

    def _node(self, op: str, inputs: Sequence[str], name: str, shape: Sequence[int], **attrs: object) -> str:
        """Add one node with a single output named after the node; record the output shape."""
        name = self._unique(name)
        self.nodes.append(helper.make_node(op, list(inputs), [name], name=name, **attrs))
        self.shapes[name] = tuple(int(d) for d in shape)
        return name

    def weight(self, name: str, shape: Sequence[int], std: float, mean: float = 0.0) -> str:
        """Declare a random-normal float32 initializer (drawn in :meth:`to_model`)."""
        self.inits.append(_Init(self._unique(name), tuple(shape), std=std, mean=mean))
        self.shapes[name] = tuple(shape)
        return name

    def const(self, name: str, value: np.ndarray) -> str:
        """Declare an initializer with fixed values (shapes for Reshape, scalars)."""
        value = np.asarray(value)
        self.inits.append(_Init(self._unique(name), value.shape, value=value, dtype=value.dtype.type))
        self.shapes[name] = tuple(value.shape)
        return name

    def input(self, name: str, shape: Sequence[int]) -> str:
        """Declare a float32 graph input with a fixed shape."""
        self.inputs.append(helper.make_tensor_value_info(self._unique(name), TensorProto.FLOAT, list(shape)))
        self.shapes[name] = tuple(shape)
        return name

    def output(self, x: str, name: str = "output") -> str:
        """Expose ``x`` as the graph output ``name`` (through an Identity so the name is stable)."""
        out = self._node("Identity", [x], name, self.shapes[x])
        self.outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, list(self.shapes[out])))
        return out

    @property
    def total_macs(self) -> int:
        """Sum of the recorded layers' MACs."""
        return sum(layer.macs for layer in self.layers)

    # ------------------------------------------------------------------ MAC layers
    def conv(
        self,
        x: str,
        out_ch: int,
        kernel: int,
        stride: int = 1,
        pad: int | None = None,
        group: int = 1,
        name: str = "conv",
        gain: float = math.sqrt(2.0),
    ) -> str:
        """2-D convolution with bias (BatchNorm folded in: the weights are random anyway).

        ``pad`` defaults to ``kernel // 2`` ("same" for odd kernels at stride 1). Weights are He-normal scaled
        by ``gain / sqrt(fan_in)`` so activations stay finite through deep stacks.
        """
        n, c, h, w = self.shapes[x]
        if c % group or out_ch % group:
            raise ValueError(f"{name}: channels {c}->{out_ch} not divisible by group {group}")
        pad = kernel // 2 if pad is None else pad
        p = (h + 2 * pad - kernel) // stride + 1
        q = (w + 2 * pad - kernel) // stride + 1
        cg = c // group
        wgt = self.weight(f"{name}.weight", (out_ch, cg, kernel, kernel), gain / math.sqrt(cg * kernel * kernel))
        bias = self.weight(f"{name}.bias", (out_ch,), 0.01)
        y = self._node(
            "Conv", [x, wgt, bias], name, (n, out_ch, p, q),
            kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4, group=group,
        )
        macs = n * out_ch * cg * p * q * kernel * kernel
        kind = "dw " if group == c and group > 1 else (f"g{group} " if group > 1 else "")
        self.layers.append(Layer(name, "Conv", macs, f"{kind}{c}x{h}x{w} -> {out_ch}x{p}x{q}, {kernel}x{kernel}/{stride}"))
        return y

    def gemm(self, x: str, out_features: int, name: str = "fc", gain: float = math.sqrt(2.0)) -> str:
        """Fully connected layer on a 2-D ``[M, in]`` tensor as ONNX ``Gemm`` with ``transB=1`` (torch layout)."""
        m, k = self.shapes[x]
        wgt = self.weight(f"{name}.weight", (out_features, k), gain / math.sqrt(k))
        bias = self.weight(f"{name}.bias", (out_features,), 0.01)
        y = self._node("Gemm", [x, wgt, bias], name, (m, out_features), transB=1)
        self.layers.append(Layer(name, "Gemm", m * k * out_features, f"{m}x{k} @ {k}x{out_features}"))
        return y

    def matmul(self, a: str, b: str, name: str) -> str:
        """``MatMul`` of two tensors of rank >= 2 with equal (or broadcast) batch dims."""
        sa, sb = self.shapes[a], self.shapes[b]
        if sa[-1] != sb[-2]:
            raise ValueError(f"{name}: cannot multiply {sa} by {sb}")
        batch = tuple(np.broadcast_shapes(sa[:-2], sb[:-2]))
        m, k, n = sa[-2], sa[-1], sb[-1]
        y = self._node("MatMul", [a, b], name, (*batch, m, n))
        macs = math.prod(batch) * m * k * n
        self.layers.append(Layer(name, "MatMul", macs, f"{'x'.join(map(str, sa))} @ {'x'.join(map(str, sb))}"))
        return y

    def linear(self, x: str, out_features: int, name: str, std: float) -> str:
        """``MatMul`` by a ``[in, out]`` weight then ``Add`` bias: a dense layer on a ``[..., in]`` tensor."""
        k = self.shapes[x][-1]
        wgt = self.weight(f"{name}.weight", (k, out_features), std)
        bias = self.weight(f"{name}.bias", (out_features,), std)
        y = self.matmul(x, wgt, name)
        return self._node("Add", [y, bias], f"{name}.add", self.shapes[y])

    # ------------------------------------------------------------------ other layers
    def relu(self, x: str, name: str) -> str:
        """ReLU."""
        return self._node("Relu", [x], name, self.shapes[x])

    def relu6(self, x: str, name: str) -> str:
        """ReLU6 as ``Clip(x, 0, 6)`` (opset >= 11 takes min and max as inputs)."""
        lo = self.const(f"{name}.min", np.array(0.0, np.float32))
        hi = self.const(f"{name}.max", np.array(6.0, np.float32))
        return self._node("Clip", [x, lo, hi], name, self.shapes[x])

    def add(self, a: str, b: str, name: str) -> str:
        """Elementwise sum of two same-shape tensors (residual connection)."""
        if self.shapes[a] != self.shapes[b]:
            raise ValueError(f"{name}: residual shapes differ {self.shapes[a]} vs {self.shapes[b]}")
        return self._node("Add", [a, b], name, self.shapes[a])

    def scale(self, x: str, factor: float, name: str) -> str:
        """Multiply by a scalar constant."""
        f = self.const(f"{name}.factor", np.array(factor, np.float32))
        return self._node("Mul", [x, f], name, self.shapes[x])

    def maxpool(self, x: str, kernel: int, stride: int, pad: int, name: str) -> str:
        """Max pooling, square window."""
        n, c, h, w = self.shapes[x]
        p = (h + 2 * pad - kernel) // stride + 1
        q = (w + 2 * pad - kernel) // stride + 1
        return self._node(
            "MaxPool", [x], name, (n, c, p, q), kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4
        )

    def global_avgpool_flat(self, x: str, name: str) -> str:
        """``GlobalAveragePool`` then ``Flatten``: ``[N, C, H, W] -> [N, C]``."""
        n, c, _, _ = self.shapes[x]
        y = self._node("GlobalAveragePool", [x], name, (n, c, 1, 1))
        return self.flatten(y, f"{name}.flatten")

    def flatten(self, x: str, name: str) -> str:
        """``Flatten(axis=1)``: ``[N, ...] -> [N, prod(...)]``."""
        s = self.shapes[x]
        return self._node("Flatten", [x], name, (s[0], math.prod(s[1:])), axis=1)

    def reshape(self, x: str, shape: Sequence[int], name: str) -> str:
        """Reshape to an explicit static shape (no 0 / -1, so shape inference is trivial)."""
        if math.prod(shape) != math.prod(self.shapes[x]):
            raise ValueError(f"{name}: cannot reshape {self.shapes[x]} to {tuple(shape)}")
        target = self.const(f"{name}.shape", np.array(shape, np.int64))
        return self._node("Reshape", [x, target], name, shape)

    def transpose(self, x: str, perm: Sequence[int], name: str) -> str:
        """Transpose with an explicit permutation."""
        s = self.shapes[x]
        return self._node("Transpose", [x], name, tuple(s[i] for i in perm), perm=list(perm))

    def softmax(self, x: str, name: str) -> str:
        """Softmax over the last axis."""
        return self._node("Softmax", [x], name, self.shapes[x], axis=-1)

    def layer_norm(self, x: str, name: str, eps: float = 1e-12) -> str:
        """``LayerNormalization`` (opset 17) over the last axis; BERT's epsilon is 1e-12."""
        d = self.shapes[x][-1]
        gamma = self.weight(f"{name}.weight", (d,), 0.1, mean=1.0)
        beta = self.weight(f"{name}.bias", (d,), 0.1)
        return self._node("LayerNormalization", [x, gamma, beta], name, self.shapes[x], axis=-1, epsilon=eps)

    def gelu_erf(self, x: str, name: str) -> str:
        """Exact GELU, ``0.5 * x * (1 + erf(x / sqrt(2)))``, as BERT uses (ONNX ``Gelu`` needs opset 20)."""
        s = self.shapes[x]
        div = self._node("Div", [x, self.const(f"{name}.sqrt2", np.array(math.sqrt(2.0), np.float32))], f"{name}.div", s)
        erf = self._node("Erf", [div], f"{name}.erf", s)
        one = self._node("Add", [erf, self.const(f"{name}.one", np.array(1.0, np.float32))], f"{name}.add1", s)
        xm = self._node("Mul", [x, one], f"{name}.mul", s)
        return self._node("Mul", [xm, self.const(f"{name}.half", np.array(0.5, np.float32))], name, s)

    # ------------------------------------------------------------------ output
    def to_model(self, metadata: dict[str, str] | None = None) -> onnx.ModelProto:
        """Draw the weights from ``numpy.random.default_rng(seed)`` and assemble the ``ModelProto``.

        Deterministic: the same graph and seed give byte-identical models.
        """
        rng = np.random.default_rng(self.seed)
        tensors = []
        for init in self.inits:
            if init.value is not None:
                arr = init.value
            else:
                arr = (rng.standard_normal(init.shape, dtype=np.float32) * np.float32(init.std)) + np.float32(init.mean)
            tensors.append(numpy_helper.from_array(np.ascontiguousarray(arr), init.name))
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, initializer=tensors, doc_string=self.doc)
        model = helper.make_model(
            graph,
            producer_name="tvm_codesign.models",
            doc_string=self.doc,
            opset_imports=[helper.make_opsetid("", OPSET)],
            ir_version=IR_VERSION,
        )
        for key, value in (metadata or {}).items():
            model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=str(value)))
        return model
