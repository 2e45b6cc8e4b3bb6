"""Lower bounds (tvm_codesign.cost.bounds): hand-derived numbers, and no mapping the cost model scores beats them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tvm_codesign.cost.bounds import compulsory_words, layer_bound, model_bound
from tvm_codesign.cost.model import evaluate
from tvm_codesign.model.hardware import SystemParams
from tvm_codesign.model.presets import preset
from tvm_codesign.bilevel.mapping_search import search_mapping
from tvm_codesign.testing import random_raw_batch as _random_raw
from tvm_codesign.technology import mac_energy_pj
from tvm_codesign.model.workload import Workload


def test_compulsory_words_by_hand() -> None:
    # 3x3 conv, stride 1, P=Q=4: the padded input is 6x6 per channel; 1x1 stride 2 with P=Q=4 touches rows
    # {0,2,4,6} only: 4x4 of its 7x7 window.
    conv = Workload("c", "conv2d", N=1, K=8, C=2, P=4, Q=4, R=3, S=3)
    assert compulsory_words(conv) == {"I": 2 * 6 * 6, "W": 8 * 2 * 9, "O": 8 * 16}
    strided = Workload("s", "conv2d", N=1, K=8, C=2, P=4, Q=4, R=1, S=1, stride=(2, 2))
    assert compulsory_words(strided)["I"] == 2 * 4 * 4
    dw = Workload("d", "depthwise_conv2d", G=4, N=1, K=1, C=1, P=2, Q=2, R=3, S=3)
    assert compulsory_words(dw) == {"I": 4 * 4 * 4, "W": 4 * 9, "O": 4 * 4}


def test_dense_bound_by_hand() -> None:
    # DQN's 3136x512 dense layer at int16, 32-bit outputs, DRAM 8 B/cycle at 20.3125 pJ/bit:
    # words I 3136, W 1,605,632, O 512; bytes 2*3136 + 2*1,605,632 + 4*512 = 3,219,584 -> 402,448 cycles.
    sysp = SystemParams(precision="int16")
    dense = Workload("fc", "dense", N=1, K=512, C=3136, P=1, Q=1, R=1, S=1)
    b = layer_bound(dense, sysp, num_pes=168)
    assert b.dram_cycles == pytest.approx(3_219_584 / 8.0)
    assert b.compute_cycles == pytest.approx(1_605_632 / 168)
    assert b.cycles == pytest.approx(402_448.0)
    dram_pj = (3136 + 1_605_632) * 16 * 20.3125 + 512 * 32 * 20.3125
    assert b.dram_energy_pj == pytest.approx(dram_pj)
    assert b.energy_pj == pytest.approx(dram_pj + 1_605_632 * mac_energy_pj(16, 32))
    # Unlimited PEs drop the compute term only.
    assert layer_bound(dense, sysp).cycles == pytest.approx(402_448.0)


def test_model_bound_sums_counts() -> None:
    sysp = SystemParams()
    a = Workload("a", "dense", N=1, K=64, C=64, P=1, Q=1, R=1, S=1, count=3)
    b = Workload("b", "conv2d", N=1, K=16, C=8, P=8, Q=8, R=3, S=3)
    la, lb = layer_bound(a, sysp, 64), layer_bound(b, sysp, 64)
    m = model_bound([a, b], sysp, 64)
    assert m.energy_pj == pytest.approx(3 * la.energy_pj + lb.energy_pj)
    assert m.cycles == pytest.approx(3 * la.cycles + lb.cycles)
    assert m.edp == pytest.approx(m.energy_pj * m.cycles)


LAYERS = [
    Workload("conv", "conv2d", N=1, K=16, C=8, P=8, Q=8, R=3, S=3),
    Workload("s2", "conv2d", N=1, K=16, C=8, P=7, Q=7, R=1, S=1, stride=(2, 2)),
    Workload("dw", "depthwise_conv2d", G=8, N=1, K=1, C=1, P=8, Q=8, R=3, S=3),
    Workload("fc", "dense", N=1, K=64, C=96, P=1, Q=1, R=1, S=1),
    Workload("bmm", "batch_matmul", G=2, N=4, K=8, C=16, P=1, Q=1, R=1, S=1),
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LAYERS), st.sampled_from(["eyeriss", "vta"]), st.integers(0, 2**31 - 1))
def test_no_random_mapping_beats_the_bound(wl: Workload, hw_name: str, seed: int) -> None:
    hw = preset(hw_name)
    cost = evaluate(wl, hw, _random_raw(wl, hw, 256, np.random.default_rng(seed)))
    bound = layer_bound(wl, hw.system, hw.num_pes)
    ok = cost.valid
    assert np.all(cost.energy_pj[ok] >= bound.energy_pj * (1 - 1e-9))
    assert np.all(cost.cycles[ok] >= bound.cycles * (1 - 1e-9))


@pytest.mark.parametrize("wl", LAYERS, ids=lambda w: w.name)
def test_searched_mappings_respect_the_bound(wl: Workload) -> None:
    # Searched mappings are the ones that get close: the bound must still hold for them.
    hw = preset("eyeriss")
    res = search_mapping(wl, hw, strategy="random", budget=3000, seed=1, schedulable_only=False)
    bound = layer_bound(wl, hw.system, hw.num_pes)
    assert res.energy_pj >= bound.energy_pj * (1 - 1e-9)
    assert res.cycles >= bound.cycles * (1 - 1e-9)
    assert res.edp >= bound.edp * (1 - 1e-9)
