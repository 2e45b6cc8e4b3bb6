"""Per-layer schedules as a meta_schedule database that stock MetaScheduleApplyDatabase applies, equal to ORT."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

import tvm
from tvm import relax

from tvm_codesign.zoo.catalog import input_shapes, zoo_path
from tvm_codesign.compiler.database import RECORD_FILE, WORKLOAD_FILE, write_database
from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
from tvm_codesign.compiler.frontend import load_model
from tvm_codesign.model.presets import preset
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.testing import random_mappings
from tvm_codesign.model.schedulability import spill_loop, unschedulable_reason

from .layers_util import schedulable_layers


TARGET = tvm.target.Target("llvm")


def _apply_database(lowered, db) -> tvm.IRModule:
    """The module after stock ``MetaScheduleApplyDatabase`` with the database in ``db``, for llvm."""
    with TARGET, tvm.transform.PassContext(opt_level=3):
        return relax.transform.MetaScheduleApplyDatabase(str(db))(lowered)


def _assert_matches_onnxruntime(name: str, applied) -> None:
    """Compile ``applied`` for llvm, run zoo model ``name`` on a seeded input and compare with onnxruntime."""
    vm = relax.VirtualMachine(tvm.compile(applied, target=TARGET), tvm.cpu())
    (inp, shape), = input_shapes(name).items()
    x = np.random.default_rng(1).standard_normal(shape).astype("float32")
    got = vm["main"](tvm.runtime.tensor(x)).numpy()
    want = ort.InferenceSession(str(zoo_path(name))).run(None, {inp: x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,hw_name", [("dqn", "eyeriss"), ("mlp", "vta")])
def test_database_applies_and_matches_onnxruntime(name, hw_name, tmp_path):
    lowered = lower_to_tir(load_model(name))
    workloads = extract_workloads(lowered, lowered=True).workloads
    rng = np.random.default_rng(7)
    hw = preset(hw_name)
    layers = schedulable_layers(lowered, hw, rng)
    report = write_database(lowered, layers, tmp_path / "db")
    sources = {s[0] for w in workloads for s in w.sources}
    assert {r[0] for r in report.records} == sources and not report.skipped
    assert len((tmp_path / "db" / RECORD_FILE).read_text().splitlines()) == len(sources)
    assert len((tmp_path / "db" / WORKLOAD_FILE).read_text().splitlines()) == len(sources)

    applied = _apply_database(lowered, tmp_path / "db")
    for primfunc in sources:  # every MAC PrimFunc now carries the accelerator's cache stages
        assert "global.codesign_gb" in applied[primfunc].script() or "global.codesign_rf" in applied[primfunc].script()
    _assert_matches_onnxruntime(name, applied)


def test_unschedulable_mappings_are_skipped_with_reason(tmp_path):
    lowered = lower_to_tir(load_model("mlp"))
    w = extract_workloads(lowered, lowered=True).workloads[0]  # 1x784 · 784x1024
    # Two C loops above the output's GB tile (attached at K1024): rfactor takes only one.
    spill = Mapping(
        loops=[("C", 4), ("C", 4), ("K", 1024), ("C", 49)], placement={"GB": {"I": None, "W": None, "O": 3}}
    )
    assert unschedulable_reason(w, spill) is not None
    report = write_database(lowered, [(w, spill)], tmp_path)
    assert report.records == () and report.skipped[0][2].startswith("spills partial sums at GB over 2 reduction")


@pytest.mark.parametrize("name,hw_name,level", [("mlp", "vta", "GB"), ("dqn", "eyeriss", "RF")])
def test_spilling_mappings_replay_from_the_database_and_match_onnxruntime(name, hw_name, level, tmp_path):
    """Every layer spills partial sums (at GB on vta, at RF on eyeriss): the rfactor in each trace replays through
    MetaScheduleApplyDatabase, and the model still computes what onnxruntime computes."""
    lowered = lower_to_tir(load_model(name))
    workloads = extract_workloads(lowered, lowered=True).workloads
    hw = preset(hw_name)
    rng = np.random.default_rng(11)
    layers = []
    for w in workloads:
        spilling = (
            m for m in random_mappings(w, hw, 400, rng)
            if unschedulable_reason(w, m) is None and (spill_loop(w, m) or ("", 0))[0] == level
        )
        layers.append((w, next(spilling)))
    report = write_database(lowered, layers, tmp_path / "db")
    sources = {s[0] for w in workloads for s in w.sources}
    assert {r[0] for r in report.records} == sources and not report.skipped

    applied = _apply_database(lowered, tmp_path / "db")
    for w in workloads:  # the replayed trace made the rf block out of each MAC block
        for primfunc, block in w.sources:
            assert f'T.sblock("{block}_rf")' in applied[primfunc].script()
    _assert_matches_onnxruntime(name, applied)
