"""What a co-design run writes: summaries with EDP without DRAM, vta_config.json only when it fits, the report."""

from __future__ import annotations

import concurrent.futures as cf
import json
import math

import pytest

from tvm_codesign.bilevel.outer import InnerSettings, evaluate_hardware
from tvm_codesign.cost.model import evaluate
from tvm_codesign.model.hardware import SystemParams
from tvm_codesign.model.presets import preset
from tvm_codesign.report import chosen_layers, summarise, vta_config_if_fits, write_report
from tvm_codesign.model.workload import Workload

LAYERS = [Workload("fc1", "dense", C=256, K=128, count=2), Workload("fc2", "dense", C=128, K=16)]
SETTINGS = InnerSettings(strategy="random", budget=400, seed=0)


@pytest.fixture(scope="module")
def evaluations():
    with cf.ThreadPoolExecutor(2) as ex:
        vta = evaluate_hardware(preset("vta", SystemParams(precision="int8")), LAYERS, SETTINGS, ex).to_json()
        eyeriss = evaluate_hardware(preset("eyeriss"), LAYERS, SETTINGS, ex).to_json()
    return vta, eyeriss


def test_summary_totals_and_edp_without_dram(evaluations):
    _, ev = evaluations
    s = summarise(ev)
    assert s["feasible"] and s["edp"] == pytest.approx(s["energy_pj"] * s["cycles"])
    # Independent recomputation: Σ count × layer energy / cycles of the chosen mappings.
    hw = preset("eyeriss")
    energy = cycles = dram = 0.0
    for w, m, _ in chosen_layers(ev):
        row = evaluate(w, hw, [m]).row(0)
        energy += w.count * row.energy_pj
        cycles += w.count * row.cycles
        dram += w.count * row.energy_breakdown["DRAM"]
    assert (s["energy_pj"], s["cycles"]) == pytest.approx((energy, cycles))
    assert s["edp_without_dram"] == pytest.approx((energy - dram) * cycles)
    assert 0 < s["edp_without_dram"] < s["edp"]


def _with_chosen_loops(evaluation, edit):
    """A copy of ``evaluation`` whose chosen mappings' loops are rewritten by ``edit(loops)``."""
    ev = json.loads(json.dumps(evaluation))
    for layer in ev["layers"]:
        mapping = layer["search"]["pareto"][layer["chosen"]]["mapping"]
        mapping["loops"] = edit(mapping["loops"])
    return ev


def test_vta_config_only_when_hardware_and_mappings_fit(evaluations):
    vta, eyeriss = evaluations
    # Both cases built on purpose (the search alone decides neither): every loop temporal fits VTA ...
    temporal = _with_chosen_loops(vta, lambda loops: [dict(l, kind="temporal") for l in loops])
    cfg, why = vta_config_if_fits(temporal)
    assert why is None and cfg["LOG_BLOCK"] == 4 and cfg["LOG_INP_WIDTH"] == 3
    # ... and a G loop unrolled across the array does not (VTA's GEMM core unrolls only N, C, K).
    unrolled = _with_chosen_loops(vta, lambda loops: [*loops, {"dim": "G", "factor": 2, "kind": "spatial_rows"}])
    cfg, why = vta_config_if_fits(unrolled)
    assert cfg is None and "unrolls G spatially; VTA only N, C, K" in why
    cfg, why = vta_config_if_fits(eyeriss)
    assert cfg is None and "register files" in why


def test_report_and_plots_are_written(evaluations, tmp_path):
    vta, eyeriss = evaluations
    design = summarise(eyeriss)
    trials = [dict(eyeriss, value=math.log(eyeriss["edp"]) if eyeriss["feasible"] else None, failed=False)]
    write_report(tmp_path, "toy", design, {"vta": summarise(vta)}, trials, {"seed": 0})
    text = (tmp_path / "report.md").read_text()
    assert "| codesign |" in text and "| vta |" in text and "## Layers" in text
    for png in ("convergence.png", "edp_vs_area.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["convergence.png", "edp_vs_area.png", "report.md"]
    json.dumps(design)  # JSON-ready
