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

from tvm_codesign.cost import evaluate
from tvm_codesign.errors import CodesignError
from tvm_codesign.extract import extract_workloads, lower_to_tir
from tvm_codesign.frontend import load_model
from tvm_codesign.hardware import LEVELS, preset
from tvm_codesign.inner import search_mapping
from tvm_codesign.mapping import Mapping, random_mappings
from tvm_codesign.schedule import (
    apply_mapping,
    attach_position,
    lowered_buffer_sizes,
    spill_loop,
    spills_partial_sums,
    stage_transfer_counts,
    unschedulable_reason,
)
from tvm_codesign.workload import OPERANDS, Workload

from .onnx_util import conv_model, make_model

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


def _random_args(func, rng):
    args = []
    for p in func.params[:-1]:  # the last param is the output
        ty = p.ty
        shape = [int(d) for d in ty.shape]
        args.append(rng.standard_normal(shape).astype("float32"))
    return args


def _reference(w: Workload, args: list[np.ndarray]) -> np.ndarray:
    """The layer in numpy: sliding windows and einsum (padded, grouped), independent of TVM."""
    if w.op in ("dense", "batch_matmul"):
        return np.matmul(args[0], args[1])
    x, wt = args[0], args[1]
    pad = w.padding
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[2]), (pad[1], pad[3])))
    g = w.G
    n, c_all, _, _ = xp.shape
    xg = xp.reshape(n, g, c_all // g, *xp.shape[2:])
    win = np.lib.stride_tricks.sliding_window_view(xg, (w.R, w.S), axis=(3, 4))
    win = win[:, :, :, :: w.stride[0], :: w.stride[1]][:, :, :, : w.P, : w.Q]
    wg = wt.reshape(g, wt.shape[0] // g, *wt.shape[1:])
    out = np.einsum("ngcpqrs,gkcrs->ngkpq", win, wg)
    return out.reshape(n, g * (wt.shape[0] // g), w.P, w.Q)


def _brute_footprint(w: Workload, mapping: Mapping, operand: str, attach: int, box: bool = True) -> int:
    """Elements of the box (``box=True``) or the set of (padded) ``operand`` indices the loops below ``attach``
    touch at the first iteration above it, by enumerating them."""
    loops = mapping.loops[attach + 1 :]
    ranges = []
    for l in loops:
        ranges.append(range(l.factor))
    # Strides of each loop within its dim (inner loops of a dim are finer).
    idx = {d: np.zeros(1, dtype=np.int64) for d in "GNKCPQRS"}
    for pos, l in enumerate(mapping.loops):
        inner = 1
        for m in mapping.loops[pos + 1 :]:
            if m.dim == l.dim:
                inner *= m.factor
        if pos > attach:
            idx[l.dim] = (idx[l.dim][:, None] + np.arange(l.factor)[None, :] * inner).reshape(-1)
    for d in idx:
        idx[d] = idx[d][idx[d] < getattr(w, d)]  # padded iterations touch nothing
    if operand == "W":
        grids = np.meshgrid(idx["G"], idx["K"], idx["C"], idx["R"], idx["S"], indexing="ij")
    elif operand == "O":
        grids = np.meshgrid(idx["G"], idx["N"], idx["K"], idx["P"], idx["Q"], indexing="ij")
    else:
        g, n, c, p, r, q, s = np.meshgrid(
            idx["G"], idx["N"], idx["C"], idx["P"], idx["R"], idx["Q"], idx["S"], indexing="ij"
        )
        h = p * w.stride[0] + r * w.dilation[0]
        v = q * w.stride[1] + s * w.dilation[1]
        grids = [g, n, c, h, v]
    if not box:
        keys = np.stack([x.reshape(-1) for x in grids], axis=1)
        return len(np.unique(keys, axis=0))
    # A buffer holds a box: per tensor axis, from the lowest to the highest index touched.
    return int(np.prod([int(x.max() - x.min() + 1) if x.size else 0 for x in grids]))


def _expected_transfer(cost, mapping: Mapping, operand: str, level: str, attach: int) -> float:
    """What the cost model says a stage moves.

    A GB stage moves GB's fills (outputs: GB's write-backs into DRAM). An RF stage attached above the spatial
    loops moves, per fill, the union of the per-PE tiles: the parent's reads that feed the array (outputs: the
    parent's updates). One attached below them runs once per PE: it moves the RF fills themselves (outputs: the
    parent's updates still, as the PEs' output tiles are disjoint there).
    """
    oi = OPERANDS.index(operand)
    lv = {name: i for i, name in enumerate(LEVELS)}
    if level == "GB":
        return cost.fills[lv["GB"], oi, 0] if operand != "O" else cost.updates[lv["DRAM"], oi, 0]
    spatial = [i for i, l in enumerate(mapping.loops) if l.spatial and l.factor > 1]
    if spatial and attach > spatial[0] and operand != "O":
        return cost.fills[lv["RF"], oi, 0]
    # Outputs: a stage below spatial loops (only possible over output dims: a reduction one would spill and is
    # refused) drains each PE's own tile, E·T·PEs words in all, which is the union E·U the parent is updated with.
    parent = "GB" if mapping.cut("GB", operand) is not None else "DRAM"
    return cost.reads[lv[parent], oi, 0] if operand != "O" else cost.updates[lv[parent], oi, 0]


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
    args = _random_args(func, rng)
    want = _reference(w, args)
    for mapping in perfect[:2] + imperfect[:1]:
        _check_schedule(w, func, block, hw, mapping, args, want)


@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("hw_name", ["eyeriss", "vta"])
def test_random_spilling_mappings_build_match_numpy_and_cost_model(layer, hw_name, built_layers):
    """Random mappings that spill partial sums (GB on vta, mostly RF on eyeriss), scheduled with rfactor."""
    w, func, block = built_layers[layer]
    hw = preset(hw_name)
    rng = np.random.default_rng(zlib.crc32(f"spill/{layer}/{hw_name}".encode()))
    candidates = [
        m for m in random_mappings(w, hw, 800, rng) if unschedulable_reason(w, m) is None and spill_loop(m) is not None
    ]
    assert all(any(spills_partial_sums(m, m.cut(lv, "O")) for lv in ("GB", "RF") if m.cut(lv, "O") is not None)
               for m in candidates)
    perfect = [m for m in candidates if all(v == 0 for v in m.padding(w).values())]
    imperfect = [m for m in candidates if m not in perfect]
    assert len(perfect) >= 2, "sampler gave too few schedulable spills"
    args = _random_args(func, rng)
    want = _reference(w, args)
    for mapping in perfect[:2] + imperfect[:1]:
        _check_schedule(w, func, block, hw, mapping, args, want)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_searched_mappings_schedule_and_match_the_cost_model(layer, built_layers):
    """The best mapping a (schedulable-only) search returns, and its Pareto points, as schedules."""
    w, func, block = built_layers[layer]
    hw = preset("eyeriss")
    result = search_mapping(w, hw, strategy="random", budget=400, seed=0, schedulable_only=True)
    assert result.mapping is not None and result.cost.valid
    rng = np.random.default_rng(1)
    args = _random_args(func, rng)
    want = _reference(w, args)
    for mapping in [result.mapping] + [m for m, _, _ in result.pareto[:2]]:
        _check_schedule(w, func, block, hw, mapping, args, want)


def _check_schedule(w, func, block, hw, mapping, args, want) -> None:
    """Build ``mapping`` as a schedule, compare with numpy, and (perfect factors) with the cost model's counts."""
    sch, stages = apply_mapping(func, w, mapping, block)
    lib = tvm.compile(sch.mod, target="llvm")
    out = tvm.runtime.empty(want.shape, "float32")
    lib["main"](*[tvm.runtime.tensor(a) for a in args], out)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-4)
    if any(v != 0 for v in mapping.padding(w).values()):
        # With ceil splits TVM's cache boxes also cover the padded iterations' halo, which the cost model
        # clips to the tensor: the counts below are compared on perfectly factored mappings.
        return
    cost = evaluate(w, hw, [mapping])
    assert cost.valid[0]
    sizes = lowered_buffer_sizes(sch.mod)
    moved = stage_transfer_counts(sch.mod)
    for st in stages:
        attach = attach_position(mapping, st.operand, mapping.cut(st.level, st.operand))
        assert sizes[st.buffer] == _brute_footprint(w, mapping, st.operand, attach), (st, str(mapping))
        expected = _expected_transfer(cost, mapping, st.operand, st.level, attach)
        touched = _brute_footprint(w, mapping, st.operand, attach, box=False)
        if touched < sizes[st.buffer]:
            # A strided window with gaps (stride > the window's rows): TVM holds and moves the box, the cost
            # model only the rows the layer reads (docs/cost-model.md, "Strided windows").
            if st.level == "GB":
                assert cost.tile_words[1, OPERANDS.index(st.operand), 0] == touched, st
            assert moved[st.block] > expected, (st, str(mapping))
            continue
        if st.level == "GB":
            assert sizes[st.buffer] == cost.tile_words[1, OPERANDS.index(st.operand), 0], st
        assert moved[st.block] == expected, (st, str(mapping))
        if st.kind == "accumulate":
            # The rfactor write-back reads the partial sums in the parent on every visit, the first included
            # (where they are still the init's zeros); the cost model reads back only on the later visits. With
            # perfect factors every output element has exactly one first visit.
            assert moved[st.block] - want.size == cost.fills[LEVELS.index(st.level), OPERANDS.index("O"), 0], st


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
        assert spills_partial_sums(spill, spill.cut("RF", "O")) and spill_loop(spill) is None
        assert text in unschedulable_reason(w, spill)
        with pytest.raises(CodesignError, match="not schedulable yet"):
            apply_mapping(func, w, spill, block)
    # The same loops with the C loops inside the tile do not spill and schedule fine.
    ok = Mapping(
        loops=[("K", 8), ("P", 7), ("Q", 7), ("C", 4), ("C", 4)],
        placement={"GB": {"I": 0, "W": 0, "O": 0}, "RF": {"I": None, "W": None, "O": 3}},
    )
    assert unschedulable_reason(w, ok) is None and spill_loop(ok) is None
    sch, stages = apply_mapping(func, w, ok, block)
    assert [s.operand + s.level for s in stages] == ["IGB", "WGB", "OGB", "ORF"]
    assert lowered_buffer_sizes(sch.mod)[stages[-1].buffer] == 1  # one output element per RF tile


def _run(sch, args, shape) -> np.ndarray:
    """Build ``sch`` for llvm and run it on ``args``."""
    lib = tvm.compile(sch.mod, target="llvm")
    out = tvm.runtime.empty(shape, "float32")
    lib["main"](*[tvm.runtime.tensor(a) for a in args], out)
    return out.numpy()


def test_gb_spill_of_a_dense_is_an_rfactor_write_back(built_layers):
    """Dense N=4, K=24, C=32 on vta; nest C4, K6, N4, K4, C8; I and W in GB whole; O cut at 2 in GB, no RFs.

    The O tile is N4·K4 = 16 words, attached at K6 with C4 above it: a spill at GB. Visits E = C4·K6 = 24, distinct
    tiles D = K6 = 6. The cost model: DRAM updates E·16 = 384, read-backs (E − D)·16 = 288 (DRAM reads O, GB
    fills O). The schedule: rfactor over C4 gives the MAC block a [C4, N, K] float32 buffer in GB scope that
    compacts to the 16-word tile; the write-back ``O += tile`` runs 24·16 = 384 times, each reading O once: its
    96 first visits (one per output element, reading the init's zero) are the reads the model leaves out.
    """
    from tvm_codesign.hardware import LEVELS

    w, func, block = built_layers["dense"]
    hw = preset("vta")
    spill = Mapping(
        loops=[("C", 4), ("K", 6), ("N", 4), ("K", 4), ("C", 8)],
        placement={"GB": {"I": 0, "W": 0, "O": 2}, "RF": {"I": None, "W": None, "O": None}},
    )
    assert spills_partial_sums(spill, 2) and unschedulable_reason(w, spill) is None and spill_loop(spill) == ("GB", 0)
    sch, stages = apply_mapping(func, w, spill, block)
    acc = stages[-1]
    assert (acc.operand, acc.level, acc.kind) == ("O", "GB", "accumulate")
    rf_block = sch.get(sch.get_sblock(block + "_rf"))
    assert rf_block.writes[0].source.name == acc.buffer and rf_block.writes[0].source.dtype == "float32"
    write_back = sch.get(sch.get_sblock(acc.block))
    assert write_back.init is not None  # O = 0 on the C4 loop's first iteration (LowerInitBlock: an if inside)
    rng = np.random.default_rng(3)
    args = _random_args(func, rng)
    np.testing.assert_allclose(_run(sch, args, (4, 24)), args[0] @ args[1], rtol=1e-4, atol=1e-4)
    assert lowered_buffer_sizes(sch.mod)[acc.buffer] == 16
    moved = stage_transfer_counts(sch.mod)
    assert moved[acc.block] == 384 and moved[block + "_rf"] == 4 * 24 * 32  # the MACs
    cost = evaluate(w, hw, [spill])
    d, g, o = LEVELS.index("DRAM"), LEVELS.index("GB"), OPERANDS.index("O")
    assert cost.valid[0] and cost.tile_words[g, o, 0] == 16
    assert cost.updates[d, o, 0] == 384 and cost.reads[d, o, 0] == cost.fills[g, o, 0] == 288
    assert moved[acc.block] - 4 * 24 == cost.reads[d, o, 0]  # reads of O in the TIR − first visits = read-backs
    _check_schedule(w, func, block, hw, spill, args, args[0] @ args[1])


def test_rf_spill_of_a_conv_is_an_rfactor_write_back_into_the_gb_tile(built_layers):
    """1×1 conv K=8, C=16, P=Q=7 on eyeriss; nest C4, K8, P7, Q7, C4; I in GB whole, O in GB whole (cut 0) and
    in RF at cut 3 (the Q7 row, 7 words), attached at P7 with C4 above it: a spill at RF, none at GB.

    Visits E = C4·K8·P7 = 224, distinct tiles D = K8·P7 = 56. The cost model: GB updates O 224·7 = 1568, RF
    read-backs (E − D)·7 = 1176 (RF fills O); DRAM updates O 392 once (no GB spill). The schedule: rfactor over C4
    gives an RF-scope buffer compacted to 7 words; its write-back adds into the GB tile (392 words, drained to DRAM
    once by the GB stage, made from the write-back): 1568 executions, 392 of them first visits.
    """
    from tvm_codesign.hardware import LEVELS

    w, func, block = built_layers["conv1x1"]
    hw = preset("eyeriss")
    spill = Mapping(
        loops=[("C", 4), ("K", 8), ("P", 7), ("Q", 7), ("C", 4)],
        placement={"GB": {"I": 0, "W": None, "O": 0}, "RF": {"I": None, "W": None, "O": 3}},
    )
    assert not spills_partial_sums(spill, 0) and spills_partial_sums(spill, 3) and spill_loop(spill) == ("RF", 0)
    sch, stages = apply_mapping(func, w, spill, block)
    assert [(s.operand, s.level, s.kind) for s in stages] == [
        ("I", "GB", "read"), ("O", "GB", "write"), ("O", "RF", "accumulate")
    ]
    gb_stage, acc = stages[1], stages[2]
    rng = np.random.default_rng(4)
    args = _random_args(func, rng)
    want = _reference(w, args)
    np.testing.assert_allclose(_run(sch, args, want.shape), want, rtol=1e-4, atol=1e-4)
    sizes = lowered_buffer_sizes(sch.mod)
    assert sizes[acc.buffer] == 7 and sizes[gb_stage.buffer] == 392
    moved = stage_transfer_counts(sch.mod)
    assert moved[acc.block] == 1568 and moved[gb_stage.block] == 392
    cost = evaluate(w, hw, [spill])
    d, g, r, o = LEVELS.index("DRAM"), LEVELS.index("GB"), LEVELS.index("RF"), OPERANDS.index("O")
    assert cost.valid[0] and cost.tile_words[r, o, 0] == 7
    assert cost.updates[g, o, 0] == 1568 and cost.fills[r, o, 0] == 1176 and cost.updates[d, o, 0] == 392
    assert moved[acc.block] - 392 == cost.fills[r, o, 0]
    _check_schedule(w, func, block, hw, spill, args, want)


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
    assert spill_loop(spill) == ("GB", 1) and unschedulable_reason(w, spill) is None
    cost = evaluate(w, hw, [spill])
    assert cost.updates[0, 2, 0] == 864 and cost.reads[0, 2, 0] == 576
    rng = np.random.default_rng(5)
    args = _random_args(func, rng)
    want = _reference(w, args)
    _check_schedule(w, func, block, hw, spill, args, want)  # numpy, sizes, and 864 = 576 + 288 first visits
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

    from tvm_codesign.extract import analyse_block
    from tvm_codesign.schedule import (
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
    assert spills_partial_sums(spill, 2) and spill_loop(spill) == ("GB", 0)

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
