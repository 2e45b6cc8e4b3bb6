"""The mapping space as a meta_schedule design space, searched by TVM's own evolutionary search.

The design space is a :class:`~tvm.s_tir.meta_schedule.space_generator.ScheduleFn` over the same genome as
:class:`tvm_codesign.spaces.mapping.space.MappingSpace`: one ``sample_categorical`` per gene, and the decisions are
annotated on the MAC block as a list of random variables, so that every replay of the trace with new decisions
carries its own genome. A trace replays *instructions*, not the Python that made them, so schedule primitives
whose arguments depend on a decision (a loop order, a cache placement) cannot follow mutated decisions; the design
space therefore holds the decisions only, and the chosen genome is turned into its schedule afterwards by the
template itself (:func:`tvm_codesign.compiler.schedule.apply_mapping`), which is what the database records.

Measuring is simulated with the analytical cost model: :class:`SimulatedBuilder` reads the genome back from the
scheduled module (a block annotation), evaluates it and writes the cost into an artifact file in a folder of its
own under the work folder; :class:`SimulatedRunner` reads it back as the "run time". TVM's default measure
callback ``RemoveBuildArtifact`` deletes the *folder* of each artifact, so every artifact gets its own
``tempfile.mkdtemp()`` inside the work folder and that callback is not used at all.

The stock mutators never change ``sample_categorical`` decisions, so :class:`GenomeMutator` does: it moves one
gene to a neighbouring value or to a random one within its bounds. TVM's XGBoost model featurises the TIR, which
is the same for every candidate here, so :class:`GenomeCostModel` ranks candidates with an XGBoost regressor on
the space's own encoding of the genome (AutoTVM's idea, on the knobs instead of the loop nest).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import tvm
import tvm_ffi
from tvm import s_tir
from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.builder import BuilderResult, PyBuilder
from tvm.s_tir.meta_schedule.cost_model import PyCostModel
from tvm.s_tir.meta_schedule.mutator import PyMutator
from tvm.s_tir.meta_schedule.runner import PyRunner, PyRunnerFuture, RunnerResult
from tvm.s_tir.schedule import Trace
from tvm.s_tir import meta_schedule as ms

from tvm_codesign.compiler.schedule import find_mac_block, schedulable_module
from tvm_codesign.search.base import space_bounds
from tvm_codesign.model.workload import Workload

#: Prefix of the block annotations carrying the genome, one per gene (``codesign.genome.0``, ...).
GENOME_ANNOTATION = "codesign.genome"

#: "Run time" reported for a mapping the cost model rejects: far worse than any valid one.
INVALID_SECONDS = 1e30


def make_design_space_fn(space: Any, block: str | None = None):
    """A ``ScheduleFn`` body: one ``sample_categorical`` per gene, annotated on the MAC block as the genome."""
    low, high = space_bounds(space, np.random.default_rng(0))

    def sch_fn(sch: Any) -> None:
        block_rv = sch.get_sblock(block or find_mac_block(sch.mod["main"]))
        for i, (lo, hi) in enumerate(zip(low.tolist(), high.tolist())):
            n = hi - lo + 1
            gene = int(lo) if n == 1 else sch.sample_categorical(list(range(lo, hi + 1)), [1.0 / n] * n)
            # One annotation per gene: a trace translates random variables in scalar arguments only.
            sch.annotate(block_rv, f"{GENOME_ANNOTATION}.{i}", gene)

    return sch_fn


def read_genome(mod: Any) -> np.ndarray | None:
    """The genome annotated on the MAC block of a candidate module (``None`` if there is none)."""

    found: list[np.ndarray] = []

    def visit(block: Any) -> None:
        genes = {}
        for key, value in block.annotations.items():
            if str(key).startswith(GENOME_ANNOTATION + "."):
                genes[int(str(key).rsplit(".", 1)[1])] = int(value)
        if genes:
            found.append(np.array([genes[i] for i in range(len(genes))], dtype=np.int64))

    for gv in mod.get_global_vars():
        func = mod[gv]
        if hasattr(func, "body"):
            tvm_ffi.structural_walk(func.body, (s_tir.SBlock, visit), order="pre")
    return found[0] if found else None


def _define_ms_classes():
    """The PyBuilder / PyRunner / PyMutator subclasses (defined lazily: they need TVM imported)."""

    @derived_object
    class SimulatedBuilder(PyBuilder):
        """Scores each candidate with the analytical cost model; writes the score as the build artifact."""

        def __init__(self, objective: Any, work_dir: str) -> None:
            super().__init__()
            self.objective = objective
            self.work_dir = work_dir

        def build(self, build_inputs: list) -> list:
            results = []
            for build_input in build_inputs:
                genome = read_genome(build_input.mod)
                if genome is None:
                    results.append(BuilderResult(None, "no codesign.genome annotation on the candidate"))
                    continue
                outcome = self.objective(genome[None, :])
                value = float(outcome.value[0])
                seconds = math.exp(value) * 1e-12 if math.isfinite(value) else INVALID_SECONDS
                # One folder per artifact: meta_schedule's RemoveBuildArtifact removes the artifact's folder.
                folder = tempfile.mkdtemp(prefix="artifact-", dir=self.work_dir)
                path = os.path.join(folder, "cost.json")
                with open(path, "w") as f:
                    json.dump({"seconds": seconds, "genome": genome.tolist()}, f)
                results.append(BuilderResult(path, None))
            return results

    @derived_object
    class SimulatedRunnerFuture(PyRunnerFuture):
        def __init__(self, seconds: float | None, error: str | None) -> None:
            super().__init__()
            self.seconds = seconds
            self.error = error

        def done(self) -> bool:
            return True

        def result(self) -> RunnerResult:
            if self.error is not None:
                return RunnerResult(None, self.error)
            return RunnerResult([self.seconds], None)

    @derived_object
    class SimulatedRunner(PyRunner):
        """Reads back the score the builder wrote, as the candidate's run time."""

        def run(self, runner_inputs: list) -> list:
            futures = []
            for runner_input in runner_inputs:
                try:
                    with open(runner_input.artifact_path) as f:
                        seconds = float(json.load(f)["seconds"])
                    futures.append(SimulatedRunnerFuture(seconds, None))
                except (OSError, ValueError, KeyError) as err:
                    futures.append(SimulatedRunnerFuture(None, f"cannot read simulated cost: {err}"))
            return futures

    @derived_object
    class GenomeMutator(PyMutator):
        """Changes one ``sample_categorical`` decision: to a neighbouring value or, with ``jump_prob``, anywhere."""

        def __init__(self, seed: int = 0, jump_prob: float = 0.3) -> None:
            super().__init__()
            self.rng = random.Random(seed)
            self.jump_prob = jump_prob

        def _initialize_with_tune_context(self, context: Any) -> None:
            pass

        def apply(self, trace: Trace, _: Any) -> Trace | None:
            choices = [
                inst for inst in trace.insts if inst.kind.name == "SampleCategorical" and len(inst.attrs[0]) > 1
            ]
            if not choices:
                return None
            inst = self.rng.choice(choices)
            n = len(inst.attrs[0])
            current = int(trace.decisions[inst])
            if self.rng.random() < self.jump_prob:
                new = self.rng.randrange(n - 1)
                new = new + 1 if new >= current else new
            else:
                new = min(max(current + self.rng.choice((-1, 1)), 0), n - 1)
                if new == current:
                    new = current - 1 if current > 0 else current + 1
            return trace.with_decision(inst, new, remove_postproc=True)

        def clone(self) -> "GenomeMutator":
            return GenomeMutator(self.rng.randrange(2**31), self.jump_prob)


    @derived_object
    class GenomeCostModel(PyCostModel):
        """XGBoost on ``space.encode(genome)``; predicts a score (higher is better) for meta_schedule."""

        def __init__(self, space: Any, seed: int = 0) -> None:
            super().__init__()
            self.space = space
            self.seed = seed
            self.X: list[np.ndarray] = []
            self.y: list[float] = []
            self.model: Any = None

        def load(self, path: str) -> None:
            pass

        def save(self, path: str) -> None:
            pass

        def _features(self, candidates: list) -> np.ndarray:
            genomes = [read_genome(c.sch.mod) for c in candidates]
            if not genomes:
                return np.zeros((0, 0))
            return self.space.encode(np.stack(genomes))

        def update(self, context: Any, candidates: list, results: list) -> None:
            import xgboost as xgb

            if not candidates:
                return
            feats = self._features(candidates)
            for f, r in zip(feats, results):
                secs = float(r.run_secs[0]) if r.run_secs else INVALID_SECONDS
                self.X.append(f)
                self.y.append(-math.log(max(secs, 1e-300)))  # higher is better
            if len(self.y) >= 8:
                self.model = xgb.XGBRegressor(n_estimators=60, max_depth=4, random_state=self.seed, n_jobs=1)
                self.model.fit(np.stack(self.X), np.array(self.y))

        def predict(self, context: Any, candidates: list) -> np.ndarray:
            if self.model is None or not candidates:
                return np.zeros(len(candidates))
            return self.model.predict(self._features(candidates)).astype("float64")

    return SimulatedBuilder, SimulatedRunner, GenomeMutator, GenomeCostModel


@dataclasses.dataclass
class MetaScheduleResult:
    """What a meta_schedule search over the mapping space found."""

    genome: np.ndarray | None
    value: float
    trials: int
    work_dir: Path


def tune_mapping(
    func: Any,
    workload: Workload,
    space: Any,
    objective: Any,
    work_dir: str | os.PathLike,
    max_trials: int = 64,
    num_trials_per_iter: int = 16,
    seed: int = 0,
    block: str | None = None,
) -> MetaScheduleResult:
    """Search the mapping space with meta_schedule's evolutionary search and XGBoost cost model.

    Parameters
    ----------
    func
        The PrimFunc holding the workload's MAC block.
    workload, space, objective
        The layer, its :class:`~tvm_codesign.spaces.mapping.space.MappingSpace` and the objective scoring genomes
        (e.g. ``MappingObjective``); the space must offer ``decode()`` and should offer ``gene_bounds()``.
    work_dir
        A folder of the run's own: the JSON database and every artifact folder live inside it, nothing else is
        touched.
    """

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    SimulatedBuilder, SimulatedRunner, GenomeMutator, GenomeCostModel = _define_ms_classes()
    mod = schedulable_module(func)  # a private copy: scheduling may mutate the nodes it works on
    space_gen = ms.space_generator.ScheduleFn(
        make_design_space_fn(space, block),
        sch_rules=[],
        postprocs=[],
        mutator_probs={GenomeMutator(seed): 1.0},
    )
    artifacts = tempfile.mkdtemp(prefix="artifacts-", dir=work)
    database = ms.tune_tir(
        mod,
        target=tvm.target.Target("llvm"),
        work_dir=str(work),
        max_trials_global=max_trials,
        num_trials_per_iter=num_trials_per_iter,
        builder=SimulatedBuilder(objective, artifacts),
        runner=SimulatedRunner(),
        cost_model=GenomeCostModel(space, seed),
        measure_callbacks=[ms.measure_callback.AddToDatabase(), ms.measure_callback.UpdateCostModel()],
        space=space_gen,
        strategy=ms.search_strategy.EvolutionarySearch(population_size=64, init_min_unmeasured=16),
        num_tuning_cores=1,
        seed=seed,
    )
    records = database.get_all_tuning_records()
    best_genome, best_value = None, math.inf
    for record in records:
        if not record.run_secs:
            continue
        seconds = float(record.run_secs[0])
        sch = tvm.s_tir.Schedule(mod)
        record.trace.apply_to_schedule(sch, remove_postproc=False)
        genome = read_genome(sch.mod)
        value = math.log(seconds / 1e-12) if seconds < INVALID_SECONDS else math.inf
        if genome is not None and value < best_value:
            best_genome, best_value = genome, value
    return MetaScheduleResult(best_genome, best_value, len(records), work)
