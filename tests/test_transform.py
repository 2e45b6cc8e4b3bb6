"""ApplyCoDesign: a saved result applied as a pass in a Sequential after LegalizeOps, FuseOps and FuseTIR."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

import tvm
from tvm import relax

from tvm_codesign.zoo.catalog import input_shapes, zoo_path
from tvm_codesign.compiler.database import write_database
from tvm_codesign.errors import CodesignError
from tvm_codesign.compiler.extract import lower_to_tir
from tvm_codesign.compiler.frontend import load_model
from tvm_codesign.model.presets import preset
from tvm_codesign.compiler.target import codesign_target
from tvm_codesign.testing import is_codesign_target
from tvm_codesign.report import ResultFolder
from tvm_codesign.passes import (
    HARDWARE_ATTR,
    HARDWARE_HASH_ATTR,
    ApplyCoDesign,
    apply_database,
)

from .layers_util import schedulable_layers


@pytest.fixture(scope="module")
def dqn_result(tmp_path_factory):
    """A result folder for DQN on Eyeriss: hardware.json and a schedule database of random valid mappings."""
    out = tmp_path_factory.mktemp("result")
    hw = preset("eyeriss")
    lowered = lower_to_tir(load_model("dqn"))
    rng = np.random.default_rng(3)
    write_database(lowered, schedulable_layers(lowered, hw, rng), out / ResultFolder.DATABASE)
    hw.save(out / ResultFolder.HARDWARE)
    return out, hw


def _pipeline(result_dir):
    return tvm.transform.Sequential(
        [
            relax.transform.LegalizeOps(),
            relax.transform.AnnotateTIROpPattern(),
            relax.transform.FoldConstant(),
            relax.transform.FuseOps(),
            relax.transform.FuseTIR(),
            ApplyCoDesign(result_dir),
        ]
    )


def test_pass_in_a_sequential_builds_and_matches_onnxruntime(dqn_result):
    out, hw = dqn_result
    mod = _pipeline(out)(load_model("dqn"))
    assert json.loads(str(mod.attrs[HARDWARE_ATTR])) == hw.to_json()
    assert str(mod.attrs[HARDWARE_HASH_ATTR]) == hw.config_hash()
    target = codesign_target(hw)
    assert is_codesign_target(target) and str(target.attrs["model"]) == f"codesign-{hw.config_hash()[:16]}"
    vm = relax.VirtualMachine(tvm.compile(mod, target=target), tvm.cpu())
    (name, shape), = input_shapes("dqn").items()
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    want = ort.InferenceSession(str(zoo_path("dqn"))).run(None, {name: x})[0]
    np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)


def test_pass_equals_applying_the_result_directly(dqn_result):
    out, hw = dqn_result
    via_pass = _pipeline(out)(load_model("dqn"))
    direct = apply_database(lower_to_tir(load_model("dqn")), hw, out / ResultFolder.DATABASE)
    tvm.ir.assert_structural_equal(via_pass, direct)


def test_bad_result_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(CodesignError, match="not found"):
        ApplyCoDesign(tmp_path / "missing")
    with pytest.raises(CodesignError, match="no hardware.json"):
        ApplyCoDesign(tmp_path)


def test_codesign_pass_in_a_sequential_and_apply_of_its_result_agree(tmp_path):
    from tvm_codesign.pipeline import CoDesignOptions
    from tvm_codesign.passes import CoDesign

    options = CoDesignOptions(budget_hw=2, budget_sw=200, strategy="random", jobs=1, baselines=False, progress=False)
    fuse = [
        relax.transform.LegalizeOps(),
        relax.transform.AnnotateTIROpPattern(),
        relax.transform.FoldConstant(),
        relax.transform.FuseOps(),
        relax.transform.FuseTIR(),
    ]
    searched = tvm.transform.Sequential([*fuse, CoDesign(tmp_path / "run", options, label="mlp")])(load_model("mlp"))
    assert (tmp_path / "run" / ResultFolder.HARDWARE).is_file()
    applied = tvm.transform.Sequential([*fuse, ApplyCoDesign(tmp_path / "run")])(load_model("mlp"))
    tvm.ir.assert_structural_equal(searched, applied)
    hw = json.loads(str(searched.attrs[HARDWARE_ATTR]))
    vm = relax.VirtualMachine(tvm.compile(searched, target="llvm"), tvm.cpu())
    (name, shape), = input_shapes("mlp").items()
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    want = ort.InferenceSession(str(zoo_path("mlp"))).run(None, {name: x})[0]
    np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)
    assert hw["system"]["precision"] == "int16"
