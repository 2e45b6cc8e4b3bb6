"""Model import: every bad input is a one-line error with a non-zero exit, and dynamic dims are handled."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import helper

from tvm_codesign.cli import main
from tvm_codesign.errors import CodesignError
from tvm_codesign.compiler.frontend import load_model, parse_input_shapes

from .onnx_util import conv_model, make_model


def _cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _assert_one_line_error(rc: int, err: str, *fragments: str) -> None:
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tvm-codesign: error: ")
    for f in fragments:
        assert f in lines[0], lines[0]


def test_parse_input_shapes_tvmc_syntax():
    assert parse_input_shapes("data:[1,3,224,224] mask:[1, 128]") == {"data": [1, 3, 224, 224], "mask": [1, 128]}
    assert parse_input_shapes("a:[2,3],b:[4]") == {"a": [2, 3], "b": [4]}
    for bad in ("data:1,3", "data:[1,x]", "data:[0,3]", "[1,2]", "data:[]"):
        with pytest.raises(CodesignError):
            parse_input_shapes(bad)


def test_missing_file(capsys, tmp_path):
    rc, _, err = _cli(["workloads", str(tmp_path / "nope.onnx")], capsys)
    _assert_one_line_error(rc, err, "model file not found", "nope.onnx")


def test_not_onnx(capsys, tmp_path):
    bad = tmp_path / "junk.onnx"
    bad.write_bytes(b"\x00\x01this is not protobuf at all\xff" * 10)
    rc, _, err = _cli(["workloads", str(bad)], capsys)
    _assert_one_line_error(rc, err, "not an ONNX model", "junk.onnx")


def test_onnx_failing_checker(capsys, tmp_path):
    # A Conv whose weight input does not exist anywhere in the graph.
    node = helper.make_node("Conv", ["x", "missing_w"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", 1, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", 1, [1, 3, 8, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "broken.onnx"
    path.write_bytes(model.SerializeToString())
    rc, _, err = _cli(["workloads", str(path)], capsys)
    _assert_one_line_error(rc, err, "ONNX checker rejected")


def test_unsupported_op_is_named(capsys, tmp_path):
    nodes = [helper.make_node("Det", ["x"], ["y"])]
    path = tmp_path / "det.onnx"
    path.write_bytes(make_model(nodes, {"x": [3, 3]}, ["y"]).SerializeToString())
    rc, _, err = _cli(["workloads", str(path)], capsys)
    _assert_one_line_error(rc, err, "cannot convert", "Det")


def test_model_without_conv_or_matmul(capsys, tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    path = tmp_path / "relu.onnx"
    path.write_bytes(make_model(nodes, {"x": [1, 8]}, ["y"]).SerializeToString())
    rc, _, err = _cli(["workloads", str(path)], capsys)
    _assert_one_line_error(rc, err, "no conv2d, dense or matmul")


def test_bad_input_shapes_flag(capsys, tmp_path):
    path = tmp_path / "conv.onnx"
    path.write_bytes(conv_model(3, 8, 16, 3).SerializeToString())
    rc, _, err = _cli(["workloads", str(path), "--input-shapes", "x:[1,3,16"], capsys)
    _assert_one_line_error(rc, err, "--input-shapes")
    rc, _, err = _cli(["workloads", str(path), "--input-shapes", "nosuch:[1,3,16,16]"], capsys)
    _assert_one_line_error(rc, err, "unknown input", "nosuch")
    rc, _, err = _cli(["workloads", str(path), "--input-shapes", "x:[1,3,16]"], capsys)
    _assert_one_line_error(rc, err, "rank")


def _dynamic_conv(tmp_path, dims):
    w = np.random.default_rng(0).standard_normal((8, 3, 3, 3))
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"])], {"x": dims}, ["y"], {"w": w})
    path = tmp_path / "dyn.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_dynamic_batch_defaults_to_one_with_warning(capsys, tmp_path):
    path = _dynamic_conv(tmp_path, ["batch", 3, 10, 10])
    rc, out, err = _cli(["workloads", str(path), "--json"], capsys)
    assert rc == 0
    assert "warning" in err and "batch 1" in err
    (w,) = json.loads(out)
    assert (w["N"], w["K"], w["C"], w["P"], w["Q"]) == (1, 8, 3, 8, 8)
    rc, out, err = _cli(["workloads", str(path), "--json", "--input-shapes", "x:[4,3,10,10]"], capsys)
    assert rc == 0 and "warning" not in err
    (w,) = json.loads(out)
    assert w["N"] == 4 and w["macs"] == 4 * 8 * 3 * 8 * 8 * 3 * 3


def test_dynamic_spatial_dim_needs_override(capsys, tmp_path):
    path = _dynamic_conv(tmp_path, [1, 3, "H", 10])
    rc, _, err = _cli(["workloads", str(path)], capsys)
    _assert_one_line_error(rc, err, "dynamic dim 2", "--input-shapes")


def test_tvmscript_file(tmp_path):
    script = tmp_path / "mod.py"
    script.write_text(
        "from tvm.script import ir as I\n"
        "from tvm.script import relax as R\n"
        "@I.ir_module\n"
        "class Module:\n"
        "    @R.function\n"
        "    def main(x: R.Tensor((4, 8), 'float32'), w: R.Tensor((8, 6), 'float32')):\n"
        "        with R.dataflow():\n"
        "            y = R.matmul(x, w)\n"
        "            R.output(y)\n"
        "        return y\n"
    )
    from tvm_codesign.compiler.extract import extract_workloads

    (w,) = extract_workloads(load_model(script)).workloads
    assert (w.op, w.N, w.K, w.C) == ("dense", 4, 6, 8)


def test_tvmscript_file_errors(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("x = (\n")
    rc, _, err = _cli(["workloads", str(bad)], capsys)
    _assert_one_line_error(rc, err, "syntax error")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    rc, _, err = _cli(["workloads", str(empty)], capsys)
    _assert_one_line_error(rc, err, "defines no IRModule")


def test_zoo_name_is_not_shadowed_by_a_folder_and_a_file_wins_with_a_warning(capsys, tmp_path, monkeypatch):
    import onnx

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dqn").mkdir()  # e.g. the output folder of an earlier run
    rc, out, err = _cli(["workloads", "dqn"], capsys)
    assert rc == 0 and "dense_1x3136x512" in out and err == ""
    (tmp_path / "dqn").rmdir()
    onnx.save(conv_model(4, 8, 6, 3), tmp_path / "dqn")  # a file of that name: it is what the user points at
    rc, out, err = _cli(["workloads", "dqn"], capsys)
    assert rc == 0 and "conv2d_3x3_c4_k8_4x4" in out and "dense_1x3136x512" not in out
    assert err.strip().splitlines() == [f"tvm-codesign: warning: 'dqn' is both a file here and a zoo model; loading "
                                        f"the file {tmp_path / 'dqn'}"]
    folder = tmp_path / "models"
    folder.mkdir()
    rc, _, err = _cli(["workloads", str(folder)], capsys)
    _assert_one_line_error(rc, err, "model path is a folder, not a model file")
