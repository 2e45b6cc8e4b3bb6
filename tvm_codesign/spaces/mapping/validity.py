"""Which genomes a mapping space keeps: inside the allowed sets, valid for the cost model and, if asked, schedulable.

Schedulability is the one rule of :mod:`tvm_codesign.model.schedulability` (what
:func:`tvm_codesign.compiler.schedule.apply_mapping` schedules), judged on the decoded batch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tvm_codesign.cost.model import evaluate
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.schedulability import check
from tvm_codesign.model.workload import Workload
from tvm_codesign.spaces.mapping.genome import AllowedGenes, GenomeCodec


def schedulable(workload: Workload, batch: MappingBatch) -> np.ndarray:
    """``(n,)`` bool: the rows of ``batch`` the TVM schedule takes."""
    return check(workload, batch).schedulable


@dataclasses.dataclass(frozen=True)
class Judgement:
    """What one cost-model call says of a batch of genomes: validity, why not, and the cost.

    Attributes
    ----------
    ok
        ``(n,)`` bool: in the allowed sets, valid for the cost model and, if asked, schedulable.
    reason
        ``(n,)`` the cost model's reason code (:func:`tvm_codesign.cost.model.reason_text`; 0 for rows outside the
        allowed sets or unschedulable ones too: read ``ok`` first).
    energy_pj, cycles
        ``(n,)`` the cost of each row (meaningful where ``ok``).
    """

    ok: np.ndarray
    reason: np.ndarray
    energy_pj: np.ndarray
    cycles: np.ndarray


def judge(codec: GenomeCodec, genes: AllowedGenes, genomes: np.ndarray, schedulable_only: bool) -> Judgement:
    """Validity and cost of each genome from one decode and one cost-model call (what sampling and scoring share,
    so that a sampled genome is scored once)."""
    G = np.asarray(genomes, np.int64).reshape(-1, codec.genome_size)
    ok = genes.contains(G)
    n = len(G)
    if not ok.any():
        return Judgement(ok, np.zeros(n, np.int16), np.full(n, np.inf), np.full(n, np.inf))
    # Rows outside the allowed sets are decoded as a stand-in (they may index past a table) and stay invalid.
    mb = codec.decode_batch(G if ok.all() else np.where(ok[:, None], G, genes.minimum[None, :]))
    res = evaluate(codec.workload, codec.hw, mb, energy=codec.energy)
    inside = ok.copy()
    ok &= res.valid
    if schedulable_only and ok.any():
        ok &= schedulable(codec.workload, mb)
    return Judgement(ok, np.where(inside, res.reason, 0).astype(res.reason.dtype), res.energy_pj, res.cycles)


def valid(codec: GenomeCodec, genes: AllowedGenes, genomes: np.ndarray, schedulable_only: bool) -> np.ndarray:
    """``(n,)`` bool: in ``genes``, valid for the cost model and, with ``schedulable_only``, schedulable."""
    return judge(codec, genes, genomes, schedulable_only).ok


__all__ = ["Judgement", "judge", "schedulable", "valid"]
