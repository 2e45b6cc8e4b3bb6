"""Mapping: structure checks, JSON round trip, printout, the batch form, the random generator and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tvm_codesign.cli import main
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.presets import preset
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.mapping import Loop, Mapping
from tvm_codesign.testing import random_batch, random_mappings
from tvm_codesign.model.workload import Workload

WL = Workload("c3", "conv2d", K=8, C=6, P=4, R=3)


def _eyeriss_like() -> Mapping:
    return Mapping.from_levels(
        dram=[("K", 2)], gb=[("C", 2)], spatial=[("C", 3, "rows"), ("K", 4, "cols")], rf=[("P", 4), ("R", 3)],
        bypass={"GB": ["W"]}, double_buffered={"GB": True},
    )


def test_from_levels_is_the_even_special_case():
    m = _eyeriss_like()
    assert [l.kind for l in m.loops] == ["temporal", "temporal", "spatial_rows", "spatial_cols", "temporal", "temporal"]
    assert (m.cut("GB", "I"), m.cut("GB", "W"), m.cut("GB", "O")) == (1, None, 1)
    assert all(m.cut("RF", op) == 4 for op in "IWO") and m.cut("DRAM", "W") == 0
    assert m.is_double_buffered("GB") and not m.is_double_buffered("RF")
    assert m.factor_products()["C"] == 6 and m.padding(WL)["K"] == 0


def test_json_round_trip_and_file(tmp_path):
    m = _eyeriss_like()
    assert Mapping.from_json(m.to_json()) == m
    assert Mapping.from_json_text(m.to_json_text()) == m
    path = tmp_path / "m.json"
    m.save(path)
    assert Mapping.load(path) == m
    # Hand-written: kind defaults to temporal, a missing level is bypass, double_buffered defaults to false.
    h = Mapping.from_json({"loops": [{"dim": "K", "factor": 8}], "placement": {"GB": {"I": 0, "W": 0, "O": 1}}})
    assert h.loops == (Loop("K", 8),) and h.cut("RF", "O") is None and h.double_buffered == (False, False)


def test_printout_shows_the_nest_and_cuts():
    text = str(_eyeriss_like())
    assert text.splitlines()[0] == "== DRAM: I W O"
    assert "(GB bypass: W)" in text and "== GB: I O (double-buffered)" in text
    assert "spatial_rows for c2 in [0:3)" in text and "for r1 in [0:3)" in text
    assert text.splitlines()[-1].strip() == "MAC"


@pytest.mark.parametrize(
    "obj, msg",
    [
        ({"loops": [{"dim": "X", "factor": 2}], "placement": {}}, "loop dim 'X'"),
        ({"loops": [{"dim": "K", "factor": 0}], "placement": {}}, "factor must be a positive integer"),
        ({"loops": [{"dim": "K", "factor": 2, "kind": "diag"}], "placement": {}}, "kind 'diag'"),
        ({"loops": [], "placement": {"L3": {}}}, "unknown level"),
        ({"loops": [], "placement": {"GB": {"I": 0}}}, "exactly I, W, O"),
        ({"loops": [{"dim": "K", "factor": 2}], "placement": {"GB": {"I": 2, "W": 0, "O": 0}}}, "in [0, 1]"),
        (
            {"loops": [{"dim": "K", "factor": 2, "kind": "spatial_rows"}], "placement": {"GB": {"I": 1, "W": 0, "O": 0}}},
            "below every GB cut",
        ),
        (
            {"loops": [{"dim": "K", "factor": 2, "kind": "spatial_rows"}], "placement": {"RF": {"I": 0, "W": 1, "O": 1}}},
            "above every RF cut",
        ),
        (
            {"loops": [{"dim": "K", "factor": 2}], "placement": {"GB": {"I": 1, "W": 0, "O": 0}, "RF": {"I": 0, "W": 1, "O": 1}}},
            "GB must hold RF's tile",
        ),
        ({"loops": [], "placement": {}, "double_buffered": {"GB": 1}}, "true or false"),
        ({"loops": [], "placement": {}, "extra": 1}, "unknown field"),
    ],
)
def test_structure_errors_are_one_line(obj, msg):
    with pytest.raises(CodesignError, match=msg.replace("[", r"\[").replace("(", r"\(")) as err:
        Mapping.from_json(obj)
    assert "\n" not in str(err.value)


def test_batch_round_trip_with_padding_slots():
    ms = [_eyeriss_like(), Mapping([("K", 8)], {"GB": {"I": 0, "W": 0, "O": 1}})]
    b = MappingBatch.from_mappings(ms, slots=9)
    assert b.slots == 9 and len(b) == 2 and b.to_mappings() == ms
    assert b.take([1]).mapping(0) == ms[1]
    assert MappingBatch.concat([b, b]).to_mappings() == ms + ms


def test_random_valid_mappings():
    rng = np.random.default_rng(1)
    batch, acceptance = random_batch(WL, preset("eyeriss"), 50, rng)
    assert len(batch) == 50 and 0 < acceptance <= 1
    ms = random_mappings(WL, preset("vta"), 5, rng)
    assert len(ms) == 5 and all(isinstance(m, Mapping) for m in ms)
    # Every generated mapping survives the JSON round trip and the batch round trip.
    for m in batch.to_mappings() + ms:
        assert Mapping.from_json_text(m.to_json_text()) == m
        assert MappingBatch.from_mappings([m]).mapping(0) == m


# ---- CLI ------------------------------------------------------------------------------------------------------
def test_cli_evaluate_json(tmp_path, capsys):
    path = tmp_path / "m.json"
    _eyeriss_like().save(path)
    wl_file = tmp_path / "w.json"
    wl_file.write_text(json.dumps([WL.to_json()]))  # as `workloads --json` prints it: a list
    assert main(["evaluate", "--workload", str(wl_file), "--hw", "eyeriss", "--mapping", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("energy_pj", "cycles", "edp", "valid", "reason", "accesses"):
        assert key in out
    assert out["valid"] and out["accesses"]["RF.I"]["reads"] == WL.macs
    assert out["accesses"]["GB.W"] == {"reads": 0, "fills": 0, "updates": 0, "energy_pj": 0, "tile_words": 0}


def test_cli_evaluate_text_and_invalid(tmp_path, capsys):
    m = Mapping([("K", 4), ("C", 6), ("P", 4), ("R", 3)], {"GB": {"I": 0, "W": 0, "O": 0}})
    rc = main(["evaluate", "--workload", json.dumps(WL.to_json()), "--hw", "vta", "--mapping", json.dumps(m.to_json())])
    out = capsys.readouterr().out
    assert rc == 0 and "INVALID: factor product of K 4 < 8" in out and "== GB: I W O" in out


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["--workload", "{bad", "--hw", "eyeriss", "--mapping", "{}"], "workload is not valid JSON"),
        (["--workload", "nope.json", "--hw", "eyeriss", "--mapping", "{}"], "neither JSON text nor an existing file"),
        (["--workload", '{"op": "conv2d"}', "--hw", "tpu", "--mapping", "{}"], "neither a preset"),
        (["--workload", '{"op": "conv2d"}', "--hw", "vta", "--mapping", '{"loops": []}'], "needs 'loops' and 'placement'"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(argv, msg, capsys):
    assert main(["evaluate", *argv]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1


def test_cli_evaluate_with_hardware_json(tmp_path, capsys):
    hw_path = tmp_path / "hw.json"
    preset("vta").save(hw_path)
    m = Mapping([("K", 8), ("C", 6), ("P", 4), ("R", 3)], {"GB": {"I": 0, "W": 0, "O": 0}})
    rc = main(["evaluate", "--workload", json.dumps(WL.to_json()), "--hw", str(hw_path),
               "--mapping", m.to_json_text(), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["hw"] == "vta" and out["valid"] and out["macs"] == WL.macs


def test_from_timeloop_matches_the_documented_example():
    """The Timeloop mapping of docs/mapping-format.md translates to the JSON at the top of that page."""
    directives = [
        {"target": "DRAM", "type": "temporal", "factors": "K=2 C=1 P=1 R=1", "permutation": "RPCK"},
        {"target": "shared_glb", "type": "temporal", "factors": "C=2 K=1 P=1 R=1", "permutation": "RPKC"},
        {"target": "shared_glb", "type": "spatial", "factors": "K=4 C=3", "permutation": "KC", "split": 1},
        {"target": "pe_spad", "type": "temporal", "factors": {"R": 3, "P": 4}, "permutation": "RP"},
        {"target": "shared_glb", "type": "datatype", "keep": ["Inputs", "Outputs"], "bypass": ["Weights"]},
    ]
    levels = {"DRAM": "DRAM", "shared_glb": "GB", "pe_spad": "RF"}
    m = Mapping.from_timeloop(directives, levels, double_buffered={"GB": True})
    assert m == _eyeriss_like()
    # Eyeriss-style per-operand spads: each keeps one data-space; together they hold all three in the RF level.
    spads = [{"target": t, "type": "datatype", "keep": [k]} for t, k in
             (("ifmap_spad", "Inputs"), ("weights_spad", "Weights"), ("psum_spad", "Outputs"))]
    m2 = Mapping.from_timeloop(directives + spads, {**levels, "ifmap_spad": "RF", "weights_spad": "RF", "psum_spad": "RF"})
    assert all(m2.cut("RF", op) == 4 for op in "IWO")
    with pytest.raises(CodesignError, match="no place in the permutation"):
        Mapping.from_timeloop([{"target": "DRAM", "type": "temporal", "factors": "K=2", "permutation": "C"}], levels)


def test_from_zigzag_matches_the_documented_example():
    """The ZigZag mapping of docs/mapping-format.md (innermost first, W without a GB level) -> the same JSON."""
    temporal = {
        "O": [[("FY", 3), ("OY", 4)], [("C", 2)], [("K", 2)]],
        "I": [[("FY", 3), ("OY", 4)], [("C", 2)], [("K", 2)]],
        "W": [[("FY", 3), ("OY", 4)], [("C", 2), ("K", 2)]],
    }
    m = Mapping.from_zigzag(
        temporal, {"D1": ("K", 4), "D2": ("C", 3)}, levels={"W": ["RF", "DRAM"]}, double_buffered={"GB": True}
    )
    # Same nest as the Timeloop translation up to the order of the two spatial loops (which the cost ignores).
    ref = _eyeriss_like()
    assert m.placement == ref.placement and m.double_buffered == ref.double_buffered
    assert [l for l in m.loops if not l.spatial] == [l for l in ref.loops if not l.spatial]
    assert sorted((l.dim, l.factor, l.kind) for l in m.loops if l.spatial) == sorted(
        (l.dim, l.factor, l.kind) for l in ref.loops if l.spatial
    )
    with pytest.raises(CodesignError, match="different loop orders"):
        Mapping.from_zigzag(
            {**temporal, "I": [[("OY", 4), ("FY", 3)], [("C", 2)], [("K", 2)]]}, {}, levels={"W": ["RF", "DRAM"]}
        )
