"""The model zoo: valid ONNX, MAC counts that match hand-computed and published figures, caching, CLI."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import onnx
import pytest

from tvm_codesign.zoo import catalog as zoo
from tvm_codesign.zoo.macs import node_macs, onnx_macs
from tvm_codesign.cli import main
from tvm_codesign.errors import CodesignError

#: Exact MACs computed by hand from the architectures (see each builder's module docstring).
EXACT_MACS = {"dqn": 9_352_192, "mlp": 2_910_208, "bert_layer": 931_135_488}

#: torchvision's published cost ("GFLOPS" in its model tables are multiply-accumulates), good to 2 %.
PUBLISHED_MACS = {"resnet50": 4.09e9, "resnet18": 1.81e9, "mobilenet_v2": 0.30e9}

#: Output shape of each model (batch 1).
OUTPUT_SHAPES = {"dqn": (1, 18), "mlp": (1, 10), "bert_layer": (1, 128, 768)}

_BUILT: dict[str, onnx.ModelProto] = {}


def built(name: str) -> onnx.ModelProto:
    """Build each model once per test session (ResNet-50's 25 M random weights take a moment)."""
    if name not in _BUILT:
        _BUILT[name] = zoo.build_model(name)
    return _BUILT[name]


def test_names_cover_the_issue() -> None:
    assert set(zoo.ZOO_NAMES) == set(EXACT_MACS) | set(PUBLISHED_MACS)
    assert all(zoo.is_zoo_name(n) for n in zoo.ZOO_NAMES)
    assert not zoo.is_zoo_name("resnet") and not zoo.is_zoo_name("dqn.onnx")


@pytest.mark.parametrize("name", zoo.ZOO_NAMES)
def test_model_is_valid_onnx(name: str) -> None:
    model = built(name)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    assert all(init.data_type == onnx.TensorProto.FLOAT for init in model.graph.initializer if len(init.dims) > 1)
    shapes = zoo.input_shapes(name)
    assert [i.name for i in model.graph.input] == list(shapes)
    for vi in model.graph.input:
        assert [d.dim_value for d in vi.type.tensor_type.shape.dim] == shapes[vi.name]
        assert shapes[vi.name][0] == 1  # fixed batch 1


@pytest.mark.parametrize("name", zoo.ZOO_NAMES)
def test_onnx_macs_match_builder_and_published(name: str) -> None:
    total = onnx_macs(built(name))
    # Two independent counts: ONNX shape inference on the finished graph vs the builder's own layer shapes.
    assert total == sum(layer.macs for layer in zoo.layer_macs(name))
    assert [m for _, _, m in node_macs(built(name))] == [layer.macs for layer in zoo.layer_macs(name)]
    if name in EXACT_MACS:
        assert total == EXACT_MACS[name]
    else:
        assert total == pytest.approx(PUBLISHED_MACS[name], rel=0.02)


def test_build_is_deterministic() -> None:
    assert zoo.build_model("dqn").SerializeToString() == built("dqn").SerializeToString()


def test_dqn_layers_by_hand() -> None:
    # Mnih et al. 2015: 84 -> (84-8)/4+1 = 20 -> (20-4)/2+1 = 9 -> (9-3)/1+1 = 7.
    inferred = onnx.shape_inference.infer_shapes(built("dqn"))
    dims = {
        vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in inferred.graph.value_info
    }
    assert dims["conv1"] == [1, 32, 20, 20]
    assert dims["conv2"] == [1, 64, 9, 9]
    assert dims["conv3"] == [1, 64, 7, 7]
    assert dims["flatten"] == [1, 3136]
    per_node = {n: m for n, _, m in node_macs(built("dqn"))}
    assert per_node["conv1"] == 32 * 4 * 64 * 400
    assert per_node["fc1"] == 3136 * 512


def test_bert_attention_shapes_by_hand() -> None:
    g = zoo.build_graph("bert_layer")
    assert g.shapes["attention.self.query.transpose"] == (1, 12, 128, 64)
    assert g.shapes["attention.self.key.transpose"] == (1, 12, 64, 128)
    assert g.shapes["attention.self.scores"] == (1, 12, 128, 128)
    per_node = {n: m for n, _, m in node_macs(built("bert_layer"))}
    assert per_node["attention.self.scores"] == 12 * 128 * 64 * 128
    assert per_node["intermediate.dense"] == 128 * 768 * 3072
    ops = {n.op_type for n in built("bert_layer").graph.node}
    assert {"Softmax", "LayerNormalization", "Erf"} <= ops


def test_resnet50_is_v1_5_and_mobilenet_is_depthwise() -> None:
    # v1.5: the stride of a downsampling bottleneck is on its 3x3 conv, the 1x1 before it keeps the resolution.
    g = zoo.build_graph("resnet50")
    assert g.shapes["layer2.0.conv1"] == (1, 128, 56, 56)
    assert g.shapes["layer2.0.conv2"] == (1, 128, 28, 28)
    assert g.shapes["layer4.2.relu"] == (1, 2048, 7, 7)
    convs = [n for n in built("mobilenet_v2").graph.node if n.op_type == "Conv"]
    groups = [next((a.i for a in n.attribute if a.name == "group"), 1) for n in convs]
    assert sum(gr > 1 for gr in groups) == 17  # one depthwise conv per inverted residual block
    assert len(convs) == 52


@pytest.mark.parametrize("name", sorted(OUTPUT_SHAPES))
def test_onnxruntime_runs(name: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(built(name).SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {k: rng.standard_normal(v).astype(np.float32) for k, v in zoo.input_shapes(name).items()}
    (out,) = sess.run(None, feeds)
    assert out.shape == OUTPUT_SHAPES[name]
    assert np.isfinite(out).all() and out.std() > 0


def test_zoo_path_caches_in_env_folder(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TVM_CODESIGN_CACHE", str(tmp_path))
    path = zoo.zoo_path("mlp")
    assert path.parent == tmp_path / "zoo" and zoo.builder_version("mlp") in path.name
    onnx.checker.check_model(str(path))
    # Backdate the file: a second call must return it untouched, not rewrite it.
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert zoo.zoo_path("mlp") == path
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind


def test_unknown_name_is_one_line_error() -> None:
    with pytest.raises(CodesignError, match=r"unknown zoo model 'vgg16'; known: resnet18, .*bert_layer$"):
        zoo.build_model("vgg16")
    with pytest.raises(CodesignError):
        zoo.zoo_path("vgg16")


def test_cli_writes_model(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dqn.onnx"
    assert main(["zoo", "dqn", "-o", str(out)]) == 0
    onnx.checker.check_model(str(out), full_check=True)
    assert onnx_macs(out) == EXACT_MACS["dqn"]
    assert "9,352,192" in capsys.readouterr().out


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", "--list"]) == 0
    text = capsys.readouterr().out
    for name in zoo.ZOO_NAMES:
        assert name in text
    assert "input:[1,4,84,84]" in text and "931,135,488" in text


@pytest.mark.parametrize(
    "argv",
    [["zoo", "dqn", "-o", "{tmp}/missing/dqn.onnx"], ["zoo", "vgg16", "-o", "{tmp}/x.onnx"], ["zoo"]],
    ids=["missing-folder", "unknown-name", "no-name"],
)
def test_cli_errors_are_one_line(argv: list[str], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tvm-codesign: error: ") and err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing written
