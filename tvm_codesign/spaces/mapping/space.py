"""MappingSpace: the knobs of one layer's mapping as an integer genome, with sampling, moves, features and membership.

The class composes one module per concept: the gene layout, factor tables, decoding and its inverse
(:mod:`.genome`), the allowed values a hardware, dataflow and double-buffering option leave (:mod:`.restriction`),
validity (:mod:`.validity`), the canonical genome of a mapping (:mod:`.canonical`), constructive sampling
(:mod:`.sampler`), local moves (:mod:`.moves`) and features (:mod:`.features`). ``size()`` counts genomes, not
mappings (many genomes decode to one mapping; ``sample``, ``neighbors`` and ``genome_of`` return canonical ones).
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.dataflow import Dataflow, get_dataflow
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.mapping import ON_CHIP, Mapping
from tvm_codesign.model.workload import OPERANDS, Workload
from tvm_codesign.spaces.mapping import features, moves, sampler, validity
from tvm_codesign.spaces.mapping.canonical import canonical
from tvm_codesign.spaces.mapping.genome import GenomeCodec
from tvm_codesign.spaces.mapping.restriction import restrict
from tvm_codesign.spaces.mapping.score_cache import ScoreCache


class MappingSpace:
    """The mapping genomes of one layer on one accelerator (implements :class:`~tvm_codesign.search.base.SearchSpace`).

    Parameters
    ----------
    workload, hw
        The layer and the accelerator.
    dataflow
        ``None`` (free), ``"row_stationary"``, ``"vta_gemm"`` or a :class:`~tvm_codesign.model.dataflow.Dataflow`.
    schedulable_only
        Keep to the mappings :func:`tvm_codesign.compiler.schedule.apply_mapping` schedules (sampling, neighbours and
        validity): the rule of :mod:`tvm_codesign.model.schedulability`, exactly -- partial-sum spills rfactor cannot
        take, strided group tiles and tiles that straddle a fused dim's TIR loops are out, the rest is in.
    double_buffering
        ``"search"`` (a gene), ``True`` or ``False`` (fixed) for both on-chip levels.

    Attributes
    ----------
    codec
        The :class:`~tvm_codesign.spaces.mapping.genome.GenomeCodec` (gene layout, tables, decoding); its layout
        fields (``D``, ``active``, ``active_names``, ``bounds``, ``genome_size``, ``g_perm``, ``g_gb``, ``g_rf``,
        ``g_dbuf``, ``bypass``, ``perms``, ``tables``, ``domain``) are also attributes of the space.
    genes
        The :class:`~tvm_codesign.spaces.mapping.genome.AllowedGenes`; ``allowed`` is its per-gene value list.
    acceptance_rate
        The fraction of proposals that were valid in the last :meth:`sample` call (``None`` before one).
    scores
        A :class:`~tvm_codesign.spaces.mapping.score_cache.ScoreCache` of the cost of what the space handed out.
    """

    def __init__(
        self,
        workload: Workload,
        hw: HardwareConfig,
        dataflow: str | Dataflow | None = None,
        schedulable_only: bool = False,
        double_buffering: bool | str = "search",
    ) -> None:
        if double_buffering not in ("search", True, False):
            raise CodesignError(f"double_buffering must be 'search', True or False, got {double_buffering!r}")
        self.workload, self.hw = workload, hw
        self.dataflow = get_dataflow(dataflow)
        self.schedulable_only = bool(schedulable_only)
        self.double_buffering = double_buffering
        self.codec = c = GenomeCodec(workload, hw)
        self.genes = restrict(c, self.dataflow, double_buffering)
        # The codec's layout, for callers that index genomes (strategies, the meta_schedule bridge, tests).
        self.active, self.active_names, self.D, self.bounds = c.active, c.active_names, c.D, c.bounds
        self.genome_size, self.bypass = c.genome_size, c.bypass
        self.g_perm, self.g_gb, self.g_rf, self.g_dbuf = c.g_perm, c.g_gb, c.g_rf, c.g_dbuf
        self.perms, self.tables, self.domain = c.perms, c.tables, c.domain
        self.allowed = self.genes.allowed
        self.acceptance_rate: float | None = None
        #: The valid share of the last :meth:`mutate` call's children (``None`` before one).
        self.mutation_rate: float | None = None
        #: The cost of what :meth:`sample` and :meth:`neighbors` handed out (judged once, scored from here).
        self.scores = ScoreCache()

    # ----------------------------------------------------------------------------------------------------------
    # Size, membership, enumeration.

    def size(self) -> int:
        """Number of genomes (exact: the product of the allowed-set sizes; many are invalid)."""
        return math.prod(len(a) for a in self.allowed)

    def gene_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-gene inclusive ``(low, high)`` over the allowed sets (a box around the space, for skopt)."""
        return self.allowed_min, np.array([a[-1] for a in self.allowed], np.int64)

    @property
    def allowed_min(self) -> np.ndarray:
        """Every gene's smallest allowed value."""
        return self.genes.minimum

    def contains(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: every gene within its allowed set."""
        return self.genes.contains(genomes)

    def uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` genomes drawn uniformly from the allowed sets, constraints ignored (Timeloop's random sampler)."""
        return self.genes.uniform(n, rng)

    def enumerate(self, limit: int, chunk: int = 1 << 16, canonical_only: bool = False) -> Iterator[np.ndarray]:
        """Every genome (valid or not; filter with :meth:`valid`) in chunks of ``(m, genome_size)``, in mixed-radix
        order; raises :class:`CodesignError` at once when ``size() > limit``. With ``canonical_only``, only
        canonical genomes: each mapping exactly once (a tiny 3-dim dense layer on VTA: 11,498 of 1.15M)."""
        total = self.size()
        if total > limit:
            raise CodesignError(f"mapping space has {total:.3g} genomes, more than the enumeration limit {limit}")
        radix = [len(a) for a in self.allowed]

        def chunks() -> Iterator[np.ndarray]:
            for lo in range(0, total, chunk):
                flat = np.arange(lo, min(total, lo + chunk), dtype=np.int64)
                digits = np.unravel_index(flat, radix)
                out = np.stack([self.allowed[g][digits[g]] for g in range(self.genome_size)], axis=1)
                yield out[np.all(self.canonical(out) == out, axis=1)] if canonical_only else out

        return chunks()

    # ----------------------------------------------------------------------------------------------------------
    # Decoding, inversion, the canonical form.

    def decode_batch(self, genomes: np.ndarray, compact: bool = True) -> MappingBatch:
        """Genomes ``(n, genome_size)`` -> a :class:`~tvm_codesign.model.batch.MappingBatch` (vectorised; factor-1
        loops dropped unless ``compact=False``, which keeps the ``5 D``-slot template)."""
        return self.codec.decode_batch(genomes, compact)

    def decode(self, genome: np.ndarray) -> Mapping:
        """One genome -> its :class:`Mapping`."""
        return self.codec.decode(genome)

    def genome_of(self, mapping: Mapping) -> np.ndarray:
        """The (canonical) genome of this space that decodes to ``mapping`` up to factor-1 loops and the order of
        spatial loops (an equivalent mapping); :class:`CodesignError` if the mapping does not fit the template or
        the space."""
        return self.canonical(self.codec.genome_of(mapping, self.genes)[None, :])[0]

    def canonical(self, genomes: np.ndarray) -> np.ndarray:
        """The canonical genome of each genome's mapping (:func:`~tvm_codesign.spaces.mapping.canonical.canonical`);
        ``decode(canonical(g)) == decode(g)``."""
        return canonical(self.codec, self.genes, genomes)

    # ----------------------------------------------------------------------------------------------------------
    # Validity.

    def schedulable(self, batch: MappingBatch) -> np.ndarray:
        """``(n,)`` bool: what :func:`tvm_codesign.compiler.schedule.apply_mapping` schedules -- the one rule of
        :mod:`tvm_codesign.model.schedulability`, judged on the whole batch."""
        return validity.schedulable(self.workload, batch)

    def valid(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: in the space, valid for the cost model and, with ``schedulable_only``, schedulable."""
        return validity.valid(self.codec, self.genes, genomes, self.schedulable_only)

    # ----------------------------------------------------------------------------------------------------------
    # Sampling and local moves.

    def sample(self, n: int, rng: np.random.Generator, max_tries: int | None = None) -> np.ndarray:
        """``(m, genome_size)`` valid genomes, ``m <= n`` (``m < n`` only if ``max_tries`` proposals do not yield
        ``n``). Built to meet fan-out and roughly capacity, then judged by the cost model; the fraction of proposals
        that were valid is left in :attr:`acceptance_rate`."""
        got = sampler.sample(
            self.codec, self.genes, n, rng, self.schedulable_only, max_tries,
            rate_hint=self.acceptance_rate if self.acceptance_rate else 0.3,
        )
        self.acceptance_rate = got.acceptance_rate
        self.scores.put(got.genomes, got.energy_pj, got.cycles)
        return got.genomes

    def neighbors(self, genomes: np.ndarray, rng: np.random.Generator, rounds: int = 8) -> np.ndarray:
        """One small valid move from each genome: move a factor between levels, swap two loops, shift a cut or
        toggle double buffering; rows with no valid move in ``rounds`` tries are resampled (which leaves
        :attr:`acceptance_rate` as the caller's last :meth:`sample` set it)."""
        got = moves.neighbors(self.codec, self.genes, genomes, rng, self.schedulable_only, rounds)
        scored = np.isfinite(got.energy_pj)  # a row with no valid move and no fresh sample keeps its genome
        self.scores.put(got.genomes[scored], got.energy_pj[scored], got.cycles[scored])
        return got.genomes

    def mutate(
        self, genomes: np.ndarray, steps: np.ndarray, rng: np.random.Generator, reset: float = 0.0
    ) -> np.ndarray:
        """Each genome after ``steps[i]`` random local moves (with probability ``reset``, one gene redrawn
        instead), judged once: the ``m <= n`` valid, changed ones
        (:func:`~tvm_codesign.spaces.mapping.moves.mutate`; their cost is kept for the objective)."""
        got = moves.mutate(self.codec, self.genes, genomes, steps, rng, self.schedulable_only, reset)
        self.scores.put(got.genomes, got.energy_pj, got.cycles)
        self.mutation_rate = got.acceptance_rate
        return got.genomes

    # ----------------------------------------------------------------------------------------------------------
    # Features (:mod:`.features`).

    def encode(self, genomes: np.ndarray) -> np.ndarray:
        """``(n, 8 D + 18)`` features in [0, 1] (:func:`~tvm_codesign.spaces.mapping.features.encode`)."""
        return features.encode(self.codec, genomes)

    @property
    def feature_names(self) -> list[str]:
        """The name of each column of :meth:`encode`."""
        return features.feature_names(self.codec)

    def tile_features(self, genomes: np.ndarray) -> np.ndarray:
        """``(n, 6)`` buffer fill of each operand at GB and RF
        (:func:`~tvm_codesign.spaces.mapping.features.tile_features`)."""
        return features.tile_features(self.codec, genomes)

    def prior_score(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` log compute slowdown over a perfect array, a cheap prior
        (:func:`~tvm_codesign.spaces.mapping.features.prior_score`)."""
        return features.prior_score(self.codec, genomes)

    def surrogate_features(self, genomes: np.ndarray) -> np.ndarray:
        """``(n, 5 D + 18)`` compact features for GP surrogates
        (:func:`~tvm_codesign.spaces.mapping.features.surrogate_features`)."""
        return features.surrogate_features(self.codec, genomes)

    # ----------------------------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Genes, their allowed-set sizes and the space size, for logs and reports."""
        names = [f"factors_{d}" for d in self.active_names] + ["order_dram", "order_gb", "order_rf"]
        names += [f"cut_{lv}_{op}" for lv in ON_CHIP for op in OPERANDS] + ["dbuf_GB", "dbuf_RF"]
        return {
            "workload": self.workload.name,
            "hw": self.hw.name,
            "dataflow": None if self.dataflow is None else self.dataflow.name,
            "schedulable_only": self.schedulable_only,
            "genome_size": self.genome_size,
            "genes": {k: int(len(a)) for k, a in zip(names, self.allowed)},
            "size": self.size(),
        }


__all__ = ["MappingSpace"]
