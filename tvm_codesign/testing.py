"""Helpers that only tests and benchmarks use: reference implementations and generators, kept out of the
production modules so those hold only what the co-design and the compiler run.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from tvm_codesign.cost.model import MappingCost
    from tvm_codesign.model.batch import MappingBatch
    from tvm_codesign.model.hardware import HardwareConfig
    from tvm_codesign.model.mapping import Mapping
    from tvm_codesign.model.workload import Workload


# The TVM side (TVM imported inside: importing this module stays cheap) --------------------------------------
def lowered_buffer_sizes(mod: Any) -> dict[str, int]:
    """Elements of every allocated buffer after the passes that size cache buffers to their tiles.

    Runs ``LowerInitBlock, PlanAndUpdateBufferAllocationLocation, ConvertBlocksToOpaque,
    CompactBufferAllocation`` (see the TVM 0.27 notes) and reads the allocations off the result.
    """
    import tvm
    import tvm_ffi
    from tvm import s_tir

    passes = [
        s_tir.transform.LowerInitBlock(),
        s_tir.transform.PlanAndUpdateBufferAllocationLocation(),
        s_tir.transform.ConvertBlocksToOpaque(),
        s_tir.transform.CompactBufferAllocation(),
    ]
    lowered = tvm.transform.Sequential(passes)(mod)
    sizes: dict[str, int] = {}

    def visit(block: Any) -> None:
        for buf in block.alloc_buffers:
            sizes[buf.name] = math.prod(int(x) for x in buf.shape)

    tvm_ffi.structural_walk(lowered["main"].body, (s_tir.SBlock, visit), order="pre")
    return sizes


def stage_transfer_counts(mod: Any) -> dict[str, int]:
    """Elements each block moves in one run: the product of all loop extents around it, predicates ignored.

    For a cache stage this is (number of fills) × (tile elements), the quantity the cost model counts as a
    level's fills or write-backs. For the rfactor write-back of a spill (stage kind ``accumulate``) it is the
    parent's updates, and also its reads of the parent (one read-modify-write per element and visit): minus one
    first visit per output element, the cost model's read-backs.
    """
    from tvm.sym.analyzer import Analyzer

    counts: dict[str, int] = {}
    analyzer = Analyzer()

    def extent(loop: Any) -> int:
        # A boundary tile of an imperfect split has an extent like min(f, n - i*f): count its full size, the
        # padded tile the cost model charges (hardware with fixed tile sizes moves it too).
        if type(loop.extent).__name__ == "IntImm":
            return int(loop.extent)
        return int(analyzer.const_int_bound(loop.extent).max_value)

    def walk(stmt: Any, trips: int) -> None:
        kind = type(stmt).__name__
        if kind == "For":
            walk(stmt.body, trips * extent(stmt))
        elif kind == "SeqStmt":
            for s in stmt.seq:
                walk(s, trips)
        elif kind == "SBlockRealize":
            # A block's iter vars are bound to the loops around it: one execution per enclosing iteration.
            blk = stmt.block
            counts[blk.name_hint] = counts.get(blk.name_hint, 0) + trips
            walk(blk.body, trips)
        elif hasattr(stmt, "body"):
            walk(stmt.body, trips)

    walk(mod["main"].body, 1)
    return counts



def is_codesign_target(target: Any) -> bool:
    """Whether ``target`` was made by :func:`tvm_codesign.compiler.target.codesign_target`."""
    from tvm_codesign.compiler.target import TARGET_KEY

    return TARGET_KEY in list(target.keys) and str(target.attrs.get("model", "")).startswith("codesign-")


# VTA (pure numpy) -------------------------------------------------------------------------------------------
def vta_buffer_depths(hw: Any) -> dict[str, int]:
    """Entries of VTA's input, weight and accumulator buffers (``buffer bytes / entry bytes``) of a
    :class:`~tvm_codesign.model.hardware.HardwareConfig` that :func:`~tvm_codesign.model.vta.to_vta_config` takes."""
    from tvm_codesign.model.vta import VTA_BUFFERS, entry_bytes, to_vta_config

    cfg = to_vta_config(hw)
    entry = entry_bytes(2 ** cfg["LOG_BLOCK"], 2 ** cfg["LOG_INP_WIDTH"], 2 ** cfg["LOG_ACC_WIDTH"])
    return {name: int(2 ** cfg[key] // entry[op]) for op, name, key in VTA_BUFFERS}


# Random mappings and the whole-model cost (pure numpy) ------------------------------------------------------
# The generators are the mapping space's own sampler (one sampler of mappings in the project, not a second one).
def random_raw_batch(workload: Workload, hw: HardwareConfig, n: int, rng: np.random.Generator) -> MappingBatch:
    """``n`` random mappings of the free mapping space, not yet judged: valid and invalid ones alike.

    The first ``n - n // 2`` are the sampler's proposals (built to meet fan-out and, roughly, capacity: mostly
    valid), the rest uniform genomes (Timeloop's random sampler: mostly over capacity or fan-out), so that small
    layers on small accelerators still give both kinds: the mix the cost model's property tests need. Every row
    is structurally valid (loops between the cuts as :class:`~tvm_codesign.model.mapping.Mapping` requires, every
    dim covered, often with padding); decoded with every template slot (``compact=False``), so factor-1 loops and
    cuts between them occur too.
    """
    import numpy as np

    from tvm_codesign.spaces.mapping import MappingSpace
    from tvm_codesign.spaces.mapping.sampler import propose

    space = MappingSpace(workload, hw)
    proposed = propose(space.codec, space.genes, n - n // 2, rng, schedulable_only=False)
    return space.decode_batch(np.concatenate([proposed, space.uniform(n // 2, rng)]), compact=False)


def random_batch(
    workload: Workload, hw: HardwareConfig, n: int, rng: np.random.Generator, *, max_tries: int | None = None
) -> tuple[MappingBatch, float]:
    """``n`` random *valid* mappings (capacity, fan-out, factor products all met) and the sampler's acceptance rate:
    :meth:`MappingSpace.sample <tvm_codesign.spaces.mapping.MappingSpace.sample>` of the free space, decoded.

    Raises :class:`~tvm_codesign.errors.CodesignError` if ``max_tries`` proposals do not yield ``n``.
    """
    from tvm_codesign.errors import CodesignError
    from tvm_codesign.spaces.mapping import MappingSpace

    space = MappingSpace(workload, hw)
    genomes = space.sample(n, rng, max_tries=max_tries)
    if len(genomes) < n:
        raise CodesignError(f"only {len(genomes)} of {n} random mappings of {workload.name!r} were valid")
    return space.decode_batch(genomes), float(space.acceptance_rate)


def random_mappings(workload: Workload, hw: HardwareConfig, n: int, rng: np.random.Generator) -> list[Mapping]:
    """``n`` random valid mappings as :class:`~tvm_codesign.model.mapping.Mapping` objects (see :func:`random_batch`)."""
    return random_batch(workload, hw, n, rng)[0].to_mappings()


@dataclasses.dataclass(frozen=True)
class ModelCost:
    """Whole-model cost: EDP = (Σ count x energy) x (Σ count x cycles); valid only if every layer is."""

    energy_pj: float
    cycles: float
    edp: float
    valid: bool
    layers: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if not math.isfinite(d["edp"]):
            d["edp"] = None
        d["layers"] = list(d["layers"])
        return d


def evaluate_model(layers: Iterable[tuple[Workload, MappingCost]]) -> ModelCost:
    """Combine per-layer costs with their call-site counts (``workload.count``) into the model's cost.

    The model's EDP does not decompose per layer, which is why the inner search keeps a Pareto set per layer (the
    co-design combines them with :mod:`tvm_codesign.cost.model_edp`; this plain sum is the tests' reference).
    """
    energy = 0.0
    cycles = 0.0
    valid = True
    out = []
    for wl, cost in layers:
        energy += wl.count * cost.energy_pj
        cycles += wl.count * cost.cycles
        valid &= cost.valid
        out.append(
            {"workload": wl.name, "count": wl.count, "energy_pj": cost.energy_pj, "cycles": cost.cycles,
             "valid": cost.valid, "reason_text": cost.reason_text}
        )
    return ModelCost(energy, cycles, energy * cycles if valid else math.inf, valid, tuple(out))
