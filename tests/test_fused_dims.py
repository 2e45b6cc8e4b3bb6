"""Models whose canonical dims are made of several TIR loops compile with co-designed schedules and equal
onnxruntime: the three cases that returned wrong numbers silently (issue 11).

* a Linear layer on a 3-D tensor, ``[16, 31, 32] x [32, 32]`` (N = 16 x 31);
* a 4-D batch MatMul ``[2, 3, 31, 32] x [2, 3, 32, 31]`` (G = 2 x 3 across batch and heads);
* a two-layer MLP on a ``[4, 50, 64]`` input (N = 4 x 50), with the default co-design budgets.

Each goes through ``tvm-codesign compile MODEL --codesign`` and ``tvm-codesign run`` as a user would.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from tvm_codesign.cli import main

from .onnx_util import linear_3d_model, make_model


def _batch_matmul_4d() -> onnx.ModelProto:
    return make_model(
        [helper.make_node("MatMul", ["x", "y"], ["z"])], {"x": [2, 3, 31, 32], "y": [2, 3, 32, 31]}, ["z"]
    )


def _mlp_3d() -> onnx.ModelProto:
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["r"]),
        helper.make_node("MatMul", ["r", "w2"], ["o"]),
        helper.make_node("Add", ["o", "b2"], ["y"]),
    ]
    weights = {"w1": rng.standard_normal((64, 96)) / 8, "b1": rng.standard_normal(96),
               "w2": rng.standard_normal((96, 40)) / 10, "b2": rng.standard_normal(40)}
    return make_model(nodes, {"x": [4, 50, 64]}, ["y"], weights)


CASES = {
    # Small budgets keep the suite fast; the MLP runs with the co-design's defaults, as reported.
    "linear_3d": (linear_3d_model, ["--budget-hw", "6", "--budget-sw", "500"]),
    "batch_matmul_4d": (_batch_matmul_4d, ["--budget-hw", "6", "--budget-sw", "500"]),
    "mlp_3d": (_mlp_3d, []),
}


# The MLP runs the co-design's default budgets (10 s): with the slow tests; the other two stay in the fast suite.
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n == "mlp_3d" else n for n in CASES]
)
def test_codesign_compile_run_equals_onnxruntime(name, tmp_path, capsys):
    build, flags = CASES[name]
    model = build()
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    lib = tmp_path / f"{name}.so"
    assert main(["compile", str(path), "--codesign", "-o", str(lib), "--no-baselines", *flags]) == 0
    assert "verified" in capsys.readouterr().err
    rng = np.random.default_rng(5)
    feeds = {
        i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype("float32")
        for i in model.graph.input
    }
    np.savez(tmp_path / "in.npz", **feeds)
    assert main(["run", str(lib), "--inputs", str(tmp_path / "in.npz"), "-o", str(tmp_path / "out.npz")]) == 0
    got = np.load(tmp_path / "out.npz")["output_0"]
    want = ort.InferenceSession(str(path)).run(None, feeds)[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
