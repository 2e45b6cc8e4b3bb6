"""benchmarks/peers/convert.py: our hardware, layers and mappings as ZigZag input data (no zigzag needed)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.peers.convert import (
    accelerator_data,
    full_holds,
    is_perfect,
    layer_data,
    mapping_holds,
    temporal_on_hierarchy,
    zigzag_loops,
    zigzag_to_mapping_args,
)
from tvm_codesign.cost.model import evaluate
from tvm_codesign.cost.physical import energy_table
from tvm_codesign.model.presets import preset
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.testing import random_mappings
from tvm_codesign.model.workload import Workload

EYERISS = preset("eyeriss")


def _docs_example() -> Mapping:
    """The JSON at the top of docs/mapping-format.md."""
    return Mapping.from_levels(
        dram=[("K", 2)], gb=[("C", 2)], spatial=[("C", 3, "rows"), ("K", 4, "cols")], rf=[("P", 4), ("R", 3)],
        bypass={"GB": ["W"]}, double_buffered={"GB": True},
    )


def test_docs_example_gives_the_documented_zigzag_mapping():
    # docs/mapping-format.md, "Translating a ZigZag mapping": allocation O, I: [[R, P], [C], [K]], W: [[R, P], [C, K]].
    spatial, temporal = zigzag_loops(_docs_example())
    assert spatial == {"D1": [("K", 4)], "D2": [("C", 3)]}
    assert temporal["O"] == temporal["I"] == [[("FY", 3), ("OY", 4)], [("C", 2)], [("K", 2)]]
    assert temporal["W"] == [[("FY", 3), ("OY", 4)], [("C", 2), ("K", 2)]]


def test_round_trip_through_from_zigzag():
    m = _docs_example()
    spatial, temporal = zigzag_loops(m)
    back = Mapping.from_zigzag(temporal, spatial, levels=zigzag_to_mapping_args(temporal, mapping_holds(m)),
                               double_buffered={"GB": True})
    # The same nest up to the order of the two spatial loops (which docs/mapping-format.md says does not matter).
    assert back.placement == m.placement and back.double_buffered == m.double_buffered
    assert [l for l in back.loops if not l.spatial] == [l for l in m.loops if not l.spatial]
    assert [i for i, l in enumerate(back.loops) if l.spatial] == [i for i, l in enumerate(m.loops) if l.spatial]
    assert set(back.loops) == set(m.loops)


@pytest.mark.parametrize("seed", range(3))
def test_round_trip_keeps_our_cost_on_a_dense_layer(seed):
    # Without sliding windows the position of the spatial loops among the per-PE temporal loops does not matter to
    # our model, so the round trip (which moves them just above the RF loops) must give the same cost.
    wl = Workload("fc", "dense", N=16, K=48, C=36)
    ms = random_mappings(wl, EYERISS, 20, np.random.default_rng(seed))
    backs = []
    for m in ms:
        spatial, temporal = zigzag_loops(m)
        backs.append(Mapping.from_zigzag(
            temporal, spatial, levels=zigzag_to_mapping_args(temporal, mapping_holds(m)),
            double_buffered={lv: m.is_double_buffered(lv) for lv in ("GB", "RF")},
        ))
    a, b = evaluate(wl, EYERISS, ms), evaluate(wl, EYERISS, backs)
    np.testing.assert_allclose(b.energy_pj, a.energy_pj, rtol=1e-12)
    np.testing.assert_allclose(b.cycles, a.cycles, rtol=1e-12)


def test_fixed_hierarchy_gives_bypassed_levels_no_loops():
    m = Mapping.from_levels(dram=[("K", 2)], gb=[("C", 2)], spatial=[("C", 3, "rows")], rf=[("P", 4)],
                            bypass={"GB": ["W", "O"], "RF": ["I"]})
    tm = temporal_on_hierarchy(m, full_holds(EYERISS))
    assert tm["O"] == [[("OY", 4)], [], [("C", 2), ("K", 2)]]  # RF, GB (bypassed: empty), DRAM
    assert tm["I"] == [[], [("OY", 4), ("C", 2)], [("K", 2)]]  # RF bypassed
    assert tm["W"] == [[("OY", 4)], [("C", 2), ("K", 2)]]  # Eyeriss has no GB for weights


def test_accelerator_data_charges_our_energy_per_bit():
    et = energy_table(EYERISS)
    acc = accelerator_data(EYERISS)
    mems = acc["memories"]
    assert list(mems) == ["rf_I", "rf_W", "rf_O", "gb_global", "dram"]  # innermost first
    assert acc["operational_array"]["sizes"] == [14, 12]
    assert mems["gb_global"]["operands"] == ["I1", "O"] and mems["gb_global"]["size"] == 108 * 1024 * 8
    for name, level, op, bits in (("rf_W", "RF", "W", 16), ("rf_O", "RF", "O", 32), ("gb_global", "GB", "O", 32),
                                  ("dram", "DRAM", "I", 16)):
        port = mems[name]["ports"][0]
        assert mems[name]["r_cost"] / port["bandwidth_max"] == pytest.approx(et.read[(level, op)] / bits)
    assert mems["dram"]["ports"][0]["bandwidth_max"] == 64  # 8 B/cycle
    assert mems["gb_global"]["ports"][0]["bandwidth_max"] == 256  # 32 B/cycle, shared by reads and writes
    # A mapping that bypasses a level is scored on a hierarchy without it.
    acc2 = accelerator_data(EYERISS, {"GB": frozenset("O"), "RF": frozenset("W")})
    assert list(acc2["memories"]) == ["rf_W", "gb_global", "dram"]
    assert acc2["memories"]["gb_global"]["operands"] == ["O"]


def test_layer_data_and_exact_factorisation():
    wl = Workload("dqn", "conv2d", K=32, C=4, P=20, Q=20, R=8, S=8, stride=(4, 4))
    d = layer_data(wl, EYERISS)
    assert d["dimension_relations"] == ["ix=4*ox+1*fx", "iy=4*oy+1*fy"]
    assert dict(zip(d["loop_dims"], d["loop_sizes"])) == {"B": 1, "K": 32, "C": 4, "OY": 20, "OX": 20, "FY": 8,
                                                           "FX": 8}
    assert d["operand_precision"] == {"I": 16, "W": 16, "O": 32, "O_final": 32}
    assert layer_data(Workload("fc", "dense", N=4, K=8, C=6), EYERISS)["equation"] == "O[b][k]+=W[k][c]*I[b][c]"
    assert is_perfect(_docs_example(), Workload("c3", "conv2d", K=8, C=6, P=4, R=3))
    assert not is_perfect(_docs_example(), Workload("c3", "conv2d", K=7, C=6, P=4, R=3))
