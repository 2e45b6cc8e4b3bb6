"""Extraction on the zoo: Σ count × macs from `tvm-codesign workloads NAME --json` against an independent count.

The reference is :func:`models.macs.onnx_macs`, which counts MACs from the ONNX graph with onnx's shape inference
(no TVM), and the published or hand-computed totals quoted in the issue.
"""

from __future__ import annotations

import json

import pytest

from tvm_codesign.zoo import catalog as zoo
from tvm_codesign.zoo.macs import onnx_macs
from tvm_codesign.cli import main

PUBLISHED = {
    "resnet50": (4.09e9, 0.02),
    "resnet18": (1.81e9, 0.02),
    "mobilenet_v2": (0.30e9, 0.02),
    "dqn": (9_352_192, 0.0),
    "mlp": (2_910_208, 0.0),
    "bert_layer": (931_135_488, 0.0),
}


def _workloads(name: str, capsys: pytest.CaptureFixture) -> list[dict]:
    assert main(["workloads", name, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# The two largest lowerings (about 12 s together) run with the slow tests.
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in ("resnet50", "mobilenet_v2") else n for n in PUBLISHED]
)
def test_total_macs_match_independent_count(name, capsys):
    workloads = _workloads(name, capsys)
    total = sum(w["count"] * w["macs"] for w in workloads)
    assert total == onnx_macs(zoo.zoo_path(name))
    published, tol = PUBLISHED[name]
    if tol == 0:
        assert total == published
    else:
        assert abs(total - published) <= tol * published
    for w in workloads:
        for key in ("name", "op", "N", "K", "C", "P", "Q", "R", "S", "G", "stride", "dilation", "count", "macs"):
            assert key in w
        assert w["macs"] == w["G"] * w["N"] * w["K"] * w["C"] * w["P"] * w["Q"] * w["R"] * w["S"]


def _key(w: dict) -> tuple:
    return (w["op"], w["G"], w["N"], w["K"], w["C"], w["P"], w["Q"], w["R"], w["S"], tuple(w["stride"]), w["count"])


def test_dqn_workloads(capsys):
    # Mnih et al. 2015: 84×84×4 input; conv 8×8/4 ×32 → 20×20; conv 4×4/2 ×64 → 9×9; conv 3×3/1 ×64 → 7×7;
    # fc 3136 → 512; fc 512 → 18 actions.
    got = sorted(_key(w) for w in _workloads("dqn", capsys))
    want = sorted(
        [
            ("conv2d", 1, 1, 32, 4, 20, 20, 8, 8, (4, 4), 1),
            ("conv2d", 1, 1, 64, 32, 9, 9, 4, 4, (2, 2), 1),
            ("conv2d", 1, 1, 64, 64, 7, 7, 3, 3, (1, 1), 1),
            ("dense", 1, 1, 512, 3136, 1, 1, 1, 1, (1, 1), 1),
            ("dense", 1, 1, 18, 512, 1, 1, 1, 1, (1, 1), 1),
        ]
    )
    assert got == want


def test_bert_layer_workloads(capsys):
    # One BERT-base layer, sequence 128, hidden 768, 12 heads of 64, FFN 3072.
    got = sorted(_key(w) for w in _workloads("bert_layer", capsys))
    want = sorted(
        [
            ("dense", 1, 128, 768, 768, 1, 1, 1, 1, (1, 1), 4),  # Q, K, V and output projections
            ("dense", 1, 128, 3072, 768, 1, 1, 1, 1, (1, 1), 1),  # FFN up
            ("dense", 1, 128, 768, 3072, 1, 1, 1, 1, (1, 1), 1),  # FFN down
            ("batch_matmul", 12, 128, 128, 64, 1, 1, 1, 1, (1, 1), 1),  # Q·Kᵀ: 128×64 · 64×128 per head
            ("batch_matmul", 12, 128, 64, 128, 1, 1, 1, 1, (1, 1), 1),  # softmax·V: 128×128 · 128×64 per head
        ]
    )
    assert got == want


def test_table_lists_unmapped_share(capsys):
    assert main(["workloads", "bert_layer"]) == 0
    out = capsys.readouterr().out
    assert "total MACs (sum of count x macs): 931,135,488 in 5 unique workloads" in out
    assert "not mapped to the accelerator" in out
