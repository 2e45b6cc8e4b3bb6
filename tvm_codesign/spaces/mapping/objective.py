"""MappingObjective: scores genomes of a mapping space with the cost model (log EDP, feasibility, energy and cycles).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.workload import Workload
from tvm_codesign.spaces.mapping.space import MappingSpace
from tvm_codesign.spaces.mapping.validity import judge

if TYPE_CHECKING:  # pragma: no cover
    from tvm_codesign.search.base import Outcome


class MappingObjective:
    """Scores genomes of a :class:`MappingSpace`: value = log(EDP), feasible = valid, objectives = (energy_pj,
    cycles). Vectorised: one decode and one cost-model call per batch.

    Parameters
    ----------
    workload, hw
        The layer and the accelerator.
    space
        The space whose genomes are scored; defaults to the free space (decoding does not depend on a dataflow).
    schedulable_only
        Also count mappings TVM cannot schedule yet as infeasible (default: the space's setting).
    """

    def __init__(
        self,
        workload: Workload,
        hw: HardwareConfig,
        space: MappingSpace | None = None,
        schedulable_only: bool | None = None,
    ) -> None:
        if space is not None and (space.workload != workload or space.hw != hw):
            # The objective scores through its space (the space's cache and codec): another layer or hardware would
            # be scored silently as the space's.
            raise CodesignError(
                f"MappingObjective of {workload.name} on {hw.name} given the space of {space.workload.name} on "
                f"{space.hw.name}; build the objective with its own space"
            )
        self.space = space if space is not None else MappingSpace(workload, hw, schedulable_only=bool(schedulable_only))
        self.workload, self.hw = workload, hw
        self.schedulable_only = self.space.schedulable_only if schedulable_only is None else schedulable_only
        self.evaluations = 0

    def __call__(self, genomes: np.ndarray) -> "Outcome":
        # Imported here: the search package pulls in scikit-learn, skopt and xgboost (~1.7 s), which a worker that
        # only samples or decodes mappings does not need.
        from tvm_codesign.search.base import Outcome

        G = np.asarray(genomes, np.int64).reshape(-1, self.space.genome_size)
        # What the space handed out was judged (valid, and schedulable where it keeps to that) when it was found:
        # only the rest is scored here, so each genome meets the cost model once.
        if self.schedulable_only == self.space.schedulable_only:
            ok, energy, cycles = self.space.scores.get(G)
        else:
            ok, energy, cycles = np.zeros(len(G), bool), np.full(len(G), np.nan), np.full(len(G), np.nan)
        rest = np.flatnonzero(~ok)
        if len(rest):
            v = judge(self.space.codec, self.space.genes, G[rest], self.schedulable_only)
            ok[rest], energy[rest], cycles[rest] = v.ok, v.energy_pj, v.cycles
        self.evaluations += len(G)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.log(np.where(ok, energy * cycles, np.inf))
        return Outcome(value=value, feasible=ok, objectives=np.stack([energy, cycles], axis=1))


__all__ = ["MappingObjective"]
