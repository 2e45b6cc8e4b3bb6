"""Mappings as TVM schedules: they build on llvm, compute what numpy computes, and move what the cost model counts.

For every layer kind (strided conv, 1×1 conv, grouped conv, depthwise conv, dense, batch matmul) random valid
mappings are applied with :func:`apply_mapping`, built and run. Then, per cache stage, the lowered TIR is read:

* the compacted GB cache buffer has the GB tile the cost model assumed (``tile_words[GB]``);
* every cache buffer equals the box found by brute force (numpy enumerating the indices the loops below the
  stage touch), independent of both TVM and the cost model;
* each stage moves (executions × region) exactly what the cost model charges: GB fills from DRAM, the parent's
  reads that feed the RF stage (the union over PEs), the write-backs of outputs.

Mappings that spill partial sums are scheduled with ``rfactor`` (see ``schedule.py``): their write-back stage adds
the tile into the parent level on every visit; its reads of the parent minus one first visit per output element
equal the cost model's read-backs.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import tvm
from onnx import helper

from tvm_codesign.cost.model import evaluate
from tvm_codesign.errors import CodesignError
from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
from tvm_codesign.compiler.frontend import load_model
from tvm_codesign.model.hardware import LEVELS
from tvm_codesign.model.presets import preset
from tvm_codesign.bilevel.mapping_search import search_mapping
from tvm_codesign.model.loop_nest import attach_position
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.spaces.mapping import MappingSpace
from tvm_codesign.testing import random_mappings
from tvm_codesign.model.schedulability import spill_loop, spills_partial_sums, unschedulable_reason
from tvm_codesign.compiler.schedule import apply_mapping
from tvm_codesign.testing import lowered_buffer_sizes, stage_transfer_counts
from tvm_codesign.model.workload import OPERANDS

from .onnx_util import conv_model, linear_3d_model, make_model
from .schedule_check import check_schedule, random_args, reference, run

LAYERS = {
    "strided_conv": lambda: conv_model(8, 16, 8, 3, stride=2, pad=1),
    "conv1x1": lambda: conv_model(16, 8, 7, 1),
    "grouped_conv": lambda: conv_model(8, 8, 6, 3, pad=1, groups=4),
    "depthwise_conv": lambda: conv_model(8, 8, 6, 3, stride=1, pad=1, groups=8),
    "dense": lambda: make_model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [4, 32]}, ["y"], {"w": np.ones((32, 24))}
    ),
    "batch_matmul": lambda: make_model(
        [helper.make_node("MatMul", ["x", "y"], ["z"])], {"x": [3, 8, 16], "y": [3, 16, 8]}, ["z"]
    ),
}


def _layer(name: str):
    lowered = lower_to_tir(load_model(LAYERS[name]()))
    (w,) = extract_workloads(lowered, lowered=True).workloads
    func_name, block = w.sources[0]
    return w, lowered[func_name], block


@pytest.fixture(scope="module")
def built_layers():
    return {name: _layer(name) for name in LAYERS}


@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("hw_name", ["eyeriss", "vta"])
def test_random_mappings_build_match_numpy_and_cost_model(layer, hw_name, built_layers):
    w, func, block = built_layers[layer]
    hw = preset(hw_name)
    rng = np.random.default_rng(zlib.crc32(f"{layer}/{hw_name}".encode()))
    candidates = [m for m in random_mappings(w, hw, 300, rng) if unschedulable_reason(w, m) is None]
    perfect = [m for m in candidates if all(v == 0 for v in m.padding(w).values())]
    imperfect = [m for m in candidates if m not in perfect]
    assert len(perfect) >= 2 and imperfect, "sampler gave too few schedulable mappings"
    args = random_args(func, rng)
    want = reference(w, args)
    for mapping in perfect[:2] + imperfect[:1]:
        check_schedule(w, func, block, hw, mapping, args, want)


@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("hw_name", ["eyeriss", "vta"])
def test_random_spilling_mappings_build_match_numpy_and_cost_model(layer, hw_name, built_layers):
    """Random mappings that spill partial sums (GB on vta, mostly RF on eyeriss), scheduled with rfactor."""
    w, func, block = built_layers[layer]
    hw = preset(hw_name)
    rng = np.random.default_rng(zlib.crc32(f"spill/{layer}/{hw_name}".encode()))
    candidates = [
        m for m in random_mappings(w, hw, 800, rng)
        if unschedulable_reason(w, m) is None and spill_loop(w, m) is not None
    ]
    assert all(any(spills_partial_sums(m, m.cut(lv, "O")) for lv in ("GB", "RF") if m.cut(lv, "O") is not None)
               for m in candidates)
    perfect = [m for m in candidates if all(v == 0 for v in m.padding(w).values())]
    imperfect = [m for m in candidates if m not in perfect]
    assert len(perfect) >= 2, "sampler gave too few schedulable spills"
    args = random_args(func, rng)
    want = reference(w, args)
    for mapping in perfect[:2] + imperfect[:1]:
        check_schedule(w, func, block, hw, mapping, args, want)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_searched_mappings_schedule_and_match_the_cost_model(layer, built_layers):
    """The best mapping a (schedulable-only) search returns, and its Pareto points, as schedules."""
    w, func, block = built_layers[layer]
    hw = preset("eyeriss")
    result = search_mapping(w, hw, strategy="random", budget=400, seed=0, schedulable_only=True)
    assert result.mapping is not None and result.cost.valid
    rng = np.random.default_rng(1)
    args = random_args(func, rng)
    want = reference(w, args)
    for mapping in [result.mapping] + [m for m, _, _ in result.pareto[:2]]:
        check_schedule(w, func, block, hw, mapping, args, want)


def test_unschedulable_mappings_are_refused_with_a_reason(built_layers):
    w, func, block = built_layers["conv1x1"]  # K=8, C=16, P=Q=7
    gb = {"I": 0, "W": None, "O": 0}
    refused = {
        # Two C loops above the output's RF tile: rfactor takes one loop.
        "over 2 reduction loops (C2, C2)": Mapping(
            loops=[("C", 2), ("C", 2), ("K", 8), ("P", 7), ("Q", 7), ("C", 4)],
            placement={"GB": gb, "RF": {"I": None, "W": None, "O": 3}},
        ),
        # C4 above the GB tile (cut 2, attached at K8) and the output also held at RF: RF would not read back.
        "spills partial sums at GB and RF": Mapping(
            loops=[("C", 4), ("K", 8), ("P", 7), ("Q", 7), ("C", 4)],
            placement={"GB": {"I": 0, "W": None, "O": 2}, "RF": {"I": None, "W": None, "O": 3}},
        ),
        # A spatial C loop above the per-PE output stage (attached at the temporal P7 below it).
        "across a spatial reduction loop": Mapping(
            loops=[("K", 8), ("C", 4, "spatial_rows"), ("P", 7), ("Q", 7), ("C", 4)],
            placement={"GB": {"I": 0, "W": None, "O": 0}, "RF": {"I": None, "W": None, "O": 3}},
        ),
    }
    for text, spill in refused.items():
        assert spills_partial_sums(spill, spill.cut("RF", "O")) and spill_loop(w, spill) is None
        assert text in unschedulable_reason(w, spill)
        with pytest.raises(CodesignError, match="not schedulable yet"):
            apply_mapping(func, w, spill, block)
    # The same loops with the C loops inside the tile do not spill and schedule fine.
    ok = Mapping(
        loops=[("K", 8), ("P", 7), ("Q", 7), ("C", 4), ("C", 4)],
        placement={"GB": {"I": 0, "W": 0, "O": 0}, "RF": {"I": None, "W": None, "O": 3}},
    )
    assert unschedulable_reason(w, ok) is None and spill_loop(w, ok) is None
    sch, stages = apply_mapping(func, w, ok, block)
    assert [s.operand + s.level for s in stages] == ["IGB", "WGB", "OGB", "ORF"]
    assert lowered_buffer_sizes(sch.mod)[stages[-1].buffer] == 1  # one output element per RF tile


def test_gb_spill_of_a_dense_is_an_rfactor_write_back(built_layers):
    """Dense N=4, K=24, C=32 on vta; nest C4, K6, N4, K4, C8; I and W in GB whole; O cut at 2 in GB, no RFs.

    The O tile is N4·K4 = 16 words, attached at K6 with C4 above it: a spill at GB. Visits E = C4·K6 = 24, distinct
    tiles D = K6 = 6. The cost model: DRAM updates E·16 = 384, read-backs (E − D)·16 = 288 (DRAM reads O, GB
    fills O). The schedule: rfactor over C4 gives the MAC block a [C4, N, K] float32 buffer in GB scope that
    compacts to the 16-word tile; the write-back ``O += tile`` runs 24·16 = 384 times, each reading O once: its
    96 first visits (one per output element, reading the init's zero) are the reads the model leaves out.
    """

    w, func, block = built_layers["dense"]
    hw = preset("vta")
    spill = Mapping(
        loops=[("C", 4), ("K", 6), ("N", 4), ("K", 4), ("C", 8)],
        placement={"GB": {"I": 0, "W": 0, "O": 2}, "RF": {"I": None, "W": None, "O": None}},
    )
    assert spills_partial_sums(spill, 2) and unschedulable_reason(w, spill) is None
    assert spill_loop(w, spill) == ("GB", 0)
    sch, stages = apply_mapping(func, w, spill, block)
    acc = stages[-1]
    assert (acc.operand, acc.level, acc.kind) == ("O", "GB", "accumulate")
    rf_block = sch.get(sch.get_sblock(block + "_rf"))
    assert rf_block.writes[0].source.name == acc.buffer and rf_block.writes[0].source.dtype == "float32"
    write_back = sch.get(sch.get_sblock(acc.block))
    assert write_back.init is not None  # O = 0 on the C4 loop's first iteration (LowerInitBlock: an if inside)
    rng = np.random.default_rng(3)
    args = random_args(func, rng)
    np.testing.assert_allclose(run(sch.mod, args, (4, 24)), args[0] @ args[1], rtol=1e-4, atol=1e-4)
    assert lowered_buffer_sizes(sch.mod)[acc.buffer] == 16
    moved = stage_transfer_counts(sch.mod)
    assert moved[acc.block] == 384 and moved[block + "_rf"] == 4 * 24 * 32  # the MACs
    cost = evaluate(w, hw, [spill])
    d, g, o = LEVELS.index("DRAM"), LEVELS.index("GB"), OPERANDS.index("O")
    assert cost.valid[0] and cost.tile_words[g, o, 0] == 16
    assert cost.updates[d, o, 0] == 384 and cost.reads[d, o, 0] == cost.fills[g, o, 0] == 288
    assert moved[acc.block] - 4 * 24 == cost.reads[d, o, 0]  # reads of O in the TIR − first visits = read-backs
    check_schedule(w, func, block, hw, spill, args, args[0] @ args[1])


def test_rf_spill_of_a_conv_is_an_rfactor_write_back_into_the_gb_tile(built_layers):
    """1×1 conv K=8, C=16, P=Q=7 on eyeriss; nest C4, K8, P7, Q7, C4; I in GB whole, O in GB whole (cut 0) and
    in RF at cut 3 (the Q7 row, 7 words), attached at P7 with C4 above it: a spill at RF, none at GB.

    Visits E = C4·K8·P7 = 224, distinct tiles D = K8·P7 = 56. The cost model: GB updates O 224·7 = 1568, RF
    read-backs (E − D)·7 = 1176 (RF fills O); DRAM updates O 392 once (no GB spill). The schedule: rfactor over C4
    gives an RF-scope buffer compacted to 7 words; its write-back adds into the GB tile (392 words, drained to DRAM
    once by the GB stage, made from the write-back): 1568 executions, 392 of them first visits.
    """

    w, func, block = built_layers["conv1x1"]
    hw = preset("eyeriss")
    spill = Mapping(
        loops=[("C", 4), ("K", 8), ("P", 7), ("Q", 7), ("C", 4)],
        placement={"GB": {"I": 0, "W": None, "O": 0}, "RF": {"I": None, "W": None, "O": 3}},
    )
    assert not spills_partial_sums(spill, 0) and spills_partial_sums(spill, 3) and spill_loop(w, spill) == ("RF", 0)
    sch, stages = apply_mapping(func, w, spill, block)
    assert [(s.operand, s.level, s.kind) for s in stages] == [
        ("I", "GB", "read"), ("O", "GB", "write"), ("O", "RF", "accumulate")
    ]
    gb_stage, acc = stages[1], stages[2]
    rng = np.random.default_rng(4)
    args = random_args(func, rng)
    want = reference(w, args)
    np.testing.assert_allclose(run(sch.mod, args, want.shape), want, rtol=1e-4, atol=1e-4)
    sizes = lowered_buffer_sizes(sch.mod)
    assert sizes[acc.buffer] == 7 and sizes[gb_stage.buffer] == 392
    moved = stage_transfer_counts(sch.mod)
    assert moved[acc.block] == 1568 and moved[gb_stage.block] == 392
    cost = evaluate(w, hw, [spill])
    d, g, r, o = LEVELS.index("DRAM"), LEVELS.index("GB"), LEVELS.index("RF"), OPERANDS.index("O")
    assert cost.valid[0] and cost.tile_words[r, o, 0] == 7
    assert cost.updates[g, o, 0] == 1568 and cost.fills[r, o, 0] == 1176 and cost.updates[d, o, 0] == 392
    assert moved[acc.block] - 392 == cost.fills[r, o, 0]
    check_schedule(w, func, block, hw, spill, args, want)


def test_gb_spill_of_a_grouped_conv(built_layers):
    """Grouped conv G=4, K/G=2, C/G=2, P=Q=6, R=S=3 on vta; nest G4, R3, K2, P6, Q6, C2, S3; O cut at 3 in GB
    (P6·Q6 = 36 words) attached at K2 with R3 above it. E = G4·R3·K2 = 24, D = G4·K2 = 8: DRAM updates 24·36 = 864,
    read-backs (24 − 8)·36 = 576; rfactor over R3 (a reduction loop of TIR's conv block, like C)."""
    w, func, block = built_layers["grouped_conv"]
    hw = preset("vta")
    spill = Mapping(
        loops=[("G", 4), ("R", 3), ("K", 2), ("P", 6), ("Q", 6), ("C", 2), ("S", 3)],
        placement={"GB": {"I": 0, "W": 0, "O": 3}, "RF": {"I": None, "W": None, "O": None}},
    )
    assert spill_loop(w, spill) == ("GB", 1) and unschedulable_reason(w, spill) is None
    cost = evaluate(w, hw, [spill])
    assert cost.updates[0, 2, 0] == 864 and cost.reads[0, 2, 0] == 576
    rng = np.random.default_rng(5)
    args = random_args(func, rng)
    want = reference(w, args)
    check_schedule(w, func, block, hw, spill, args, want)  # numpy, sizes, and 864 = 576 + 288 first visits
    sch, stages = apply_mapping(func, w, spill, block)
    assert stage_transfer_counts(sch.mod)[stages[-1].block] == 864


def test_strided_group_tiles_are_refused(built_layers):
    w, func, block = built_layers["grouped_conv"]  # G=4, K/G=2, C/G=2
    # K outside, G inside the output's GB tile: the tile holds channels k, k+2, k+4, k+6.
    strided = Mapping(
        loops=[("K", 2), ("G", 4), ("C", 2), ("P", 6), ("Q", 6), ("R", 3), ("S", 3)],
        placement={"GB": {"I": None, "W": None, "O": 1}},
    )
    assert "strided channels" in unschedulable_reason(w, strided)
    with pytest.raises(CodesignError, match="strided channels"):
        apply_mapping(func, w, strided, block)


def test_tvm_027_cannot_read_partial_sums_back_in_place(built_layers):
    """Why spills are scheduled with rfactor rather than an in-place read-back (``schedule.py``'s docstring): every
    TVM 0.27 primitive that could read a spilled output tile back into the buffer the MAC block accumulates into
    fails, each in its own way.

    If a TVM upgrade makes one of these work, this test fails: then the spills rfactor cannot take (several
    reduction loops above the tile, the output held at RF below a GB spill) could be scheduled faithfully.
    """
    from tvm import s_tir

    from tvm_codesign.compiler.extract import analyse_block
    from tvm_codesign.compiler.schedule import (
        _canonical_loops,
        _split_and_reorder,
        schedulable_module,
    )

    w, func, block = built_layers["dense"]  # N=4, K=24, C=32
    # The outer C loop lies above the output's GB tile (the K4 loop's subtree): a spill at GB.
    spill = Mapping(
        loops=[("C", 4), ("K", 6), ("N", 4), ("K", 4), ("C", 8)],
        placement={"GB": {"I": 0, "W": 0, "O": 2}, "RF": {"I": None, "W": None, "O": None}},
    )
    # Scheduled instead with rfactor (test_gb_spill_of_a_dense_is_an_rfactor_write_back).
    assert spills_partial_sums(spill, 2) and spill_loop(w, spill) == ("GB", 0)

    def decomposed():
        """The nest split and reordered, the zero-init split off so that the MAC block reads the output."""
        sch = s_tir.Schedule(schedulable_module(func))
        main = sch.get_sblock(block)
        analysis = analyse_block(sch.mod["main"], block)
        rvs = _split_and_reorder(sch, _canonical_loops(sch, main, analysis.binding), spill, w)
        sch.decompose_reduction(main, sch.get_loops(main)[0])
        idx = [r.source.name for r in sch.get(main).reads].index(analysis.buffers["O"])
        return sch, main, rvs, idx

    sch, main, rvs, idx = decomposed()
    with pytest.raises(Exception, match="written by single block"):  # init and update both write the output
        sch.cache_read(main, idx, "global.codesign_gb")
    sch, main, rvs, idx = decomposed()
    with pytest.raises(Exception, match="w_pos"):  # the subtree that reads the output also writes it
        sch.read_at(rvs[1], main, idx, "global.codesign_gb")
    sch, main, rvs, idx = decomposed()
    read_stage, _ = sch.cache_inplace(main, idx, "global.codesign_gb")  # placed one element wide, at the MAC
    with pytest.raises(Exception, match="not a complete block"):  # ...and cannot be moved out to the tile
        sch.compute_at(read_stage, rvs[1])
    sch, main, rvs, idx = decomposed()
    tile = sch.blockize(rvs[2])
    output = sch.get(main).writes[0].source.name
    # Placed at the tile, but the stages' regions use the tile block's own iteration variables outside it.
    sch.cache_inplace(tile, [r.source.name for r in sch.get(tile).reads].index(output), "global.codesign_gb")
    with pytest.raises(Exception, match="are used, but are not passed in"):
        tvm.compile(sch.mod, target="llvm")
    # The write-back half alone does work: write_at puts it at the tile's loop.
    sch, main, rvs, idx = decomposed()
    write_back = sch.write_at(rvs[1], main, 0, "global.codesign_gb")
    assert sch.get(write_back).writes[0].source.name == output
    assert sch.get(sch.get_loops(write_back)[-1]).same_as(sch.get(rvs[1]))


# ------------------------------------------------------------------------------------------------------------
# Canonical dims made of several TIR loops: N = 16 x 31 of a MatMul [16, 31, 32] x [32, 32] (a Linear layer on a
# 3-D tensor), G = 2 x 3 of a batch matmul [2, 3, 31, 32] x [2, 3, 32, 31].

FUSED = {
    "matmul_3d": linear_3d_model,
    "batch_matmul_4d": lambda: make_model(
        [helper.make_node("MatMul", ["x", "y"], ["z"])], {"x": [2, 3, 31, 32], "y": [2, 3, 32, 31]}, ["z"]
    ),
}


@pytest.fixture(scope="module")
def fused_layers():
    out = {}
    for name, build in FUSED.items():
        lowered = lower_to_tir(load_model(build()))
        (w,) = extract_workloads(lowered, lowered=True).workloads
        out[name] = (w, lowered[w.sources[0][0]], w.sources[0][1])
    return out


def test_fused_dims_are_recorded_with_their_tir_loops(fused_layers):
    w, _, _ = fused_layers["matmul_3d"]
    assert (w.op, w.N, w.K, w.C, w.tir_loops) == ("dense", 496, 32, 32, (("N", (16, 31)),))
    b, _, _ = fused_layers["batch_matmul_4d"]
    assert (b.op, b.G, b.N, b.K, b.C, b.tir_loops) == ("batch_matmul", 6, 31, 31, 32, (("G", (2, 3)),))


@pytest.mark.parametrize("n_factors", [(3, 83, 2), (4, 31, 4), (1, 248, 2), (16, 31, 1), (2, 4, 62), (1, 16, 31)])
def test_straddling_n_tiles_are_refused_and_aligned_ones_equal_numpy(n_factors, fused_layers):
    """Nest N·K32·N·C32·N (outer to inner N factors ``n_factors``) with the output's GB tile at every cut: a tile
    of N that is not a box of the TIR loops (16, 31) -- 2 rows across the 31-row boundary, 4 rows, 166 rows -- is
    refused by the one rule (and so out of the schedulable space), every other one builds and equals numpy."""
    w, func, block = fused_layers["matmul_3d"]
    hw = preset("vta")
    n0, n1, n2 = n_factors
    loops = [("N", n0), ("K", 32), ("N", n1), ("C", 32), ("N", n2)]
    rng = np.random.default_rng(sum(n_factors))
    args = random_args(func, rng)
    want = reference(w, args)
    space = MappingSpace(w, hw, schedulable_only=True)
    verdicts = []
    for cut in range(len(loops) + 1):
        mapping = Mapping(loops, {"GB": {"I": 0, "W": 0, "O": cut}})
        # The tile the stage holds: the N factors inside its attach point (the innermost O-indexing loop above).
        attach = attach_position(mapping, "O", cut)
        tile = int(np.prod([f for i, (d, f) in enumerate(loops) if d == "N" and i > attach]))
        straddles = not (tile >= 496 or tile in (1, 31) or tile % 31 == 0)  # boxes of [16, 31], by hand
        reason = unschedulable_reason(w, mapping)
        assert (reason is not None) == straddles, (tile, reason)
        assert space.schedulable(MappingBatch.from_mappings([mapping])).tolist() == [not straddles]
        if straddles:
            assert "straddles" in reason and f"holds {tile} of N" in reason
            with pytest.raises(CodesignError, match="straddles a boundary of the TIR loops"):
                apply_mapping(func, w, mapping, block)
        else:
            check_schedule(w, func, block, hw, mapping, args, want)
        verdicts.append(straddles)
    if n_factors in ((3, 83, 2), (4, 31, 4)):
        assert any(verdicts) and not all(verdicts)


def test_batch_matmul_g_tile_across_heads_is_refused(fused_layers):
    """G = 2 x 3 (batch x heads): a G tile of 2 spans heads (0, 2) and (1, 0), not a box; 3 and 6 are."""
    w, func, block = fused_layers["batch_matmul_4d"]
    hw = preset("vta")
    rng = np.random.default_rng(7)
    args = random_args(func, rng)
    want = reference(w, args)
    for g_outer, g_inner, refused in ((3, 2, True), (2, 3, False), (1, 6, False)):
        loops = [("G", g_outer), ("K", 31), ("G", g_inner), ("N", 31), ("C", 32)]
        mapping = Mapping([l for l in loops if l[1] > 1], {"GB": {"I": 0, "W": 0, "O": 2 if g_outer > 1 else 1}})
        reason = unschedulable_reason(w, mapping)
        assert (reason is not None) == refused, reason
        if refused:
            assert "of G = 2 x 3" in reason
        else:
            check_schedule(w, func, block, hw, mapping, args, want)


SCHEDULE_KINDS = {**{name: LAYERS[name] for name in LAYERS}, **FUSED}


def _agreement(name: str, n: int, seed: int) -> None:
    lowered = lower_to_tir(load_model(SCHEDULE_KINDS[name]()))
    (w,) = extract_workloads(lowered, lowered=True).workloads
    func, block = lowered[w.sources[0][0]], w.sources[0][1]
    rng = np.random.default_rng(seed)
    spilled = 0
    for hw in (preset("eyeriss"), preset("vta")):
        free = MappingSpace(w, hw)
        sched = MappingSpace(w, hw, schedulable_only=True)
        G = np.concatenate([free.uniform(n // 2, rng), free.sample(n - n // 2, rng)])
        batch = free.decode_batch(G)
        verdict = sched.schedulable(batch)
        assert verdict.any() and not verdict.all()
        for i, mapping in enumerate(batch.to_mappings()):
            try:
                apply_mapping(func, w, mapping, block)
                took = True
            except CodesignError as err:
                assert "not schedulable yet" in str(err), err
                took = False
            assert took == bool(verdict[i]), (i, str(mapping), unschedulable_reason(w, mapping))
            spilled += took and spill_loop(w, mapping) is not None
    assert spilled > 0, "no schedulable spill among the genomes"


@pytest.mark.parametrize("name", list(SCHEDULE_KINDS))
def test_search_and_apply_mapping_agree_on_what_is_schedulable(name):
    """``MappingSpace(schedulable_only=True)``'s verdict on random genomes (uniform and sampled, spills among them)
    is what ``apply_mapping`` does with them: schedules the ones it accepts, refuses the rest with the reason."""
    _agreement(name, 120, 11)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCHEDULE_KINDS))
def test_search_and_apply_mapping_agree_on_thousands_of_genomes(name):
    _agreement(name, 3000, 12)


def test_padded_group_channels_are_refused():
    """Found by the fuzzer: a grouped conv (G = 2, K/G = 3) with K split 2 x 2 = 4 and the output cached. The
    padded channel k = 3 of group 0 is channel 0 of group 1 in TIR's one channel axis; TVM clips the tile only at
    the tensor's end, so the write-back overwrote a finished output of group 1. With K/G split exactly it builds and
    equals numpy."""
    from onnx import helper as h

    rng = np.random.default_rng(0)
    node = h.make_node("Conv", ["x", "w"], ["y"], group=2, kernel_shape=[1, 2])
    lowered = lower_to_tir(load_model(make_model([node], {"x": [1, 2, 1, 2]}, ["y"],
                                                 {"w": rng.standard_normal((6, 1, 1, 2))})))
    (w,) = extract_workloads(lowered, lowered=True).workloads
    func, block = lowered[w.sources[0][0]], w.sources[0][1]
    assert (w.op, w.G, w.K, w.C, w.S) == ("depthwise_conv2d", 2, 3, 1, 2)  # C/G = 1, channel multiplier 3
    padded = Mapping([("K", 2), ("G", 2), ("K", 2, "spatial_rows"), ("S", 2, "spatial_rows")],
                     {"GB": {"I": None, "W": 2, "O": 2}})
    assert "pads the per-group channels K = 3 to 4 while caching O" in unschedulable_reason(w, padded)
    with pytest.raises(CodesignError, match="next group's channels"):
        apply_mapping(func, w, padded, block)
    exact = Mapping([("G", 2), ("K", 3, "spatial_rows"), ("S", 2, "spatial_rows")], {"GB": {"I": None, "W": 1, "O": 1}})
    assert unschedulable_reason(w, exact) is None
    args = random_args(func, rng)
    check_schedule(w, func, block, preset("vta"), exact, args, reference(w, args))


def test_tiles_over_three_fused_loops_must_hold_the_whole_dim():
    """N = 2 x 2 x 32 (a 4-D MatMul): TVM 0.27's region analysis wrote back both values of the middle loop for an
    output tile of 8 rows (found by the fuzzer), so over three or more loops only whole-dim tiles are kept."""
    lowered = lower_to_tir(load_model(make_model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [2, 2, 32, 2]}, ["y"],
        {"w": np.random.default_rng(0).standard_normal((2, 3))},
    )))
    (w,) = extract_workloads(lowered, lowered=True).workloads
    func, block = lowered[w.sources[0][0]], w.sources[0][1]
    assert w.tir_loops == (("N", (2, 2, 32)),)
    partial = Mapping([("N", 16), ("N", 4, "spatial_rows"), ("N", 2), ("C", 2), ("K", 3)],
                      {"GB": {"I": 1, "W": None, "O": 1}, "RF": {"I": 4, "W": 4, "O": 2}})
    assert "holds 8 of N = 2 x 2 x 32 in its I tile at GB: over three or more" in unschedulable_reason(w, partial)
    whole = Mapping([("K", 3), ("N", 4, "spatial_rows"), ("N", 32), ("C", 2)],
                    {"GB": {"I": 0, "W": None, "O": 0}, "RF": {"I": None, "W": 3, "O": None}})
    assert unschedulable_reason(w, whole) is None
    args = random_args(func, np.random.default_rng(1))
    check_schedule(w, func, block, preset("eyeriss"), whole, args, reference(w, args))
