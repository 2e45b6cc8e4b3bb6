"""Hand-derived cost-model tests: every access count, the cycles and the energy are worked out in the docstrings.

Shared setup (``_hw``, ``_et``): a 3x3 PE array; one shared 1024 B GB holding I, W and O with 16 B/cycle; RFs of
4 words per operand; int16 inputs/weights (2 B), int32 partial sums (4 B); DRAM 8 B/cycle. Round energies: DRAM
100 pJ, GB 10 pJ, RF 1 pJ per word access (read or write), MAC 1 pJ, 2 pJ per word per PE delivered or collected
over the array network, 3 pJ per reduction hop.

Notation: ``T`` = product of temporal trip counts (compute cycles), ``E`` fill events of a tile, ``D`` distinct
output tiles, ``U`` the union of the PEs' tiles. Every count not listed in a test's table is zero (checked).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tvm_codesign.cost.model import CAPACITY, FACTOR_PRODUCT, FANOUT_COLS, FANOUT_ROWS, NO_STORAGE, STRUCTURE, evaluate
from tvm_codesign.cost.physical import EnergyTable
from tvm_codesign.model.hardware import Buffer, HardwareConfig, SystemParams
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.workload import OPERANDS, Workload

LEVELS = ("DRAM", "GB", "RF")
E_ACCESS = {"DRAM": 100.0, "GB": 10.0, "RF": 1.0}


def _hw(rows: int = 3, cols: int = 3, gb: int = 1024, rf: int = 4) -> HardwareConfig:
    return HardwareConfig(
        name="hand",
        pe_rows=rows,
        pe_cols=cols,
        buffers=(Buffer("gb", gb, ("I", "W", "O"), 16.0),),
        rf_input_words=rf,
        rf_weight_words=rf,
        rf_output_words=rf,
        system=SystemParams(precision="int16", acc_bits=32, dram_bandwidth=8.0),
    )


def _et() -> EnergyTable:
    table = {(lv, op): E_ACCESS[lv] for lv in LEVELS for op in OPERANDS}
    return EnergyTable(
        read=dict(table),
        write=dict(table),
        mac_pj=1.0,
        noc_pj_per_destination=2.0,
        reduction_hop_pj=3.0,
        noc_pj_per_word={op: 2.0 for op in OPERANDS},
    )


def _check(res, counts: dict[str, tuple[float, float, float]], i: int = 0) -> None:
    """``counts["GB.O"] = (reads, fills, updates)``; every (level, operand) not listed must be all zero."""
    for li, lv in enumerate(LEVELS):
        for oi, op in enumerate(OPERANDS):
            want = counts.get(f"{lv}.{op}", (0.0, 0.0, 0.0))
            got = (res.reads[li, oi, i], res.fills[li, oi, i], res.updates[li, oi, i])
            assert got == want, f"{lv}.{op}: (reads, fills, updates) = {got}, derived by hand {want}"


def _conv(**dims) -> Workload:
    return Workload("hand", "conv2d", **dims)


def test_output_stationary():
    """K=2 C=4 P=3: I = C*P = 12 words, W = K*C = 8, O = K*P = 6; 24 MACs.

    Nest (outer to inner): spatial_cols K2, for P3, for C4. GB holds every operand whole (cut 0); each PE keeps its
    output in its RF (cut 2: the tile is the C loop, 1 word) while C runs innermost; I and W bypass the RF.
    T = 3*4 = 12, 2 PEs, MACs computed 24.

    - DRAM -> GB, one fill each (nothing above cut 0): DRAM reads I 12, W 8; GB fills I 12, W 8.
      Final outputs: GB tile 6 words, E = D = 1: GB reads 6, DRAM updates 6.
    - MAC operands from GB, every cycle: I does not depend on K: multicast, U = 1 -> GB reads I = 12.
      W: U = 2 (K2) -> GB reads W = 24. Network: each of T*2 = 24 MAC slots gets an I and a W word: 2*24*2 = 96 pJ.
    - O RF (cut 2): E = 3 (the P loop above it indexes O; C is inside: free reuse), D = 3, no read-back.
      U = 2 (K2): GB updates 3*2 = 6; RF reads for evictions 3*1*2 = 6; network 6*2 = 12 pJ; no reduction.
      MACs: updates T*2 = 24; zero-started lifetimes 3*1*2 = 6, so RF psum reads 24 - 6 = 18 (+6 evictions = 24).
    - Energy: DRAM (12+8+6)*100 = 2600; GB I (12+12)*10 + W (8+24)*10 + O (6+6)*10 = 680; RF O (24+24)*1 = 48;
      network 96 + 12 = 108; MAC 24. Total 3460.
    - Cycles: DRAM (12*2 + 8*2 + 6*4) B / 8 = 8, hidden (GB double-buffered). GB (24*2 + 32*2 + 12*4) B / 16 = 10,
      not hidden (the RF used by O is single-buffered). max(12, 8) + 10 = 22. EDP = 3460*22 = 76120.
    """
    wl = _conv(K=2, C=4, P=3)
    m = Mapping(
        [("K", 2, "spatial_cols"), ("P", 3), ("C", 4)],
        {"GB": {"I": 0, "W": 0, "O": 0}, "RF": {"I": None, "W": None, "O": 2}},
        {"GB": True, "RF": False},
    )
    r = evaluate(wl, _hw(), [m], energy=_et())
    _check(r, {
        "DRAM.I": (12, 0, 0), "DRAM.W": (8, 0, 0), "DRAM.O": (0, 0, 6),
        "GB.I": (12, 12, 0), "GB.W": (24, 8, 0), "GB.O": (6, 0, 6),
        "RF.O": (24, 0, 24),
    })
    assert r.energy_breakdown["noc"][0] == 108 and r.energy_breakdown["reduction"][0] == 0
    assert r.energy_pj[0] == 3460
    assert r.transfer_cycles[:, 0].tolist() == [8, 10]
    assert r.cycles[0] == 22 and r.edp[0] == 76120
    assert r.macs_computed[0] == 24 and r.valid[0]
    assert r.utilisation[0] == pytest.approx(24 / (22 * 9))


def test_weight_stationary():
    """K=2 C=2 P=4: I = 8 words, W = 4, O = 8; 16 MACs.

    Nest: spatial_cols K2, for C2, for P4. GB holds everything (cut 0). Each PE keeps one weight in its RF (cut 2:
    tile = the P loop, which does not index W: 1 word) while P streams inputs; I and O bypass the RF.
    T = 8, 2 PEs.

    - DRAM -> GB once: DRAM reads I 8, W 4; GB fills I 8, W 4. Final outputs GB (8 words) -> DRAM: GB reads 8,
      DRAM updates 8.
    - W RF: E = 2 (C above indexes W), U = 2 (K2): GB reads W 2*2 = 4; RF fills 2*1*2 = 4; network 4*2 = 8 pJ.
      MACs read W from the RF: T*2 = 16.
    - I from GB every cycle, multicast over K: GB reads I = T*1 = 8; network T*2 = 16 words = 32 pJ.
    - O read-modify-written in GB every cycle, U = 2: updates T*2 = 16; the first touch of each of the 8 outputs
      (the C=0 pass) needs no read: GB reads 16 - 8 = 8 (+8 final evictions = 16). Network (8+16)*2 = 48 pJ.
    - Energy: DRAM (8+4+8)*100 = 2000; GB I 16*10 + W 8*10 + O 32*10 = 560; RF W (4+16)*1 = 20; network
      8 + 32 + 48 = 88; MAC 16. Total 2684.
    - Cycles: DRAM (16 + 8 + 32) B / 8 = 7, not hidden (GB single-buffered). GB (32 + 16 + 128) B / 16 = 11, hidden
      (RF double-buffered; the W tile of 1 word fits 4 // 2). max(8, 11) + 7 = 18. EDP = 2684*18 = 48312.
    """
    wl = _conv(K=2, C=2, P=4)
    m = Mapping(
        [("K", 2, "spatial_cols"), ("C", 2), ("P", 4)],
        {"GB": {"I": 0, "W": 0, "O": 0}, "RF": {"I": None, "W": 2, "O": None}},
        {"GB": False, "RF": True},
    )
    r = evaluate(wl, _hw(), [m], energy=_et())
    _check(r, {
        "DRAM.I": (8, 0, 0), "DRAM.W": (4, 0, 0), "DRAM.O": (0, 0, 8),
        "GB.I": (8, 8, 0), "GB.W": (4, 4, 0), "GB.O": (16, 0, 16),
        "RF.W": (16, 4, 0),
    })
    assert r.energy_breakdown["noc"][0] == 88
    assert r.energy_pj[0] == 2684
    assert r.cycles[0] == 18 and r.edp[0] == 48312


def test_spatial_reduction_and_input_halo():
    """1-D conv C=2 P=3 R=3 (stride 1): input rows (3-1)+(3-1)+1 = 5 per channel, I = 10, W = 6, O = 3; 18 MACs.

    Nest: for C2, spatial_rows R3, spatial_cols P3 (row-stationary-like: PE (r, p) computes O[p] += I[p+r] W[r]).
    Everything in GB (cut 0), no RFs. T = 2, 9 PEs.

    - DRAM -> GB once: DRAM reads I 10, W 6; GB fills I 10, W 6. Final O: GB reads 3, DRAM updates 3.
    - I: the 9 PEs read I[c, p+r] for p, r < 3: their union is the 5-row window, not 9 words (the halo overlap is
      shared): GB reads I = T*5 = 10. W: union over R3 (P multicasts) = 3: GB reads W = 2*3 = 6.
      Network: T*9 = 18 deliveries each of I and W: 2*18*2 = 72 pJ.
    - O: the R rows reduce in the array: U = 3 outputs per cycle, updates T*3 = 6; the first pass (c=0) needs no
      read: reads 6 - 3 = 3 (+3 final = 6). Reduction hops T*(9 - 3) = 12 -> 36 pJ. Network (3 + 6)*2 = 18 pJ.
    - Energy: DRAM (10+6+3)*100 = 1900; GB I 20*10 + W 12*10 + O 12*10 = 440; network 72 + 18 = 90;
      reduction 36; MAC 18. Total 2484.
    - Cycles: DRAM (20 + 12 + 12) B / 8 = 5.5, not hidden. GB (40 + 24 + 48) B / 16 = 7, hidden (no RF in use:
      the GB streams to the MACs). max(2, 7) + 5.5 = 12.5. EDP = 2484*12.5 = 31050.
    """
    wl = _conv(C=2, P=3, R=3)
    m = Mapping(
        [("C", 2), ("R", 3, "spatial_rows"), ("P", 3, "spatial_cols")],
        {"GB": {"I": 0, "W": 0, "O": 0}, "RF": {"I": None, "W": None, "O": None}},
    )
    r = evaluate(wl, _hw(), [m], energy=_et())
    _check(r, {
        "DRAM.I": (10, 0, 0), "DRAM.W": (6, 0, 0), "DRAM.O": (0, 0, 3),
        "GB.I": (10, 10, 0), "GB.W": (6, 6, 0), "GB.O": (6, 0, 6),
    })
    assert r.energy_breakdown["reduction"][0] == 36 and r.energy_breakdown["noc"][0] == 90
    assert r.energy_pj[0] == 2484
    assert r.cycles[0] == 12.5 and r.edp[0] == 31050


def test_partial_sum_spill_and_read_back():
    """Dense K=2 C=3: I = 3, W = 6, O = 2; 6 MACs, one PE.

    Nest: for C3, for K2. I and W in GB whole (cut 0); O cut at 2 in GB (one word), which lives only for one (c, k)
    iteration: every visit after the first to an output (c = 1, 2) reads its partial sum back from DRAM.
    T = 6. No RFs.

    - DRAM -> GB: DRAM reads I 3, W 6; GB fills I 3, W 6.
    - O in GB: E = 6 (K indexes O and C lies above it), D = 2: read-backs (6 - 2)*1 = 4: DRAM reads O 4, GB fills
      O 4. Evictions 6: GB reads 6, DRAM updates 6.
    - MACs from GB: I reads 6, W reads 6 (network 12*2 pJ each); O updates 6; element lifetimes in GB starting from
      zero = 6 - 4 = 2, so psum reads 6 - 2 = 4 (GB reads O = 6 + 4 = 10); network (4 + 6)*2 = 20 pJ.
    - Energy: DRAM (3 + 6 + 4 + 6)*100 = 1900; GB I 9*10 + W 12*10 + O (10 + 4 + 6)*10 = 410; network 44; MAC 6.
      Total 2360.
    - Cycles: DRAM (6 + 12 + 40) B / 8 = 7.25, not hidden (GB single-buffered). GB (18 + 24 + 80) B / 16 = 7.625,
      hidden (no RF). 7.625 + 7.25 = 14.875. EDP = 2360*14.875 = 35105.
    """
    wl = Workload("hand", "dense", K=2, C=3)
    m = Mapping(
        [("C", 3), ("K", 2)],
        {"GB": {"I": 0, "W": 0, "O": 2}, "RF": {"I": None, "W": None, "O": None}},
    )
    r = evaluate(wl, _hw(), m, energy=_et())
    _check(r, {
        "DRAM.I": (3, 0, 0), "DRAM.W": (6, 0, 0), "DRAM.O": (4, 0, 6),
        "GB.I": (6, 3, 0), "GB.W": (6, 6, 0), "GB.O": (10, 4, 6),
    })
    assert r.energy_pj[0] == 2360
    assert r.cycles[0] == 14.875 and r.edp[0] == 35105


def test_uneven_placement():
    """K=2 C=2 P=2 (I = C*P = 4, W = 4, O = 4; 8 MACs), one PE. Nest: for K2, for C2, for P2.

    Each operand is cut where it suits it: GB holds I whole (cut 0), W per k (cut 1: C*1 = 2 words), O per (k, c)
    (cut 2: the P loop, 2 words); RFs hold W per (k, c) (cut 2, 1 word) and O per (k, c, p) (cut 3, 1 word); I
    bypasses the RF. T = 8. Both levels double-buffered.

    - I: DRAM reads 4, GB fills 4; MACs read GB 8 times (network 8*2 = 16 pJ).
    - W: GB E = 2 (K), tile 2: DRAM reads 4, GB fills 4. RF E = 4 (K, C), tile 1: GB reads 4, RF fills 4 (network
      8 pJ); MACs read RF 8.
    - O GB (cut 2): E = 2 (the innermost O-indexing loop above the cut is K; C, below K and not indexing O, gives
      free reuse), D = 2, tile 2: evictions 4 (GB reads 4, DRAM updates 4), no read-back.
      O RF (cut 3): E = 8 (K, C, P; P indexes O and is innermost), D = K*P = 4: read-backs 4 (GB reads 4, RF fills
      4), evictions 8 (RF reads 8, GB updates 8); network (4 + 8)*2 = 24 pJ.
      MACs: RF updates 8; lifetimes from zero 8 - 4 = 4, RF psum reads 8 - 4 = 4 (RF reads O = 12).
    - Energy: DRAM 12*100 = 1200; GB I 12*10 + W 8*10 + O 16*10 = 360; RF W 12 + O 24 = 36; network 48; MAC 8.
      Total 1652.
    - Capacity: GB 4*2 + 2*2 + 2*4 = 20 B <= 1024 / 2; RF 1 word <= 4 // 2.
    - Cycles: DRAM (8 + 8 + 16) B / 8 = 4 and GB (24 + 16 + 64) B / 16 = 6.5, both hidden: max(8, 4, 6.5) = 8.
      EDP = 1652*8 = 13216.
    """
    wl = _conv(K=2, C=2, P=2)
    m = Mapping(
        [("K", 2), ("C", 2), ("P", 2)],
        {"GB": {"I": 0, "W": 1, "O": 2}, "RF": {"I": None, "W": 2, "O": 3}},
        {"GB": True, "RF": True},
    )
    r = evaluate(wl, _hw(), [m], energy=_et())
    _check(r, {
        "DRAM.I": (4, 0, 0), "DRAM.W": (4, 0, 0), "DRAM.O": (0, 0, 4),
        "GB.I": (8, 4, 0), "GB.W": (4, 4, 0), "GB.O": (8, 0, 8),
        "RF.W": (8, 4, 0), "RF.O": (12, 4, 8),
    })
    assert r.tile_words[:, :, 0].tolist() == [[4, 4, 4], [4, 2, 2], [0, 1, 1]]
    assert r.energy_pj[0] == 1652
    assert r.cycles[0] == 8 and r.edp[0] == 13216


def test_strided_1x1_touches_a_quarter_of_the_input():
    """1x1 conv, stride 2, P=Q=4, C=1: the padded input is 7x7 but only the 4x4 even rows/cols are touched.

    Nest: for P4, for Q4, GB holds everything. DRAM reads of I = 16, not 49: a quarter of the 8x8 input a stride-2 layer reads.
    """
    wl = Workload("s2", "conv2d", P=4, Q=4, stride=(2, 2))
    m = Mapping([("P", 4), ("Q", 4)], {"GB": {"I": 0, "W": 0, "O": 0}})
    r = evaluate(wl, _hw(), m, energy=_et())
    assert r.reads[0, 0, 0] == 16 and r.tile_words[1, 0, 0] == 16


def test_imperfect_factors_pad_and_count():
    """K=3 split 2 x 2 (product 4): one padded K iteration is computed. C=1, P=1: 3 MACs, 4 computed.

    Nest: for K2, spatial_cols K2; GB holds all. The O tile in GB is clipped at the bound (3 words, not 4).
    """
    wl = _conv(K=3)
    m = Mapping([("K", 2), ("K", 2, "spatial_cols")], {"GB": {"I": 0, "W": 0, "O": 0}})
    r = evaluate(wl, _hw(), m, energy=_et())
    assert r.valid[0] and r.macs_computed[0] == 4 and r.compute_cycles[0] == 2
    assert r.tile_words[1, 2, 0] == 3


def test_reason_codes_with_numbers():
    """Each invalidity gets its own code and a one-line text with the numbers; EDP is inf, energy still finite."""
    wl = _conv(K=8, C=4, P=4)
    hw = _hw(gb=64)
    ok_rf = {"I": None, "W": None, "O": None}
    cases = [
        # K covered only 6 of 8.
        (Mapping([("K", 6), ("C", 4), ("P", 4)], {"GB": {"I": 0, "W": 0, "O": 0}}), FACTOR_PRODUCT + 2,
         "factor product of K 6 < 8"),
        (Mapping([("K", 2), ("K", 4, "spatial_rows"), ("C", 4), ("P", 4)], {"GB": {"I": 1, "W": 1, "O": 1}}),
         FANOUT_ROWS, "fan-out rows 4 > 3"),
        (Mapping([("K", 2), ("K", 4, "spatial_cols"), ("C", 4), ("P", 4)], {"GB": {"I": 1, "W": 1, "O": 1}}),
         FANOUT_COLS, "fan-out cols 4 > 3"),
        # GB 64 B: I whole = 16 words = 32 B, W whole = 32 words = 64 B, O 32 words * 4 B = 128 B -> 224 B.
        (Mapping([("K", 8), ("C", 4), ("P", 4)], {"GB": {"I": 0, "W": 0, "O": 0}, "RF": ok_rf}), CAPACITY + 2,
         "capacity of GB for O: 224 B > 64 B (buffer 'gb', holding I+W+O)"),
        # RF O tile = P4 = 4 words but double-buffered RF holds 4 // 2 = 2.
        (Mapping([("K", 8), ("C", 4), ("P", 4)], {"RF": {"I": None, "W": None, "O": 2}}, {"RF": True}),
         CAPACITY + 3 + 2, "capacity of RF for O: 4 words > 2 words"),
    ]
    for m, code, text in cases:
        r = evaluate(wl, hw, m, energy=_et())
        assert not r.valid[0] and r.reason[0] == code and r.reason_text(0) == text
        assert math.isinf(r.edp[0]) and math.isfinite(r.energy_pj[0])
    no_rf = HardwareConfig("norf", 3, 3, buffers=(Buffer("gb", 1024, ("I", "O"), 16.0),))
    m = Mapping([("K", 8), ("C", 4), ("P", 4)], {"GB": {"I": 0, "W": 0, "O": 0}})
    r = evaluate(wl, no_rf, m, energy=_et())
    assert r.reason[0] == NO_STORAGE + 1 and r.reason_text(0) == "W placed at GB but no GB buffer holds it"


def test_batch_row_and_json_agree():
    """``row`` / ``to_json`` report the same numbers as the arrays; invalid EDP is null in JSON."""
    wl = _conv(K=2, C=2, P=2)
    m = Mapping([("K", 2), ("C", 2), ("P", 2)], {"GB": {"I": 0, "W": 1, "O": 2}, "RF": {"I": None, "W": 2, "O": 3}})
    r = evaluate(wl, _hw(), [m, m], energy=_et())
    j = r.to_json(1)
    assert j["energy_pj"] == r.energy_pj[1] and j["accesses"]["RF.O"]["reads"] == 12
    assert sum(j["energy_breakdown"].values()) == pytest.approx(j["energy_pj"])
    bad = Mapping([("K", 1), ("C", 2), ("P", 2)], {"GB": {"I": 0, "W": 0, "O": 0}})
    assert evaluate(wl, _hw(), bad).to_json(0)["edp"] is None
    np.testing.assert_array_equal(r.reads[..., 0], r.reads[..., 1])


def test_whole_model_edp_is_total_energy_times_total_cycles():
    """Two layers: the weight-stationary layer (2684 pJ, 18 cycles) called 3 times and the uneven-placement layer
    (1652 pJ, 8 cycles) once: energy 3*2684 + 1652 = 9704 pJ, cycles 3*18 + 8 = 62, EDP 9704*62 = 601648 — not the
    sum of per-layer EDPs (3*48312 + 13216 = 158152)."""
    from tvm_codesign.testing import evaluate_model

    ws = _conv(K=2, C=2, P=4).with_count(3)
    m_ws = Mapping(
        [("K", 2, "spatial_cols"), ("C", 2), ("P", 4)],
        {"GB": {"I": 0, "W": 0, "O": 0}, "RF": {"I": None, "W": 2, "O": None}},
        {"GB": False, "RF": True},
    )
    un = _conv(K=2, C=2, P=2)
    m_un = Mapping(
        [("K", 2), ("C", 2), ("P", 2)],
        {"GB": {"I": 0, "W": 1, "O": 2}, "RF": {"I": None, "W": 2, "O": 3}},
        {"GB": True, "RF": True},
    )
    rows = [(ws, evaluate(ws, _hw(), m_ws, energy=_et()).row(0)), (un, evaluate(un, _hw(), m_un, energy=_et()).row(0))]
    total = evaluate_model(rows)
    assert (total.energy_pj, total.cycles, total.edp, total.valid) == (9704, 62, 601648, True)
    bad = Mapping([("K", 1), ("C", 2), ("P", 2)], {"GB": {"I": 0, "W": 0, "O": 0}})
    rows.append((un, evaluate(un, _hw(), bad, energy=_et()).row(0)))
    assert math.isinf(evaluate_model(rows).edp) and evaluate_model(rows).to_json()["edp"] is None


def test_sliding_window_is_refetched_temporally_but_shared_spatially():
    """1-D conv P=4, R=3: 6 input rows. Timeloop's convention, ours too: overlapping windows are not reused across
    time, only across PEs.

    Temporal: nest ``for P4 | RF(I) | for R3``, GB holds everything. The RF input tile is one window of 3 rows,
    refilled for each of the 4 values of P (P indexes I): GB reads I = 4*3 = 12, twice the 6 rows the layer reads
    (DRAM reads 6, GB fills 6). The MAC reads the RF T = 12 times.

    Spatial: nest ``spatial_cols P4 | RF(I) | for R3`` on 4 PEs. The four 3-row windows are read once as their union,
    6 rows: GB reads I = 1*6 = 6; each PE's RF is filled with its 3 rows: RF fills 4*3 = 12.
    """
    wl = _conv(P=4, R=3)
    place = {"GB": {"I": 0, "W": 0, "O": 0}, "RF": {"I": 1, "W": None, "O": None}}
    temporal = Mapping([("P", 4), ("R", 3)], place)
    spatial = Mapping([("P", 4, "spatial_cols"), ("R", 3)], place)
    r = evaluate(wl, _hw(cols=4), [temporal, spatial], energy=_et())
    assert (r.reads[0, 0].tolist(), r.fills[1, 0].tolist()) == ([6, 6], [6, 6])
    assert r.reads[1, 0].tolist() == [12, 6]
    assert r.fills[2, 0].tolist() == [12, 12] and r.reads[2, 0].tolist() == [12, 12]


def test_raw_batch_breaking_the_structure_is_invalid_not_garbage():
    """A MappingBatch built from raw arrays bypasses Mapping's checks; evaluate flags such rows (code STRUCTURE)."""
    wl = _conv(K=2, C=2, P=2)
    m = Mapping([("K", 2, "spatial_cols"), ("C", 2), ("P", 2)], {"GB": {"I": 0, "W": 0, "O": 0}})
    b = MappingBatch.from_mappings([m, m, m])
    b.cut[0, 0, 1] = 2  # GB cut of I below the spatial loop
    b.cut[1, 2, 2] = 0  # RF cut of O above it (and above its GB cut)
    r = evaluate(wl, _hw(), b, energy=_et())
    assert r.valid.tolist() == [True, False, False] and r.reason[1:].tolist() == [STRUCTURE, STRUCTURE]
    assert "spatial loops must lie between" in r.reason_text(1)
