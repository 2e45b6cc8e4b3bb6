"""MappingSpace: validity of samples, dataflow rules, decode/encode, moves, size and enumeration, inversion."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tvm_codesign.cost.model import evaluate
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.presets import preset
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.spaces.mapping import MappingObjective, MappingSpace
from tvm_codesign.spaces.mapping.genome import FactorTable as _FactorTable, temporal_candidates as _temporal_candidates
from tvm_codesign.model.schedulability import spills_partial_sums, unschedulable_reason
from tvm_codesign.model.workload import DIMS, Workload

R50 = Workload("r50_conv3x3", "conv2d", K=64, C=64, P=56, Q=56, R=3, S=3, padding=(1, 1, 1, 1))
DQN1 = Workload("dqn_conv1", "conv2d", K=32, C=4, P=20, Q=20, R=8, S=8, stride=(4, 4))
FFN = Workload("bert_ffn1", "dense", N=128, C=768, K=3072)
TINY = Workload("tiny", "dense", K=2, C=2)
EYERISS, VTA = preset("eyeriss"), preset("vta")

CASES = [
    (R50, EYERISS, None),
    (R50, EYERISS, "row_stationary"),
    (DQN1, EYERISS, None),
    (DQN1, EYERISS, "row_stationary"),
    (FFN, VTA, "vta_gemm"),
    (R50, VTA, "vta_gemm"),
]


def _ids(case):
    wl, hw, df = case
    return f"{wl.name}-{hw.name}-{df or 'free'}"


def _space(wl, hw, df, **kw) -> MappingSpace:
    return MappingSpace(wl, hw, dataflow=df, **kw)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_samples_are_valid_and_acceptance_is_reported(case):
    wl, hw, df = case
    space = _space(wl, hw, df)
    genomes = space.sample(400, np.random.default_rng(0))
    assert genomes.shape == (400, space.genome_size) and genomes.dtype == np.int64
    assert space.contains(genomes).all()
    res = evaluate(wl, hw, space.decode_batch(genomes))
    assert res.valid.all(), {res.reason_text(i) for i in np.flatnonzero(~res.valid)}
    assert 0 < space.acceptance_rate <= 1


def test_acceptance_on_resnet50_3x3_beats_uniform_sampling():
    """Timeloop's unconstrained random sampler finds no valid ResNet-50 3x3 mapping on Eyeriss in 2e5 tries; ours
    builds fan-out and (roughly) capacity in, so most proposals are valid, and far more than uniform genomes."""
    rng = np.random.default_rng(1)
    for df in (None, "row_stationary"):
        space = _space(R50, EYERISS, df)
        space.sample(2000, rng)
        uniform = space.valid(space.uniform(20000, rng)).mean()
        assert space.acceptance_rate > 0.2 and space.acceptance_rate > 5 * uniform


def _spatial(m: Mapping, kind: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for l in m.loops:
        if l.kind == kind:
            out[l.dim] = out.get(l.dim, 1) * l.factor
    return out


def _product(loops, dim: str) -> int:
    return math.prod(l.factor for l in loops if l.dim == dim)


@pytest.mark.parametrize("wl", [R50, DQN1], ids=lambda w: w.name)
def test_row_stationary_obeys_every_rule(wl):
    space = _space(wl, EYERISS, "row_stationary")
    for m in space.decode_batch(space.sample(300, np.random.default_rng(2))).to_mappings():
        rows, cols = _spatial(m, "spatial_rows"), _spatial(m, "spatial_cols")
        # PE rows take all of S plus any of C and K; PE columns take Q and K.
        assert set(rows) <= {"S", "C", "K"} and rows.get("S", 1) == wl.S
        assert set(cols) <= {"Q", "K"}
        sp = [i for i, l in enumerate(m.loops) if l.spatial]
        first_sp, below_sp = sp[0], sp[-1] + 1
        # Input RF takes nothing: inputs and weights are cut together at the top of the RF loops.
        ci, cw, co = (m.cut("RF", op) for op in "IWO")
        assert ci == cw == below_sp and co is not None and co >= cw
        # Weight RF: all of R plus C; psum RF: K only.
        weight_rf, psum_rf = m.loops[cw:co], m.loops[co:]
        assert {l.dim for l in weight_rf} <= {"C", "R"} and _product(weight_rf, "R") == wl.R
        assert {l.dim for l in psum_rf} <= {"K"}
        # Global buffer: all of P (and no Q, R, S), holds I and O at one cut; weights bypass it.
        assert m.cut("GB", "W") is None and m.cut("GB", "I") == m.cut("GB", "O")
        gb = m.loops[m.cut("GB", "I") : first_sp]
        assert not {l.dim for l in gb} & {"Q", "R", "S"} and _product(gb, "P") == wl.P
        assert _product(m.loops, "P") == wl.P  # P nowhere else


def test_vta_gemm_is_spatial_over_n_c_k_only():
    for wl in (R50, FFN):
        space = _space(wl, VTA, "vta_gemm")
        for m in space.decode_batch(space.sample(300, np.random.default_rng(3))).to_mappings():
            assert {l.dim for l in m.loops if l.spatial} <= {"N", "C", "K"}
            assert all(m.cut("RF", op) is None for op in "IWO")  # VTA has no register files
    free = _space(R50, VTA, None)
    dims = {l.dim for m in free.decode_batch(free.sample(300, np.random.default_rng(3))).to_mappings()
            for l in m.loops if l.spatial}
    assert dims - {"N", "C", "K"}  # the restriction is the dataflow's, not the hardware's


@pytest.mark.parametrize("case", CASES[:3], ids=_ids)
def test_decode_batch_equals_per_genome_decode(case):
    space = _space(*case)
    rng = np.random.default_rng(4)
    genomes = np.concatenate([space.sample(50, rng), space.uniform(50, rng)])
    batch = space.decode_batch(genomes)
    assert batch.to_mappings() == [space.decode(g) for g in genomes]
    # Dropping factor-1 loops changes nothing the cost model sees.
    full = evaluate(case[0], case[1], space.decode_batch(genomes, compact=False))
    comp = evaluate(case[0], case[1], batch)
    assert (full.valid == comp.valid).all() and np.allclose(full.energy_pj, comp.energy_pj)
    assert np.allclose(full.cycles, comp.cycles)


@pytest.mark.parametrize("case", CASES[:4], ids=_ids)
def test_canonical_genomes_decode_to_the_same_mapping(case):
    space = _space(*case)
    rng = np.random.default_rng(13)
    g = space.uniform(3000, rng)
    c = space.canonical(g)
    assert space.contains(c).all() and (space.canonical(c) == c).all()
    assert space.decode_batch(c).to_mappings() == space.decode_batch(g).to_mappings()
    # Samples are canonical, so distinct genomes are distinct mappings.
    s = space.sample(2000, rng)
    assert (space.canonical(s) == s).all()
    distinct = {m.to_json_text() for m in space.decode_batch(s).to_mappings()}
    assert len(distinct) == len(np.unique(s, axis=0))


def test_encode_shape_and_range():
    space = _space(R50, EYERISS, None)
    g = space.sample(64, np.random.default_rng(5))
    x = space.encode(g)
    assert x.shape == (64, 8 * space.D + 18) == (64, len(space.feature_names))
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1
    assert len(np.unique(x, axis=0)) == len(np.unique(g, axis=0))


@pytest.mark.parametrize("case", CASES[:4], ids=_ids)
def test_neighbors_are_valid_small_moves(case):
    space = _space(*case)
    rng = np.random.default_rng(6)
    g = space.sample(300, rng)
    nb = space.neighbors(g, rng)
    assert nb.shape == g.shape and space.valid(nb).all()
    diff = nb != g
    # One move changes one gene (a factor tuple, an order, a cut, a buffering bit), plus the orders and cuts it
    # leaves non-canonical (a factor that becomes 1 moves its loop among the factor-1 ones); few rows resample.
    D = space.D
    small = (diff[:, :D].sum(axis=1) <= 1) & (diff[:, space.g_dbuf :].sum(axis=1) <= 1)
    assert diff.any(axis=1).all() and small.mean() > 0.9
    assert (space.canonical(nb) == nb).all()


def test_factor_table_is_every_tuple_with_product_at_most_the_bound_plus_closing_tuples():
    for bound in (2, 6, 7, 12, 64):
        t = _temporal_candidates(bound)
        cands = [t, np.arange(1, min(bound, 3) + 1), np.arange(1, min(bound, 4) + 1), t]
        table = _FactorTable(bound, cands)
        brute = {c for c in itertools.product(*cands) if math.prod(c) <= bound}
        # Closing: one slot takes ceil(bound / what the slots inside it hold), the slots outside it are 1.
        for c in itertools.product(*cands):
            for s in range(4):
                inner = math.prod(c[s + 1 :])
                if inner < bound and all(x == 1 for x in c[:s]) and bound % inner and c[s] == -(-bound // inner):
                    brute.add(c)
        assert table.size == len(brute) and set(map(tuple, table.f.T.tolist())) == brute
        assert (table.outer == -(-bound // table.f.prod(axis=0))).all()
    assert set(_temporal_candidates(56)) >= {1, 2, 4, 7, 8, 14, 28, 56, 3, 19}  # divisors and ceil splits


def test_size_equals_brute_force_count():
    """Count every genome of the bounding box that the space contains (a restricted space, so some are not)."""
    space = _space(TINY, VTA, "vta_gemm", double_buffering=False)
    box = space.domain
    count = 0
    total = int(np.prod(box))
    for lo in range(0, total, 1 << 16):
        flat = np.arange(lo, min(total, lo + (1 << 16)))
        genomes = np.stack(np.unravel_index(flat, box), axis=1).astype(np.int64)
        count += int(space.contains(genomes).sum())
    assert count == space.size() < total
    free = _space(R50, EYERISS, None)
    # Cut genes take 0..6 or bypass (8 values); W has no GB buffer on Eyeriss (1 value).
    expect = math.prod(t.size for t in free.tables) * math.factorial(6) ** 3 * 8**5 * 2 * 2
    assert free.size() == expect


def test_enumerate_lists_every_genome_once():
    space = _space(TINY, VTA, "vta_gemm", double_buffering=False)
    chunks = list(space.enumerate(limit=10**6, chunk=1000))
    allg = np.concatenate(chunks)
    assert len(allg) == space.size() and len(np.unique(allg, axis=0)) == len(allg)
    assert space.contains(allg).all() and space.valid(allg).any()
    canon = np.concatenate(list(space.enumerate(limit=10**6, canonical_only=True)))
    assert 0 < len(canon) < len(allg) and (space.canonical(allg) == allg).all(axis=1).sum() == len(canon)
    # Each mapping has exactly one canonical genome.
    distinct = {m.to_json_text() for m in space.decode_batch(canon).to_mappings()}
    assert len(distinct) == len(canon)
    assert distinct == {m.to_json_text() for m in space.decode_batch(allg).to_mappings()}
    with pytest.raises(CodesignError, match="enumeration limit"):
        _space(R50, EYERISS, None).enumerate(limit=10**6)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_genome_of_inverts_decode(case):
    space = _space(*case)
    rng = np.random.default_rng(7)
    for g in np.concatenate([space.sample(40, rng), space.uniform(40, rng)]):
        m = space.decode(g)
        g2 = space.genome_of(m)
        assert space.decode(g2) == m and space.contains(g2[None])[0]


def test_genome_of_a_hand_written_row_stationary_mapping():
    """Written in Timeloop's even form (with factor-1 loops and cols before rows): the genome is in the
    row-stationary space, embeds in the free space, and costs the same."""
    m = Mapping.from_levels(
        dram=[("K", 4), ("C", 8), ("Q", 4)],
        gb=[("N", 1), ("C", 2), ("P", 56)],
        spatial=[("Q", 14, "cols"), ("S", 3, "rows"), ("C", 4, "rows")],
        rf=[("C", 1), ("R", 3), ("K", 16)],
        bypass={"GB": ["W"]},
    )
    # Outputs are cut above the K loop (psum RF), inputs and weights above R and C.
    loops, pl = m.loops, m.to_json()["placement"]
    pl["RF"]["O"] = len(loops) - 1
    m = Mapping(loops, pl)
    rs = _space(R50, EYERISS, "row_stationary")
    g = rs.genome_of(m)
    assert rs.contains(g[None])[0] and _space(R50, EYERISS, None).contains(g[None])[0]
    a, b = evaluate(R50, EYERISS, [m]), evaluate(R50, EYERISS, [rs.decode(g)])
    assert a.valid[0] and b.valid[0] and a.edp[0] == pytest.approx(b.edp[0])
    with pytest.raises(CodesignError):
        rs.genome_of(Mapping.from_levels(dram=[("K", 64), ("C", 64), ("P", 56), ("Q", 56), ("R", 3), ("S", 3)]))


def _spills(m: Mapping) -> bool:
    return any(spills_partial_sums(m, m.cut(lv, "O")) for lv in ("GB", "RF") if m.cut(lv, "O") is not None)


def test_schedulable_only_keeps_exactly_what_the_schedule_takes_spills_included():
    """``schedulable_only`` is the schedulability rule, nothing more: validity equals "the cost model accepts it and
    ``unschedulable_reason`` (one mapping at a time) says nothing", and the sampler draws the single-loop spills the
    schedule rfactors."""
    rng = np.random.default_rng(8)
    for df in (None, "row_stationary"):
        sched = _space(R50, EYERISS, df, schedulable_only=True)
        free = _space(R50, EYERISS, df)
        G = np.concatenate([free.uniform(300, rng), free.sample(300, rng)])
        mappings = free.decode_batch(G).to_mappings()
        want = [v and unschedulable_reason(R50, m) is None for v, m in zip(free.valid(G), mappings)]
        assert sched.valid(G).tolist() == want and any(want) and not all(want)
        assert any(_spills(m) and unschedulable_reason(R50, m) is not None for m in mappings)  # some are refused
        drawn = sched.decode_batch(sched.sample(300, rng)).to_mappings()
        assert all(unschedulable_reason(R50, m) is None for m in drawn) and sched.acceptance_rate > 0.05
        assert sum(_spills(m) for m in drawn) >= 5, "the schedulable space must include the spills rfactor takes"
        moved = sched.neighbors(sched.sample(100, rng), rng)
        assert all(unschedulable_reason(R50, sched.decode(g)) is None for g in moved)


@pytest.mark.parametrize(
    "wl",
    [
        Workload("gc", "group_conv2d", G=4, K=2, C=2, P=6, Q=6, R=3, S=3),
        Workload("dw", "depthwise_conv2d", G=8, P=6, Q=6, R=3, S=3),
        Workload("mm3d", "dense", N=496, K=32, C=32, tir_loops=(("N", (16, 31)),)),
        Workload("bmm4d", "batch_matmul", G=6, N=31, K=31, C=32, tir_loops=(("G", (2, 3)),)),
    ],
    ids=lambda w: w.name,
)
def test_schedulable_batch_verdict_equals_the_one_mapping_verdict(wl):
    """The space's vectorised verdict on a mixed batch equals the rule asked about each mapping alone, on the
    layer kinds with extra rules (strided group tiles, tiles straddling fused TIR loops)."""
    rng = np.random.default_rng(12)
    for hw in (EYERISS, VTA):
        space = _space(wl, hw, None)
        batch = space.decode_batch(np.concatenate([space.uniform(300, rng), space.sample(300, rng)]))
        want = [unschedulable_reason(wl, m) is None for m in batch.to_mappings()]
        assert space.schedulable(batch).tolist() == want and any(want) and not all(want)
        sched = _space(wl, hw, None, schedulable_only=True)
        assert all(unschedulable_reason(wl, sched.decode(g)) is None for g in sched.sample(100, rng))


def test_objective_scores_log_edp_and_flags_infeasible():
    space = _space(DQN1, EYERISS, None)
    rng = np.random.default_rng(9)
    g = np.concatenate([space.sample(20, rng), space.uniform(200, rng)])
    g[-1, 0] = -3  # outside the space
    out = MappingObjective(DQN1, EYERISS, space=space)(g)
    res = evaluate(DQN1, EYERISS, space.decode_batch(np.where(space.contains(g)[:, None], g, space.allowed_min)))
    ok = res.valid & space.contains(g)
    assert (out.feasible == ok).all() and not out.feasible[-1] and out.feasible[:20].all()
    assert np.allclose(out.value[ok], np.log(res.edp[ok])) and np.isinf(out.value[~ok]).all()
    assert out.objectives.shape == (len(g), 2) and np.allclose(out.objectives[ok, 0], res.energy_pj[ok])
    # Any space's genomes decode the same: the default (free) objective scores row-stationary genomes alike.
    rs = _space(DQN1, EYERISS, "row_stationary")
    h = rs.sample(20, rng)
    assert np.allclose(MappingObjective(DQN1, EYERISS)(h).value, MappingObjective(DQN1, EYERISS, space=rs)(h).value)


def test_row_stationary_subspace_embeds_in_the_free_space():
    rs, free = _space(R50, EYERISS, "row_stationary"), _space(R50, EYERISS, None)
    g = rs.sample(200, np.random.default_rng(10))
    assert free.contains(g).all() and free.valid(g).all()
    assert rs.size() < free.size()
    assert all((np.isin(a, b)).all() for a, b in zip(rs.allowed, free.allowed))


def test_bad_requests_raise_one_line_errors():
    with pytest.raises(CodesignError, match="unknown dataflow"):
        MappingSpace(R50, EYERISS, dataflow="weight_stationary")
    with pytest.raises(CodesignError, match="all of S=13"):
        MappingSpace(Workload("s13", "conv2d", K=4, S=13), EYERISS, dataflow="row_stationary")
    with pytest.raises(CodesignError, match="double_buffering"):
        MappingSpace(R50, EYERISS, double_buffering="maybe")


def test_workload_with_no_loops_has_one_mapping_family():
    one = Workload("one", "dense")
    space = MappingSpace(one, EYERISS)
    g = space.sample(10, np.random.default_rng(11))
    assert len(g) == 10 and evaluate(one, EYERISS, space.decode_batch(g)).valid.all()
    assert DIMS[space.active[0]] == "N"
