"""Each candidate meets the cost model once: the costs a space hands its objective from sampling and moves are the
cost model's own, told genomes are looked up by hash exactly as a Python set would, and repair mends overflows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tvm_codesign.cost.model import CAPACITY, evaluate
from tvm_codesign.model.presets import preset
from tvm_codesign.model.workload import Workload
from tvm_codesign.search.genome_set import GenomeSet, genome_hash
from tvm_codesign.spaces.mapping import MappingObjective, MappingSpace
from tvm_codesign.spaces.mapping.sampler import propose, repair
from tvm_codesign.spaces.mapping.validity import judge

LAYERS = [
    Workload("conv3x3", "conv2d", K=64, C=64, P=56, Q=56, R=3, S=3),
    Workload("odd_conv", "conv2d", N=3, K=13, C=7, P=11, Q=9, R=3, S=2, stride=(2, 1)),
    Workload("dense", "dense", N=5, C=77, K=33),
    Workload("dw", "depthwise_conv2d", G=20, P=14, Q=14, R=3, S=3),
]


def _fresh_cost(space: MappingSpace, genomes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    res = evaluate(space.workload, space.hw, space.decode_batch(genomes))
    ok = res.valid & (space.schedulable(space.decode_batch(genomes)) if space.schedulable_only else True)
    return ok, res.energy_pj, res.cycles


@pytest.mark.parametrize("hw_name", ["eyeriss", "vta"])
@pytest.mark.parametrize("wl", LAYERS, ids=lambda w: w.name)
@pytest.mark.parametrize("schedulable_only", [False, True])
def test_sampled_and_moved_costs_are_the_cost_models(hw_name, wl, schedulable_only):
    hw = preset(hw_name)
    space = MappingSpace(wl, hw, schedulable_only=schedulable_only)
    rng = np.random.default_rng(5)
    sampled = space.sample(300, rng)
    moved = space.mutate(sampled, np.full(len(sampled), 2), rng)
    near = space.neighbors(sampled[:50], rng)
    for genomes in (sampled, moved, near):
        assert len(genomes)
        ok, energy, cycles = _fresh_cost(space, genomes)
        assert ok.all()
        found, e, c = space.scores.get(genomes)
        assert found.all()
        np.testing.assert_array_equal(e, energy)
        np.testing.assert_array_equal(c, cycles)
    # The objective's outcome is the same with and without the space's cache.
    mixed = np.concatenate([sampled[:40], space.uniform(40, rng)])
    with_cache = MappingObjective(wl, hw, space=space)(mixed)
    space.scores.clear()
    without = MappingObjective(wl, hw, space=space)(mixed)
    np.testing.assert_array_equal(with_cache.value, without.value)
    np.testing.assert_array_equal(with_cache.feasible, without.feasible)
    np.testing.assert_array_equal(with_cache.objectives[with_cache.feasible], without.objectives[without.feasible])
    ok, energy, cycles = _fresh_cost(space, mixed)
    np.testing.assert_array_equal(without.feasible, ok & space.contains(mixed))
    np.testing.assert_array_equal(without.value[ok], np.log(energy * cycles)[ok])


#: Layers big enough that proposals overflow Eyeriss's global buffer.
BIG = [
    LAYERS[0],
    Workload("conv1x1", "conv2d", K=256, C=64, P=56, Q=56),
    Workload("ffn", "dense", N=128, C=768, K=3072),
    Workload("dw_big", "depthwise_conv2d", G=144, P=56, Q=56, R=3, S=3),
]


@pytest.mark.parametrize("wl", BIG, ids=lambda w: w.name)
def test_repair_mends_only_overflows_and_keeps_what_was_valid(wl):
    hw = preset("eyeriss")
    space = MappingSpace(wl, hw)
    rng = np.random.default_rng(1)
    G = propose(space.codec, space.genes, 2000, rng, False)
    before = judge(space.codec, space.genes, G, False)
    G2, after = repair(space.codec, space.genes, G, before, rng, False)
    np.testing.assert_array_equal(G2[before.ok], G[before.ok])  # valid proposals are left alone
    overflow = ~before.ok & (before.reason >= CAPACITY) & (before.reason < CAPACITY + 6)
    np.testing.assert_array_equal(G2[~overflow], G[~overflow])  # only overflowing tiles are mended
    assert after.ok.sum() >= before.ok.sum()
    assert overflow.any() and (after.ok & overflow).any(), "no overflow to mend, or none mended"
    ok, energy, cycles = _fresh_cost(space, G2)
    np.testing.assert_array_equal(after.ok, ok)
    np.testing.assert_array_equal(after.energy_pj[ok], energy[ok])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=6, max_size=6), min_size=0, max_size=60),
       st.lists(st.lists(st.integers(0, 40), min_size=6, max_size=6), min_size=0, max_size=60))
def test_genome_set_is_a_set(added, queried):
    s = GenomeSet()
    ref: set[tuple[int, ...]] = set()
    for chunk in (added[: len(added) // 2], added[len(added) // 2 :]):
        if chunk:
            s.add(np.array(chunk, np.int64))
        ref |= {tuple(r) for r in chunk}
    assert len(s) == len(ref)
    if queried:
        got = s.contains(np.array(queried, np.int64))
        assert got.tolist() == [tuple(q) in ref for q in queried]


def test_genome_hash_tells_rows_apart():
    rng = np.random.default_rng(0)
    G = np.unique(rng.integers(0, 100, (200_000, 12)), axis=0)
    assert len(np.unique(genome_hash(G))) == len(G)
    # Permuted genes are different genomes.
    assert genome_hash(np.array([[1, 2, 3]]))[0] != genome_hash(np.array([[3, 2, 1]]))[0]


def test_objective_refuses_another_layers_or_hardwares_space():
    from tvm_codesign.errors import CodesignError

    space = MappingSpace(LAYERS[0], preset("eyeriss"))
    with pytest.raises(CodesignError, match="build the objective with its own space"):
        MappingObjective(LAYERS[0], preset("vta"), space=space)
    with pytest.raises(CodesignError, match="build the objective with its own space"):
        MappingObjective(LAYERS[1], preset("eyeriss"), space=space)
