"""`tvm-codesign compile` and `run`: a library that equals onnxruntime, and one-line errors that write nothing."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from tvm_codesign.zoo.catalog import input_shapes, zoo_path
from tvm_codesign.cli import main
from tvm_codesign.compiler.database import write_database
from tvm_codesign.compiler.extract import lower_to_tir
from tvm_codesign.compiler.frontend import load_model
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.presets import preset

from .layers_util import schedulable_layers


@pytest.fixture(scope="module")
def dqn_db(tmp_path_factory):
    out = tmp_path_factory.mktemp("db")
    hw = preset("eyeriss")
    lowered = lower_to_tir(load_model("dqn"))
    rng = np.random.default_rng(11)
    write_database(lowered, schedulable_layers(lowered, hw, rng), out)
    return out


def test_compile_with_tuning_records_then_run_equals_onnxruntime(dqn_db, tmp_path, capsys):
    lib = tmp_path / "dqn.so"
    assert main(["compile", "dqn", "-o", str(lib), "--tuning-records", str(dqn_db)]) == 0
    assert lib.is_file()
    assert HardwareConfig.load(tmp_path / "dqn.hardware.json") == preset("eyeriss")
    (name, shape), = input_shapes("dqn").items()
    x = np.random.default_rng(2).standard_normal(shape).astype("float32")
    np.savez(tmp_path / "in.npz", **{name: x})
    assert main(["run", str(lib), "--inputs", str(tmp_path / "in.npz"), "-o", str(tmp_path / "out.npz")]) == 0
    got = np.load(tmp_path / "out.npz")["output_0"]
    want = ort.InferenceSession(str(zoo_path("dqn"))).run(None, {name: x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dqn.hardware.json", "dqn.so", "in.npz", "out.npz"]


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["compile", "{tmp}/missing.onnx", "-o", "{tmp}/m.so"], "model file not found"),
        (["compile", "dqn", "-o", "{tmp}/m.so", "--input-shapes", "input:[1,4"], "--input-shapes"),
        (["compile", "dqn", "-o", "{tmp}/m.so", "--hw-preset", "tpu"], "neither a preset"),
        (["compile", "dqn", "-o", "{tmp}/m.so", "--codesign", "--tuning-records", "{tmp}"], "exclude each other"),
        # --hw-preset used to replace an explicit --area-budget silently
        (["compile", "dqn", "-o", "{tmp}/m.so", "--codesign", "--hw-preset", "vta", "--area-budget", "2"], "not both"),
        (["compile", "dqn", "-o", "{tmp}/m.so", "--area-budget", "2"], "needs --codesign"),
        (["compile", "dqn", "-o", "{tmp}/in.npz/m.so"], "is not a folder"),
        (["compile", "dqn", "-o", "{tmp}"], "is a folder"),
        (["compile", "dqn", "-o", "{tmp}/m.so", "--tuning-records", "{tmp}"], "no database_tuning_record.json"),
        (["run", "{tmp}/none.so", "--inputs", "{tmp}/in.npz", "-o", "{tmp}/o.npz"], "library not found"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(argv, fragment, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    (tmp_path / "in.npz").write_bytes(b"")  # a file where a folder would have to be
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tvm-codesign: error: ") and fragment in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_compile_with_codesign_writes_the_library_and_the_codesign_beside_it(tmp_path):
    lib = tmp_path / "mlp.so"
    argv = ["compile", "mlp", "-o", str(lib), "--codesign", "--budget-hw", "2", "--budget-sw", "200",
            "--strategy", "random", "--jobs", "1", "--no-baselines"]
    assert main(argv) == 0
    assert lib.is_file() and (tmp_path / "mlp.codesign" / "result.json").is_file()
    assert HardwareConfig.load(tmp_path / "mlp.hardware.json") == HardwareConfig.load(tmp_path / "mlp.codesign" / "hardware.json")
    (name, shape), = input_shapes("mlp").items()
    x = np.random.default_rng(4).standard_normal(shape).astype("float32")
    np.savez(tmp_path / "in.npz", **{name: x})
    assert main(["run", str(lib), "--inputs", str(tmp_path / "in.npz"), "-o", str(tmp_path / "out.npz")]) == 0
    want = ort.InferenceSession(str(zoo_path("mlp"))).run(None, {name: x})[0]
    np.testing.assert_allclose(np.load(tmp_path / "out.npz")["output_0"], want, rtol=1e-4, atol=1e-5)


def test_impossible_area_budget_with_codesign_is_one_line_and_writes_nothing(tmp_path, capsys):
    assert main(["compile", "mlp", "-o", str(tmp_path / "m.so"), "--codesign", "--area-budget", "0.0001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "below the smallest" in err[0]
    assert list(tmp_path.iterdir()) == []


def _resnet_block(path):
    """A reduced ResNet basic block: conv3x3-relu-conv3x3 + identity, then a strided 1x1 projection and a dense."""
    from onnx import helper

    from .onnx_util import make_model

    rng = np.random.default_rng(5)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "x"], ["s"]),
        helper.make_node("Relu", ["s"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3"], ["c3"], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["c3"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w4", "b4"], ["y"], transB=1),
    ]
    weights = {
        "w1": rng.standard_normal((16, 16, 3, 3)) * 0.1, "b1": rng.standard_normal(16) * 0.1,
        "w2": rng.standard_normal((16, 16, 3, 3)) * 0.1, "b2": rng.standard_normal(16) * 0.1,
        "w3": rng.standard_normal((32, 16, 1, 1)) * 0.1,
        "w4": rng.standard_normal((10, 32)) * 0.1, "b4": rng.standard_normal(10) * 0.1,
    }
    path.write_bytes(make_model(nodes, {"x": [1, 16, 14, 14]}, ["y"], weights).SerializeToString())
    return path


def test_reduced_resnet_block_with_searched_schedules_equals_onnxruntime(tmp_path):
    model = _resnet_block(tmp_path / "block.onnx")
    lib = tmp_path / "block.so"
    assert main(["compile", str(model), "-o", str(lib), "--budget-sw", "300", "--hw-preset", "eyeriss"]) == 0
    x = np.random.default_rng(6).standard_normal((1, 16, 14, 14)).astype("float32")
    np.savez(tmp_path / "in.npz", x=x)
    assert main(["run", str(lib), "--inputs", str(tmp_path / "in.npz"), "-o", str(tmp_path / "out.npz")]) == 0
    want = ort.InferenceSession(str(model)).run(None, {"x": x})[0]
    np.testing.assert_allclose(np.load(tmp_path / "out.npz")["output_0"], want, rtol=1e-4, atol=1e-5)


def test_compile_refuses_a_corrupted_schedule_database_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """A database whose schedule computes wrong numbers -- a tile straddling the 31-row boundary, written with the
    schedulability rule switched off -- is caught by compile's self-check: one line naming the layer, exit 2, no
    library, no hardware sidecar. With the rule on, the same mapping cannot even be written."""
    from tvm_codesign.compiler import database
    from tvm_codesign.compiler import schedule
    from tvm_codesign.compiler.extract import extract_workloads
    from tvm_codesign.model.mapping import Mapping

    import onnx

    from .onnx_util import linear_3d_model

    onnx.save(linear_3d_model(), tmp_path / "linear.onnx")
    lowered = lower_to_tir(load_model(str(tmp_path / "linear.onnx")))
    (w,) = extract_workloads(lowered, lowered=True).workloads
    straddling = Mapping(
        [("N", 3), ("K", 32), ("N", 83), ("C", 32), ("N", 2)], {"GB": {"I": 0, "W": 0, "O": 4}}
    )  # the output tile holds 2 rows: (b, 30) and (b + 1, 0) for odd b
    report = write_database(lowered, [(w, straddling)], tmp_path / "good_db")
    assert report.records == () and "straddles" in report.skipped[0][2]
    with monkeypatch.context() as m:
        for module in (database, schedule):
            m.setattr(module, "unschedulable_reason", lambda workload, mapping: None)
        write_database(lowered, [(w, straddling)], tmp_path / "bad_db")
    capsys.readouterr()
    lib = tmp_path / "out" / "linear.so"
    argv = ["compile", str(tmp_path / "linear.onnx"), "-o", str(lib), "--hw-preset", "vta",
            "--tuning-records", str(tmp_path / "bad_db")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tvm-codesign: error: the schedule of layer dense_496x32x32_N16x31")
    assert "computes wrong results" in err[0]
    assert not (tmp_path / "out").exists()


def test_compile_verifies_by_default_and_no_verify_skips_it(dqn_db, tmp_path, capsys):
    lib = tmp_path / "dqn.so"
    assert main(["compile", "dqn", "-o", str(lib), "--tuning-records", str(dqn_db)]) == 0
    assert "verified 5 scheduled layers" in capsys.readouterr().err
    assert main(["compile", "dqn", "-o", str(lib), "--tuning-records", str(dqn_db), "--no-verify"]) == 0
    assert "verified" not in capsys.readouterr().err and lib.is_file()


@pytest.fixture(scope="module")
def two_input_lib(tmp_path_factory):
    """``y = a @ b`` of two square inputs compiled with searched schedules: inputs in the wrong order give a
    different (wrong) answer, so matching by name is visible."""
    import onnx
    from onnx import helper

    from .onnx_util import make_model

    out = tmp_path_factory.mktemp("two")
    onnx.save(make_model([helper.make_node("MatMul", ["a", "b"], ["y"])], {"a": [6, 6], "b": [6, 6]}, ["y"]),
              out / "ab.onnx")
    assert main(["compile", str(out / "ab.onnx"), "-o", str(out / "ab.so"), "--budget-sw", "200"]) == 0
    return out / "ab.so"


def test_run_matches_inputs_by_name_not_file_order(two_input_lib, tmp_path):
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal((6, 6)).astype("float32") for _ in range(2))
    np.savez(tmp_path / "named.npz", b=b, a=a)  # stored b first
    np.savez(tmp_path / "ordered.npz", a, b)  # unnamed: arr_0, arr_1 in the model's order
    for name in ("named", "ordered"):
        out = tmp_path / f"{name}.out.npz"
        assert main(["run", str(two_input_lib), "--inputs", str(tmp_path / f"{name}.npz"), "-o", str(out)]) == 0
        np.testing.assert_allclose(np.load(out)["output_0"], a @ b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "arrays,fragment",
    [
        ({"a": np.zeros((6, 6), "float32")}, "no array for input(s) b; the model's inputs are a, b"),
        ({"a": np.zeros((6, 6), "float32"), "b": np.zeros((6, 6), "float32"), "c": np.zeros(1)},
         "array(s) c that are no input"),
        ({"a": np.zeros((6, 5), "float32"), "b": np.zeros((6, 6), "float32")},
         "input a must be float32 of shape (6, 6); {npz} gives float32 of shape (6, 5)"),
        ({"a": np.zeros((6, 6), "float32"), "b": np.zeros((6, 6), "float64")},
         "input b must be float32 of shape (6, 6); {npz} gives float64 of shape (6, 6)"),
        ({"arr_0": np.zeros((6, 6), "float32")}, "has 1 unnamed arrays; the model has 2 inputs: a, b"),
    ],
)
def test_run_refuses_missing_extra_or_wrong_inputs_in_one_line(arrays, fragment, two_input_lib, tmp_path, capsys):
    npz = tmp_path / "in.npz"
    np.savez(npz, **arrays)
    assert main(["run", str(two_input_lib), "--inputs", str(npz), "-o", str(tmp_path / "o.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment.format(npz=npz) in err[0], err
    assert not (tmp_path / "o.npz").exists()


def test_run_accepts_the_onnx_names_relax_renamed(tmp_path):
    """Relax's ONNX frontend renames an input called ``input.1`` to ``input_1``; an .npz saved under the ONNX name
    (what a user has at hand) still matches."""
    import onnx
    from onnx import helper

    from .onnx_util import make_model

    model = make_model([helper.make_node("MatMul", ["input.1", "w"], ["y"])], {"input.1": [3, 4]}, ["y"],
                       {"w": np.random.default_rng(0).standard_normal((4, 5))})
    onnx.save(model, tmp_path / "m.onnx")
    assert main(["compile", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "m.so"), "--budget-sw", "100"]) == 0
    x = np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
    np.savez(tmp_path / "in.npz", **{"input.1": x})
    assert main(["run", str(tmp_path / "m.so"), "--inputs", str(tmp_path / "in.npz"), "-o", str(tmp_path / "o.npz")]) == 0
    want = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input.1": x})[0]
    np.testing.assert_allclose(np.load(tmp_path / "o.npz")["output_0"], want, rtol=1e-4, atol=1e-5)
