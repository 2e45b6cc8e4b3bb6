"""The meta_schedule route: TVM's evolutionary search over the mapping genome, measured by the cost model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tvm_codesign.cost.model import evaluate
from tvm_codesign.model.presets import preset
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.compiler.ms_tuning import GENOME_ANNOTATION, make_design_space_fn, read_genome, tune_mapping
from tvm_codesign.compiler.schedule import schedulable_module
from tvm_codesign.search.base import Outcome

from .test_schedule import _layer

K_INNER = [1, 2, 4, 8]
C_INNER = [1, 2, 4, 8, 16]


class TinyConvSpace:
    """Three genes over a 1×1 conv (K=8, C=16, P=Q=7): K's and C's inner factor and which of them is outer."""

    genome_size = 3

    def gene_bounds(self):
        return np.array([0, 0, 0]), np.array([len(K_INNER) - 1, len(C_INNER) - 1, 1])

    def encode(self, genomes):
        return np.asarray(genomes, dtype=float)

    def decode(self, genome) -> Mapping:
        k, c, order = K_INNER[int(genome[0])], C_INNER[int(genome[1])], int(genome[2])
        outer = [("K", 8 // k), ("C", 16 // c)] if order == 0 else [("C", 16 // c), ("K", 8 // k)]
        return Mapping(
            loops=[*outer, ("P", 7), ("Q", 7), ("K", k), ("C", c)],
            placement={"GB": {"I": 0, "W": None, "O": 0}, "RF": {"I": None, "W": 4, "O": None}},
        )


@pytest.fixture(scope="module")
def conv1x1():
    return _layer("conv1x1")


def _objective(w, hw, space):
    def objective(genomes):
        cost = evaluate(w, hw, [space.decode(g) for g in genomes])
        return Outcome(np.log(cost.edp), cost.valid)

    return objective


def test_design_space_trace_carries_the_genome(conv1x1):
    from tvm import s_tir

    w, func, block = conv1x1
    space = TinyConvSpace()
    sch = s_tir.Schedule(schedulable_module(func), seed=3)
    make_design_space_fn(space, block)(sch)
    genome = read_genome(sch.mod)
    low, high = space.gene_bounds()
    assert genome.shape == (3,) and np.all(genome >= low) and np.all(genome <= high)
    # Replaying the trace with other decisions gives another genome: the decisions, not constants, are annotated.
    insts = [i for i in sch.trace.insts if i.kind.name == "SampleCategorical"]
    assert len(insts) == 3
    trace = sch.trace.with_decision(insts[0], (int(genome[0]) + 1) % len(K_INNER), remove_postproc=True)
    replay = s_tir.Schedule(schedulable_module(func))
    trace.apply_to_schedule(replay, remove_postproc=True)
    assert read_genome(replay.mod)[0] == (genome[0] + 1) % len(K_INNER)
    assert f"{GENOME_ANNOTATION}.0" in str(replay.mod)


@pytest.mark.slow  # 45 s: a whole meta_schedule tuning run (CI runs it with the slow tests)
def test_meta_schedule_route_end_to_end_stays_in_its_work_folder(conv1x1, tmp_path):
    w, func, block = conv1x1
    hw = preset("eyeriss")
    space = TinyConvSpace()
    objective = _objective(w, hw, space)
    # Sentinels beside and above the work folder: RemoveBuildArtifact would delete an artifact's folder.
    (tmp_path / "sentinel.txt").write_text("keep")
    (tmp_path / "sibling").mkdir()
    (tmp_path / "sibling" / "keep.txt").write_text("keep")
    work = tmp_path / "work"
    result = tune_mapping(func, w, space, objective, work, max_trials=16, num_trials_per_iter=8, seed=1)
    assert (tmp_path / "sentinel.txt").read_text() == "keep"
    assert (tmp_path / "sibling" / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sentinel.txt", "sibling", "work"]
    assert result.trials >= 8
    # The best genome it reports is scored as the cost model scores it, and it is near the true optimum
    # of this 40-point space (found by enumeration).
    assert result.value == pytest.approx(objective(result.genome[None, :]).value[0])
    best = min(objective(np.array([g])).value[0] for g in itertools.product(range(4), range(5), range(2)))
    assert result.value <= best * 1.05


def test_design_space_over_the_real_mapping_space(conv1x1):
    from tvm import s_tir

    from tvm_codesign.spaces.mapping import MappingObjective, MappingSpace

    w, func, block = conv1x1
    space = MappingSpace(w, preset("eyeriss"))
    sch = s_tir.Schedule(schedulable_module(func), seed=5)
    make_design_space_fn(space, block)(sch)
    genome = read_genome(sch.mod)
    low, high = space.gene_bounds()
    assert genome.shape == (space.genome_size,) and np.all((genome >= low) & (genome <= high))
    space.decode(genome)  # a structurally valid mapping (the cost model may still reject it)
    outcome = MappingObjective(w, preset("eyeriss"))(genome[None, :])
    assert outcome.value.shape == (1,)
