"""Property tests of the cost model over random valid mappings of random layers on random small accelerators.

Reference quantities (touched footprints, tile sizes, fill events) are computed here by brute-force enumeration
of the loop nest, independently of :mod:`tvm_codesign.cost.model`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from tvm_codesign.cost.model import evaluate
from tvm_codesign.errors import CodesignError
from tvm_codesign.cost.physical import energy_table
from tvm_codesign.model.hardware import Buffer, HardwareConfig, SystemParams
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.testing import random_raw_batch as _random_raw
from tvm_codesign.model.workload import DIMS, OPERAND_DIMS, OPERANDS, Workload

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def layers(draw) -> Workload:
    g = draw(st.sampled_from([1, 1, 1, 2]))
    dims = dict(
        G=g,
        N=draw(st.integers(1, 2)),
        K=draw(st.integers(1, 6)),
        C=draw(st.integers(1, 6)),
        P=draw(st.integers(1, 5)),
        Q=draw(st.integers(1, 5)),
        R=draw(st.integers(1, 3)),
        S=draw(st.integers(1, 3)),
    )
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    return Workload("rand", "group_conv2d" if g > 1 else "conv2d", stride=stride, dilation=dil, **dims)


@st.composite
def accelerators(draw) -> HardwareConfig:
    shared = draw(st.booleans())
    cap = draw(st.sampled_from([64, 256, 1024, 8192]))
    if shared:
        held = draw(st.sampled_from([("I", "W", "O"), ("I", "O"), ("W", "O")]))
        bufs = (Buffer("global", cap, held, 16.0),)
    else:
        bufs = tuple(Buffer(n, cap, (op,), 8.0) for n, op in (("in", "I"), ("wt", "W"), ("acc", "O")))
    rf = [draw(st.sampled_from([0, 4, 16, 64])) for _ in range(3)]
    return HardwareConfig(
        "rand", draw(st.integers(1, 4)), draw(st.integers(1, 4)), bufs, *rf,
        system=SystemParams(precision=draw(st.sampled_from(["int8", "int16"]))),
    )


def _valid_batch(wl: Workload, hw: HardwareConfig, seed: int, n: int = 64) -> MappingBatch:
    raw = _random_raw(wl, hw, n, np.random.default_rng(seed))
    ok = np.flatnonzero(evaluate(wl, hw, raw).valid)
    assume(len(ok) > 0)
    return raw.take(ok[:16])


# ---- brute-force references ------------------------------------------------------------------------------------
def _tile_elements(wl: Workload, m: Mapping, cut: int, op: str) -> int:
    """Distinct elements of ``op`` touched by the loops ``m.loops[cut:]`` at the first outer iteration."""
    loops = m.loops[cut:]
    idx = {d: 0 for d in DIMS}
    ranges = [range(l.factor) for l in loops]
    # Mixed radix: a loop's stride is the product of the factors of the inner loops over the same dim.
    strides = []
    for i, l in enumerate(loops):
        strides.append(math.prod(x.factor for x in loops[i + 1:] if x.dim == l.dim))
    seen = set()
    for it in itertools.product(*ranges):
        idx = {d: 0 for d in DIMS}
        for l, s, v in zip(loops, strides, it):
            idx[l.dim] += v * s
        if any(idx[d] >= getattr(wl, d) for d in DIMS):
            continue  # padded iteration: touches no data
        seen.add(_element(wl, op, idx))
    return len(seen)


def _element(wl: Workload, op: str, i: dict[str, int]) -> tuple:
    if op == "I":
        h = i["P"] * wl.stride[0] + i["R"] * wl.dilation[0]
        w = i["Q"] * wl.stride[1] + i["S"] * wl.dilation[1]
        return (i["G"], i["N"], i["C"], h, w)
    return tuple(i[d] for d in DIMS if d in OPERAND_DIMS[op])


def _touched_input(wl: Workload) -> int:
    rows = {p * wl.stride[0] + r * wl.dilation[0] for p in range(wl.P) for r in range(wl.R)}
    cols = {q * wl.stride[1] + s * wl.dilation[1] for q in range(wl.Q) for s in range(wl.S)}
    return wl.G * wl.N * wl.C * len(rows) * len(cols)


# ---- properties -----------------------------------------------------------------------------------------------
@SETTINGS
@given(layers(), accelerators(), st.integers(0, 2**31))
def test_macs_cycles_dram_and_energy_bounds(wl, hw, seed):
    batch = _valid_batch(wl, hw, seed)
    r = evaluate(wl, hw, batch)
    et = energy_table(hw)
    prods = np.ones((len(DIMS), len(batch)))
    for d in range(len(DIMS)):
        prods[d] = np.prod(np.where(batch.dim == d, batch.factor, 1), axis=0)
    perfect = np.all(prods == np.array([getattr(wl, d) for d in DIMS])[:, None], axis=0)
    assert np.all(r.macs_computed >= wl.macs)
    assert np.all(r.macs_computed[perfect] == wl.macs)
    assert np.all(r.cycles >= wl.macs / hw.num_pes)
    touched = {"I": _touched_input(wl), "W": wl.operand_size("W"), "O": wl.operand_size("O")}
    assert np.all(r.reads[0, 0] >= touched["I"]) and np.all(r.reads[0, 1] >= touched["W"])
    assert np.all(r.updates[0, 2] >= touched["O"])
    floor = (
        wl.macs * et.mac_pj
        + touched["I"] * et.read[("DRAM", "I")]
        + touched["W"] * et.read[("DRAM", "W")]
        + touched["O"] * et.write[("DRAM", "O")]
    )
    assert np.all(r.energy_pj >= floor * (1 - 1e-12))
    assert np.all(np.isfinite(r.edp) == r.valid)


def test_strided_1x1_touches_a_quarter():
    wl = Workload("s2", "conv2d", C=3, P=7, Q=7, stride=(2, 2))
    assert (_touched_input(wl), wl.operand_size("I")) == (3 * 7 * 7, 3 * 13 * 13)  # padded form 13x13, touched 7x7
    hw = HardwareConfig("h", 2, 2, (Buffer("g", 1 << 20, ("I", "W", "O"), 16.0),))
    m = Mapping([("C", 3), ("P", 7), ("Q", 7)], {"GB": {"I": 0, "W": 0, "O": 0}})
    assert evaluate(wl, hw, m).reads[0, 0, 0] == 3 * 49


@SETTINGS
@given(layers(), accelerators(), st.integers(0, 2**31))
def test_tiles_match_enumeration_and_valid_means_fits(wl, hw, seed):
    batch = _valid_batch(wl, hw, seed)
    r = evaluate(wl, hw, batch)
    for i in range(min(len(batch), 3)):
        m = batch.mapping(i)
        gb_bytes = {b.name: 0.0 for b in hw.buffers}
        for oi, op in enumerate(OPERANDS):
            for li, lv in ((1, "GB"), (2, "RF")):
                c = m.cut(lv, op)
                words = 0 if c is None else _tile_elements(wl, m, c, op)
                assert r.tile_words[li, oi, i] == words, (lv, op, str(m))
                if lv == "GB" and c is not None:
                    gb_bytes[hw.buffer_for(op).name] += words * hw.word_bytes(op)
                if lv == "RF" and c is not None:
                    cap = hw.rf_words(op) // (2 if m.is_double_buffered("RF") else 1)
                    assert words <= cap
        for b in hw.buffers:
            assert gb_bytes[b.name] <= b.capacity / (2 if m.is_double_buffered("GB") else 1)


def _fill_events_by_simulation(m: Mapping, cut: int, op: str) -> tuple[int, int]:
    """Step through the temporal loops above ``cut``; a fill happens whenever the X-indexing part changes.

    Returns (fill events, distinct tiles)."""
    outer = [l for l in m.loops[:cut] if not l.spatial]
    prev, fills, seen = None, 0, set()
    for it in itertools.product(*(range(l.factor) for l in outer)):
        key = tuple(v for l, v in zip(outer, it) if l.dim in OPERAND_DIMS[op])
        fills += key != prev
        prev = key
        seen.add(key)
    return fills, len(seen)


@SETTINGS
@given(layers(), accelerators(), st.integers(0, 2**31))
def test_fills_match_simulation(wl, hw, seed):
    """GB fills = events x tile (I, W) and partial-sum read-backs = (events - distinct) x tile (O); RF fills of I
    and W = events x tile x PEs."""
    batch = _valid_batch(wl, hw, seed)
    r = evaluate(wl, hw, batch)
    for i in range(min(len(batch), 4)):
        m = batch.mapping(i)
        pes = math.prod(l.factor for l in m.loops if l.spatial)
        for oi, op in enumerate(OPERANDS):
            c = m.cut("GB", op)
            if c is not None:
                e, d = _fill_events_by_simulation(m, c, op)
                want = (e - d if op == "O" else e) * r.tile_words[1, oi, i]
                assert r.fills[1, oi, i] == want
                if op == "O":
                    assert r.updates[0, oi, i] == e * r.tile_words[1, oi, i]
            c = m.cut("RF", op)
            if c is not None and op != "O":
                e, _ = _fill_events_by_simulation(m, c, op)
                assert r.fills[2, oi, i] == e * r.tile_words[2, oi, i] * pes


@SETTINGS
@given(layers(), accelerators(), st.integers(0, 2**31), st.data())
def test_moving_a_non_indexing_loop_inward_never_adds_traffic(wl, hw, seed, data):
    """Swap a loop that does not index X with the loop below it; X's traffic at every level must not grow."""
    batch = _valid_batch(wl, hw, seed)
    m = batch.mapping(data.draw(st.integers(0, len(batch) - 1)))
    op = data.draw(st.sampled_from(OPERANDS))
    cands = [j for j in range(len(m.loops) - 1) if m.loops[j].dim not in OPERAND_DIMS[op]]
    assume(cands)
    j = data.draw(st.sampled_from(cands))
    loops = list(m.loops)
    loops[j], loops[j + 1] = loops[j + 1], loops[j]
    # A cut between the two loops moves up with them: the moved loop enters the tile, the other stays inside it.
    placement = tuple(tuple(j if c == j + 1 else c for c in row) for row in m.placement)
    try:
        moved = Mapping(tuple(loops), placement, m.double_buffered)
    except CodesignError:
        assume(False)  # the swap broke the spatial-between-cuts structure
    res = evaluate(wl, hw, [m, moved])
    oi = OPERANDS.index(op)
    traffic = res.reads[:, oi] + res.fills[:, oi] + res.updates[:, oi]  # (levels, 2)
    assert np.all(traffic[:, 1] <= traffic[:, 0]), (op, j, str(m))


@SETTINGS
@given(layers(), accelerators(), st.integers(0, 2**31))
def test_batch_equals_one_at_a_time_exactly(wl, hw, seed):
    raw = _random_raw(wl, hw, 24, np.random.default_rng(seed))  # valid and invalid alike
    whole = evaluate(wl, hw, raw)
    for i in range(len(raw)):
        # With extra unused slots too: padding slots (factor 1) must not change a single bit.
        one = evaluate(wl, hw, MappingBatch.from_mappings([raw.mapping(i)], slots=raw.slots + i % 3))
        for name in ("energy_pj", "cycles", "edp", "valid", "reason", "macs_computed", "utilisation"):
            assert np.array_equal(getattr(one, name), getattr(whole, name)[i : i + 1], equal_nan=False), name
        for name in ("reads", "fills", "updates", "access_energy", "tile_words", "transfer_cycles"):
            assert np.array_equal(getattr(one, name)[..., 0], getattr(whole, name)[..., i]), name
        for k, v in whole.energy_breakdown.items():
            assert one.energy_breakdown[k][0] == v[i], k


def _union_elements(wl: Workload, m: Mapping, cut: int, op: str) -> int:
    """Distinct elements of ``op`` over all PEs' tiles ``loops[cut:]`` at the first temporal iteration above it."""
    n = len(m.loops)
    free = [i for i in range(n) if i >= cut or m.loops[i].spatial]  # iterated; every other loop sits at 0
    strides = [math.prod(x.factor for x in m.loops[i + 1:] if x.dim == m.loops[i].dim) for i in range(n)]
    seen = set()
    for it in itertools.product(*(range(m.loops[i].factor) for i in free)):
        idx = {d: 0 for d in DIMS}
        for i, v in zip(free, it):
            idx[m.loops[i].dim] += v * strides[i]
        if any(idx[d] >= getattr(wl, d) for d in DIMS):
            continue
        seen.add(_element(wl, op, idx))
    return len(seen)


def _windows_adjacent(m: Mapping, cut: int) -> bool:
    """No temporal loop (factor > 1) over P/Q/R/S between the outermost spatial loop over that dim and ``cut``."""
    for d in "PQRS":
        sp = [i for i, l in enumerate(m.loops) if l.dim == d and l.spatial and l.factor > 1]
        if sp and any(
            l.dim == d and not l.spatial and l.factor > 1 for l in m.loops[sp[0] + 1 : cut]
        ):
            return False
    return True


@SETTINGS
@given(layers(), accelerators(), st.integers(0, 2**31))
def test_multicast_and_halo_union_match_enumeration(wl, hw, seed):
    """Reads feeding the RFs = fill events x the union of the PEs' tiles: exact when the PEs' windows are adjacent
    and nothing is padded, an upper bound otherwise (padding is clipped per dim, not per PE)."""
    batch = _valid_batch(wl, hw, seed)
    r = evaluate(wl, hw, batch)
    for i in range(min(len(batch), 4)):
        m = batch.mapping(i)
        for oi, op in ((0, "I"), (1, "W")):
            c = m.cut("RF", op)
            if c is None:
                continue
            e, _ = _fill_events_by_simulation(m, c, op)
            parent = 1 if m.cut("GB", op) is not None else 0
            u_model = r.reads[parent, oi, i] / e
            u_true = _union_elements(wl, m, c, op)
            padded = any(v > 0 for d, v in m.padding(wl).items() if d in OPERAND_DIMS[op])
            if not padded and (op == "W" or _windows_adjacent(m, c)):
                assert u_model == u_true, (op, str(m))
            else:
                assert u_model >= u_true
        # Outputs: the RF evictions arrive reduced (one word per output in the union); read-backs likewise.
        c = m.cut("RF", "O")
        if c is not None and not any(v > 0 for d, v in m.padding(wl).items() if d in OPERAND_DIMS["O"]):
            e, dist = _fill_events_by_simulation(m, c, "O")
            u_true = _union_elements(wl, m, c, "O")
            parent = 1 if m.cut("GB", "O") is not None else 0
            assert r.updates[parent, 2, i] == e * u_true, str(m)  # the MACs update the RF, not its parent
            assert r.fills[2, 2, i] == (e - dist) * u_true


def test_chunked_evaluation_equals_whole(monkeypatch):
    """Large batches are evaluated in cache-sized chunks; the result must not change by a bit."""
    import dataclasses

    from tvm_codesign.cost import model as cost

    wl = Workload("c", "conv2d", K=16, C=8, P=6, Q=6, R=3, S=3)
    hw = HardwareConfig("h", 4, 4, (Buffer("g", 4096, ("I", "W", "O"), 16.0),), 16, 16, 16)
    raw = _random_raw(wl, hw, 1000, np.random.default_rng(3))
    whole = evaluate(wl, hw, raw)
    monkeypatch.setattr(cost, "_CHUNK", 128)
    chunked = evaluate(wl, hw, raw)
    for f in dataclasses.fields(cost.CostResult):
        a, b = getattr(whole, f.name), getattr(chunked, f.name)
        if isinstance(a, dict):
            assert all(np.array_equal(a[k], b[k]) for k in a), f.name
        elif isinstance(a, np.ndarray):
            assert np.array_equal(a, b), f.name


def test_touched_rows_table_matches_brute_force():
    from tvm_codesign.cost.nest import touched_rows

    for stride, dil in itertools.product(range(1, 5), range(1, 5)):
        P, R = 7, 5
        t = touched_rows(P, R, stride, dil).reshape(P + 1, R + 1)
        for p in range(1, P + 1):
            for r in range(1, R + 1):
                assert t[p, r] == len({i * stride + j * dil for i in range(p) for j in range(r)}), (stride, dil, p, r)
