"""Which genomes a mapping space keeps: inside the allowed sets, valid for the cost model and, if asked, schedulable.

Schedulability is the one rule of :mod:`tvm_codesign.model.schedulability` (what
:func:`tvm_codesign.compiler.schedule.apply_mapping` schedules), judged on the decoded batch.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.cost.model import evaluate
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.schedulability import check
from tvm_codesign.model.workload import Workload
from tvm_codesign.spaces.mapping.genome import AllowedGenes, GenomeCodec


def schedulable(workload: Workload, batch: MappingBatch) -> np.ndarray:
    """``(n,)`` bool: the rows of ``batch`` the TVM schedule takes."""
    return check(workload, batch).schedulable


def valid(codec: GenomeCodec, genes: AllowedGenes, genomes: np.ndarray, schedulable_only: bool) -> np.ndarray:
    """``(n,)`` bool: in ``genes``, valid for the cost model and, with ``schedulable_only``, schedulable."""
    G = np.asarray(genomes, np.int64).reshape(-1, codec.genome_size)
    ok = genes.contains(G)
    if not ok.any():
        return ok
    # Rows outside the allowed sets are decoded as a stand-in (they may index past a table) and stay invalid.
    mb = codec.decode_batch(np.where(ok[:, None], G, genes.minimum[None, :]))
    ok &= evaluate(codec.workload, codec.hw, mb).valid
    if schedulable_only:
        ok &= schedulable(codec.workload, mb)
    return ok


__all__ = ["schedulable", "valid"]
