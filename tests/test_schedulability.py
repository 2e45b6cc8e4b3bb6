"""The schedulability rule against a scalar reference written from its definition, and the aligned-tile test
against brute force.

:func:`tvm_codesign.model.schedulability.check` is vectorised over a batch; ``_reference`` below restates the rule for
one mapping with plain Python loops over the nest (the attach point, the reduction loops above it, the tiles'
extents), and decides whether a tile of a fused dim is a box by enumerating its indices. The two must agree on
every mapping, whatever the batch mixes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tvm_codesign.model.presets import preset
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.spaces.mapping import MappingSpace
from tvm_codesign.model.schedulability import Reason, aligned_tile, check
from tvm_codesign.model.workload import OPERAND_DIMS, REDUCTION_DIMS, Workload


def _is_box(start: int, stop: int, loops: tuple[int, ...]) -> bool:
    """Whether the fused indices ``[start, stop)`` are a box of the TIR loops ``loops`` (outer to inner)."""
    idx = np.unravel_index(np.arange(start, stop), loops)
    return math.prod(int(a.max() - a.min() + 1) for a in idx) == stop - start


def _tiles_are_boxes(t: int, loops: tuple[int, ...]) -> bool:
    total = math.prod(loops)
    return all(_is_box(s, min(s + t, total), loops) for s in range(0, total, t))


def _reference(w: Workload, m: Mapping) -> Reason:
    loops = m.loops

    def attach(op: str, cut: int) -> int:
        return max((i for i in range(cut) if loops[i].dim in OPERAND_DIMS[op] and loops[i].factor > 1
                    and not loops[i].spatial), default=-1)

    def reductions_above(a: int) -> list[int]:
        return [i for i in range(max(a, 0)) if loops[i].dim in REDUCTION_DIMS and loops[i].factor > 1]

    cut = {(lv, op): m.cut(lv, op) for lv in ("GB", "RF") for op in "IWO"}
    spill = {lv: reductions_above(attach("O", cut[lv, "O"])) if cut[lv, "O"] is not None else [] for lv in ("GB", "RF")}
    if spill["GB"] and cut["RF", "O"] is not None:
        return Reason.SPILL_AT_GB_AND_RF
    level = "GB" if spill["GB"] else "RF"
    if spill[level] and len(spill[level]) > 1:
        return Reason.SPILL_OVER_SEVERAL_LOOPS
    if spill[level] and loops[spill[level][0]].spatial:
        return Reason.SPILL_ACROSS_SPATIAL_REDUCTION
    grouped = w.G > 1 and w.op in ("group_conv2d", "depthwise_conv2d")
    pairs = (("O", "K"), ("W", "K"), ("I", "C"))
    if grouped:
        for op, inner in pairs:
            for lv in ("GB", "RF"):
                if cut[lv, op] is None:
                    continue
                a = attach(op, cut[lv, op])
                if any(l.dim == "G" and l.factor > 1 for l in loops[a + 1 :]) and any(
                    l.dim == inner and l.factor > 1 for l in loops[: a + 1]
                ):
                    return Reason.STRIDED_GROUP_TILE
        for op, inner in pairs:
            held = any(cut[lv, op] is not None for lv in ("GB", "RF"))
            if held and math.prod(l.factor for l in loops if l.dim == inner) > getattr(w, inner):
                return Reason.PADDED_GROUP_CHANNELS
    for dim, tir in w.tir_loops:
        for op in "IWO":
            if dim not in OPERAND_DIMS[op]:
                continue
            for lv in ("GB", "RF"):
                if cut[lv, op] is None:
                    continue
                a = attach(op, cut[lv, op])
                t = math.prod(l.factor for l in loops[a + 1 :] if l.dim == dim)
                whole = t >= math.prod(tir)
                if not (whole if len(tir) > 2 else whole or _tiles_are_boxes(t, tir)):
                    return Reason.STRADDLES_TIR_LOOPS
    return Reason.SCHEDULABLE


@settings(max_examples=300, deadline=None, derandomize=True)
@given(loops=st.lists(st.integers(2, 7), min_size=2, max_size=2), t=st.integers(1, 60))
def test_aligned_tile_is_every_tile_a_box_over_two_loops(loops, t):
    loops = tuple(loops)
    assert bool(aligned_tile(np.array([t]), loops)[0]) == (t >= math.prod(loops) or _tiles_are_boxes(t, loops))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(loops=st.lists(st.integers(2, 5), min_size=3, max_size=3), t=st.integers(1, 130))
def test_aligned_tile_over_three_loops_is_the_whole_dim_only(loops, t):
    assert bool(aligned_tile(np.array([t]), tuple(loops))[0]) == (t >= math.prod(loops))


LAYERS = [
    Workload("conv", "conv2d", K=8, C=6, P=5, Q=5, R=3, S=3),
    Workload("dense", "dense", N=12, K=10, C=9),
    Workload("grouped", "group_conv2d", G=3, K=3, C=2, P=4, Q=4, R=3, S=3),
    Workload("depthwise", "depthwise_conv2d", G=6, K=2, P=5, Q=5, R=3, S=3),
    Workload("linear3d", "dense", N=62, K=6, C=5, tir_loops=(("N", (2, 31)),)),
    Workload("linear4d", "dense", N=24, K=5, C=4, tir_loops=(("N", (2, 3, 4)),)),
    Workload("heads", "batch_matmul", G=6, N=5, K=5, C=4, tir_loops=(("G", (2, 3)),)),
]


@pytest.mark.parametrize("w", LAYERS, ids=lambda w: w.name)
@pytest.mark.parametrize("hw_name", ["eyeriss", "vta"])
def test_vectorised_rule_equals_the_scalar_reference(w, hw_name):
    """Uniform genomes (every corner of the space) and sampled ones (the valid, mostly schedulable part) of layer
    kinds with every rule in play; each reason (0 to 6) must come out of both alike."""
    space = MappingSpace(w, preset(hw_name))
    rng = np.random.default_rng(len(w.name) + len(hw_name))
    batch = space.decode_batch(np.concatenate([space.uniform(600, rng), space.sample(200, rng)]))
    got = check(w, batch).reason.tolist()
    want = [int(_reference(w, m)) for m in batch.to_mappings()]
    assert got == want
    assert len(set(want)) > 1


def test_empty_batches():
    w = LAYERS[0]
    assert check(w, MappingBatch.from_mappings([])).reason.shape == (0,)
    one = Mapping([], {})
    v = check(Workload("unit", "dense"), MappingBatch.from_mappings([one]))
    assert v.reason.tolist() == [0] and v.spill_level.tolist() == [-1]
