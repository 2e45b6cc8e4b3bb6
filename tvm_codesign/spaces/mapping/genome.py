"""The mapping genome of one layer on one accelerator: factor tables, gene layout, decoding and its inverse.

The genome fixes a loop-nest template (Timeloop's levels, ZigZag's uneven cuts) over the ``D`` *active* dims of
the workload (bound > 1), outer to inner::

    DRAM-level temporal   one loop per dim, in order perm[0]      (factor: the ceil of what the inner slots leave)
    GB-level temporal     one loop per dim, in order perm[1]
    spatial rows          one loop per dim (canonical order)
    spatial cols          one loop per dim (canonical order)
    RF-level temporal     one loop per dim, in order perm[2]

Genes (``genome_size = D + 11``)::

    [0, D)       factor tuple of each active dim: index into that dim's table of (gb, rows, cols, rf) factors:
                 every tuple with product <= bound, candidates including non-divisors (the DRAM factor takes the
                 ceil, so imperfect splits pad), plus "closing" tuples where one slot takes the ceil of the rest
    D, D+1, D+2  loop order of the DRAM, GB and RF levels: index into the D! permutations (lexicographic)
    D+3..D+5     GB cut of I, W, O: offset 0..D into the GB-level loops (0 = the whole GB level is in the tile),
                 D+1 = bypass
    D+6..D+8     RF cut of I, W, O: offset 0..D into the RF-level loops, D+1 = bypass
    D+9, D+10    double-buffered GB, RF (0/1)

:class:`GenomeCodec` holds this layout and decodes genomes (and reads a mapping back into a genome);
:class:`AllowedGenes` holds the values each gene may take, which :mod:`.restriction` computes from the hardware, a
dataflow and the double-buffering option. Decoding does not depend on the allowed sets. Decoded mappings drop
factor-1 loops (they change nothing, in the cost model or the schedule); so many genomes decode to one mapping
(:mod:`.canonical` picks one representative).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Sequence

import numpy as np

from tvm_codesign.cost.physical import EnergyTable, energy_table
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.mapping import ON_CHIP, Mapping
from tvm_codesign.model.workload import DIMS, OPERANDS, Workload

#: Rows of a factor table: the inner slots of a dim (the DRAM factor is implied, the ceil of what they leave).
GB_SLOT, ROWS_SLOT, COLS_SLOT, RF_SLOT = 0, 1, 2, 3
SMALL = 16  #: every temporal factor up to this is a candidate (RF-sized tiles need them)
_MAX_PERM_SCAN = 5040  # genome_of tries every allowed loop order of a level only up to this many (7 dims)


def temporal_candidates(bound: int) -> np.ndarray:
    """Divisors, every distinct ``ceil(bound / k)`` and 1..SMALL: the factors worth trying for a temporal slot."""
    k = np.arange(1, bound + 1)
    vals = set((-(-bound // k)).tolist()) | set(k[bound % k == 0].tolist()) | set(range(1, min(bound, SMALL) + 1))
    return np.array(sorted(vals), np.int64)


class FactorTable:
    """The (gb, rows, cols, rf) factor tuples of one dim, sorted by a mixed-radix key of candidate indices.

    Every tuple with product <= bound (the DRAM factor takes the ceil of the rest), plus the *closing* tuples in
    which one slot takes all that its inner slots leave, with padding (``ceil(bound / inner)``) and the slots
    outside it 1: without them an imperfect split could never finish below DRAM (e.g. C = 64 over 12 PE rows and
    the rest, 6, in the GB).
    """

    def __init__(self, bound: int, cands: Sequence[np.ndarray]) -> None:
        self.bound = bound
        self.cands = [np.asarray(c, np.int64) for c in cands]
        self.radix = np.array([len(c) for c in self.cands], np.int64)
        ir, ic, i2 = (a.ravel() for a in np.meshgrid(*(np.arange(n) for n in self.radix[1:]), indexing="ij"))
        prod = self.cands[1][ir] * self.cands[2][ic] * self.cands[3][i2]
        keep = prod <= bound
        ir, ic, i2, prod = ir[keep], ic[keep], i2[keep], prod[keep]
        count = np.searchsorted(self.cands[0], bound // prod, side="right")  # gb factors that still fit
        rep = np.repeat(np.arange(len(prod)), count)
        i1 = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
        parts = [np.stack([i1, ir[rep], ic[rep], i2[rep]])]
        # Closing tuples: slot s takes ceil(bound / inner) where that is a candidate; slots outside s are 1.
        for s in range(4):
            inner = np.ones(len(prod), np.int64)
            for t, it in zip((1, 2, 3), (ir, ic, i2)):
                if t > s:
                    inner = inner * self.cands[t][it]
            outside_one = np.ones(len(prod), bool)
            for t, it in zip((1, 2, 3), (ir, ic, i2)):
                if 0 < t < s:
                    outside_one &= self.cands[t][it] == 1
            if s > 0:
                outside_one &= (ir, ic, i2)[s - 1] == 0  # the slot itself is recomputed below; keep one copy
            want = -(-bound // inner)
            k = np.minimum(np.searchsorted(self.cands[s], want), len(self.cands[s]) - 1)
            ok = outside_one & (bound % inner != 0) & (self.cands[s][k] == want)
            if not ok.any():
                continue
            idx = np.stack([np.zeros(ok.sum(), np.int64), ir[ok], ic[ok], i2[ok]])
            idx[s] = k[ok]
            parts.append(idx)
        idx = np.concatenate(parts, axis=1)
        key, first = np.unique(self._key(idx), return_index=True)  # sorted, each tuple once
        self.idx = idx[:, first].astype(np.int32)  # (4, T) candidate indices
        self.key = key
        self.f = np.stack([self.cands[s][self.idx[s]] for s in range(4)])  # (4, T) factors
        self.outer = -(-bound // self.f.prod(axis=0))  # DRAM factor: the ceil
        self.size = len(self.key)

    def _key(self, idx: np.ndarray) -> np.ndarray:
        r = self.radix
        return ((idx[0].astype(np.int64) * r[1] + idx[1]) * r[2] + idx[2]) * r[3] + idx[3]

    def lookup(self, idx: np.ndarray) -> np.ndarray:
        """Table index of candidate-index tuples ``(4, m)``; -1 where out of range or product > bound."""
        inside = np.all((idx >= 0) & (idx < self.radix[:, None]), axis=0)
        key = self._key(np.where(inside, idx, 0))
        pos = np.minimum(np.searchsorted(self.key, key), self.size - 1)
        return np.where(inside & (self.key[pos] == key), pos, -1)


@functools.lru_cache(maxsize=512)
def factor_table(bound: int, rows: int, cols: int, gb_used: bool, rf_used: bool) -> FactorTable:
    """The (shared, read-only) factor table of a dim: the same for every layer and hardware candidate with this
    bound, PE array shape and used levels."""
    temporal = temporal_candidates(bound)
    one = np.array([1], np.int64)
    t = FactorTable(
        bound,
        [temporal if gb_used else one, np.arange(1, min(bound, rows) + 1), np.arange(1, min(bound, cols) + 1),
         temporal if rf_used else one],
    )
    for a in (t.idx, t.key, t.f, t.outer, *t.cands):
        a.setflags(write=False)
    return t


def perm_rank(perm: np.ndarray) -> np.ndarray:
    """Lexicographic rank of each row of ``perm`` (n, D) among the D! permutations (Lehmer code)."""
    n, D = perm.shape
    rank = np.zeros(n, np.int64)
    for i in range(D):
        smaller = (perm[:, i + 1 :] < perm[:, i : i + 1]).sum(axis=1)
        rank += smaller * math.factorial(D - 1 - i)
    return rank


class AllowedGenes:
    """The values each gene of a :class:`GenomeCodec` may take (a restriction of the free genome).

    Parameters
    ----------
    allowed
        Per gene, the sorted allowed values.
    domain
        Per gene, the number of values of the free genome (the allowed values lie in ``[0, domain)``).
    slot_values
        ``slot_values[j][s]``: the allowed factors of slot ``s`` (:data:`GB_SLOT` ...) of active dim ``j``.
    """

    def __init__(self, allowed: list[np.ndarray], domain: np.ndarray, slot_values: list[list[np.ndarray]]) -> None:
        self.allowed = allowed
        self.slot_values = slot_values
        #: Per gene, a boolean table over ``[0, domain)``: membership by indexing, not by search.
        self.masks: list[np.ndarray] = []
        for g, vals in enumerate(allowed):
            m = np.zeros(domain[g], bool)
            m[vals] = True
            self.masks.append(m)

    @property
    def minimum(self) -> np.ndarray:
        """The genome of every gene's smallest allowed value (a stand-in that decodes, for rows outside)."""
        return np.array([a[0] for a in self.allowed], np.int64)

    def is_free(self, gene: int) -> bool:
        """Whether more than one value is allowed (a gene a move may change)."""
        return len(self.allowed[gene]) > 1

    def contains(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: every gene within its allowed set."""
        G = np.asarray(genomes, np.int64)
        ok = np.ones(len(G), bool)
        for g, m in enumerate(self.masks):
            v = G[:, g]
            inside = (v >= 0) & (v < len(m))
            ok &= inside & m[np.where(inside, v, 0)]
        return ok

    def uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` genomes drawn uniformly from the allowed sets, constraints ignored (Timeloop's random sampler)."""
        return np.stack([vals[rng.integers(0, len(vals), n)] for vals in self.allowed], axis=1)


class GenomeCodec:
    """The gene layout of one layer on one accelerator, its factor tables, and decoding (see the module docstring).

    Parameters
    ----------
    workload, hw
        The layer (its active dims and bounds) and the accelerator (its PE array and which on-chip levels any
        operand can use shape the factor tables).
    """

    def __init__(self, workload: Workload, hw: HardwareConfig) -> None:
        self.workload, self.hw = workload, hw
        act = [i for i, d in enumerate(DIMS) if getattr(workload, d) > 1] or [DIMS.index("N")]
        self.active = np.array(act, np.int64)  # indices into DIMS
        self.active_names = [DIMS[i] for i in act]
        D = self.D = len(act)
        self.bounds = np.array([getattr(workload, DIMS[i]) for i in act], np.int64)
        self.genome_size = D + 11
        self.g_perm, self.g_gb, self.g_rf, self.g_dbuf = D, D + 3, D + 6, D + 9
        self.bypass = D + 1  # cut gene value meaning "bypass"
        self.perms = np.array(list(itertools.permutations(range(D))), np.int64)
        self.gb_used = any(hw.buffer_for(op) is not None for op in OPERANDS)
        self.rf_used = any(hw.rf_words(op) > 0 for op in OPERANDS)
        # Only the hardware shapes the tables (a level nobody can use has factor 1); a dataflow only narrows the
        # allowed indices, so that its genomes index the same tables as the free space's.
        self.tables = [
            factor_table(int(b), hw.pe_rows, hw.pe_cols, self.gb_used, self.rf_used) for b in self.bounds
        ]
        #: Per gene, the number of values of the free genome.
        self.domain = np.array(
            [t.size for t in self.tables] + [len(self.perms)] * 3 + [D + 2] * 6 + [2, 2], np.int64
        )

    @functools.cached_property
    def energy(self) -> EnergyTable:
        """The hardware's energy per access, computed once (the cost model would otherwise rebuild it per call)."""
        return energy_table(self.hw)

    def factors(self, G: np.ndarray) -> np.ndarray:
        """``(5, D, n)`` factors per slot (dram, gb, rows, cols, rf) per active dim."""
        out = np.empty((5, self.D, len(G)), np.int64)
        for j, t in enumerate(self.tables):
            ti = G[:, j]
            out[0, j] = t.outer[ti]
            out[1:, j] = t.f[:, ti]
        return out

    def decode_batch(self, genomes: np.ndarray, compact: bool = True) -> MappingBatch:
        """Genomes ``(n, genome_size)`` -> a :class:`MappingBatch` (vectorised; factor-1 loops dropped unless
        ``compact=False``, which keeps the ``5 D``-slot template)."""
        G = np.ascontiguousarray(genomes, np.int64).reshape(-1, self.genome_size)
        n, D = len(G), self.D
        F = self.factors(G)
        cols = np.arange(n)
        L = 5 * D
        dim = np.empty((L, n), np.int8)
        factor = np.empty((L, n), np.int64)
        kind = np.zeros((L, n), np.int8)
        for lv, (slot, base) in enumerate(((0, 0), (1, D), (4, 4 * D))):
            perm = self.perms[G[:, self.g_perm + lv]].T  # (D, n): active-dim index at each position
            dim[base : base + D] = self.active[perm]
            factor[base : base + D] = F[slot][perm, cols]
        for k, (slot, base) in enumerate(((2, 2 * D), (3, 3 * D))):
            dim[base : base + D] = self.active[:, None]
            factor[base : base + D] = F[slot]
            kind[base : base + D] = k + 1
        cut = np.empty((2, 3, n), np.int64)
        for li, base in enumerate((D, 4 * D)):
            g = G[:, self.g_gb + 3 * li : self.g_gb + 3 * li + 3].T
            cut[li] = np.where(g == self.bypass, -1, base + g)
        dbuf = G[:, self.g_dbuf : self.g_dbuf + 2].T.astype(bool)
        if not compact:
            return MappingBatch(dim, factor, kind, cut.astype(np.int16), dbuf, np.full(n, L, np.int16))
        # Drop factor-1 loops: slot l moves to before[l] (kept loops above it). Writing every slot in order lets
        # each kept loop overwrite the dropped ones that shared its destination: no boolean masks, no sort.
        keep = (factor > 1).view(np.int8)
        before = np.zeros((L + 1, n), np.int32)  # before[p] = kept loops above position p
        for l in range(L):
            np.add(before[l], keep[l], out=before[l + 1])
        n_loops = before[L]
        Lc = max(int(n_loops.max(initial=0)), 1)
        cdim, cfac, ckind = np.zeros((L + 1, n), np.int8), np.ones((L + 1, n), np.int64), np.zeros((L + 1, n), np.int8)
        fd, ff, fk = cdim.reshape(-1), cfac.reshape(-1), ckind.reshape(-1)
        for l in range(L):
            dest = before[l].astype(np.int64) * n + cols
            fd[dest], ff[dest], fk[dest] = dim[l], factor[l], kind[l]
        cdim, cfac, ckind = cdim[:Lc], cfac[:Lc], ckind[:Lc]
        past = np.arange(Lc)[:, None] >= n_loops[None, :]  # slots past the last loop hold a dropped one: reset
        cdim[past], cfac[past], ckind[past] = 0, 1, 0
        ccut = np.where(cut >= 0, before.reshape(-1)[np.maximum(cut, 0) * n + cols], -1).astype(np.int16)
        return MappingBatch(cdim, cfac, ckind, ccut, dbuf, n_loops.astype(np.int16))

    def decode(self, genome: np.ndarray) -> Mapping:
        """One genome -> its :class:`Mapping`."""
        return self.decode_batch(np.asarray(genome, np.int64).reshape(1, -1)).mapping(0)

    def genome_of(self, mapping: Mapping, genes: AllowedGenes) -> np.ndarray:
        """A genome within ``genes`` that decodes to ``mapping`` up to factor-1 loops and the order of spatial
        loops (not necessarily the canonical one); :class:`CodesignError` if the mapping does not fit the template
        or the allowed sets.

        Plain Python over one mapping (not a hot path): it reads the nest back into the template (DRAM-level loops
        above the outermost GB cut, GB-level loops down to the spatial ones, RF-level loops below them), then
        picks, among the loop orders and cut offsets that give the same nest up to factor-1 loops, one that
        ``genes`` allows (a dataflow may fix them).
        """
        return _genome_of(self, genes, mapping)


def _genome_of(codec: GenomeCodec, genes: AllowedGenes, mapping: Mapping) -> np.ndarray:
    """See :meth:`GenomeCodec.genome_of`."""
    loops = [l for l in mapping.loops if l.factor > 1]
    before = np.concatenate([[0], np.cumsum([l.factor > 1 for l in mapping.loops])]).astype(int)
    cuts = [[None if p is None else int(before[p]) for p in row] for row in mapping.placement]
    held_gb = [c for c in cuts[0] if c is not None]
    held_rf = [c for c in cuts[1] if c is not None]
    spatial = [i for i, l in enumerate(loops) if l.spatial]
    if spatial:
        s0, s1 = spatial[0], spatial[-1]
        if not all(l.spatial for l in loops[s0 : s1 + 1]):
            raise CodesignError("not in the mapping template: a temporal loop sits between spatial loops")
        splits = [(s0, s1 + 1)]
    else:
        lo = max(held_gb, default=0)
        hi = min(held_rf, default=len(loops))
        if lo > hi:
            raise CodesignError("not in the mapping template: a GB cut lies below an RF cut of another operand")
        splits = [(r, r) for r in range(hi, lo - 1, -1)]
    last: CodesignError | None = None
    # Where the DRAM-level loops end (at most the outermost GB cut) and where the RF level starts are not written
    # in a mapping: try each split until one reads back into the template.
    for above_end, rf_start in splits:
        top = min(held_gb, default=above_end) if codec.gb_used else above_end
        for gb_start in range(min(top, above_end), -1, -1):
            try:
                return _genome(codec, genes, mapping, loops, cuts, gb_start, above_end, rf_start)
            except CodesignError as err:
                last = err
    assert last is not None
    raise last


def _genome(
    codec: GenomeCodec,
    genes: AllowedGenes,
    mapping: Mapping,
    loops: list,
    cuts: list,
    gb_start: int,
    above_end: int,
    rf_start: int,
) -> np.ndarray:
    """The genome of one reading of the nest into the template: DRAM level ``[:gb_start]``, GB level
    ``[gb_start:above_end]``, spatial loops up to ``rf_start``, RF level after."""
    levels = (loops[:gb_start], loops[gb_start:above_end], loops[rf_start:])
    names = codec.active_names
    D = codec.D
    fac = np.ones((5, D), np.int64)  # dram, gb, rows, cols, rf
    order: list[list[int]] = []
    for lv, (level, slot) in enumerate(zip(levels, (0, 1, 4))):
        seen: list[int] = []
        for l in level:
            if l.dim not in names:
                raise CodesignError(f"loop over {l.dim} (factor {l.factor}) but the workload's {l.dim} is 1")
            j = names.index(l.dim)
            if j in seen:
                raise CodesignError(f"not in the mapping template: two loops over {l.dim} at one level")
            seen.append(j)
            fac[slot, j] = l.factor
        order.append(seen)
    for l in loops[above_end:rf_start]:
        if l.dim not in names:
            raise CodesignError(f"spatial loop over {l.dim} but the workload's {l.dim} is 1")
        slot = 2 if l.kind == "spatial_rows" else 3
        j = names.index(l.dim)
        if fac[slot, j] != 1:
            raise CodesignError(f"not in the mapping template: two {l.kind} loops over {l.dim}")
        fac[slot, j] = l.factor
    genome = np.zeros(codec.genome_size, np.int64)
    for j, t in enumerate(codec.tables):
        idx = np.zeros((4, 1), np.int64)
        for s in range(4):
            k = int(np.searchsorted(t.cands[s], fac[s + 1, j]))
            if k >= len(t.cands[s]) or t.cands[s][k] != fac[s + 1, j]:
                raise CodesignError(f"factor {fac[s + 1, j]} of {names[j]} is not a candidate of its slot")
            idx[s, 0] = k
        ti = int(t.lookup(idx)[0])
        if ti < 0:
            raise CodesignError(f"inner factors of {names[j]} multiply to more than its bound {t.bound}")
        if t.outer[ti] != fac[0, j]:
            raise CodesignError(
                f"outer factor of {names[j]} is {fac[0, j]}; the template takes the ceil, {t.outer[ti]}"
            )
        genome[j] = ti
    starts = (0, gb_start, rf_start)
    for lv in range(3):
        level_cuts = {}
        if lv > 0:
            for oi in range(len(OPERANDS)):
                c = cuts[lv - 1][oi]
                if c is not None:
                    level_cuts[oi] = c - starts[lv]
        perm_gene, cut_genes = _place_level(codec, genes, lv, order[lv], level_cuts)
        genome[codec.g_perm + lv] = perm_gene
        if lv > 0:
            base = codec.g_gb + 3 * (lv - 1)
            for oi in range(len(OPERANDS)):
                genome[base + oi] = cut_genes.get(oi, codec.bypass)
    for li in range(len(ON_CHIP)):
        genome[codec.g_dbuf + li] = int(mapping.double_buffered[li])
    if not genes.contains(genome[None])[0]:
        bad = [g for g in range(codec.genome_size) if not genes.masks[g][genome[g]]]
        raise CodesignError(f"mapping is outside this space (genes {bad} not allowed, e.g. by the dataflow)")
    return genome


def _place_level(
    codec: GenomeCodec, genes: AllowedGenes, lv: int, real: list[int], cuts: dict[int, int]
) -> tuple[int, dict[int, int]]:
    """A loop order (perm index) and cut offsets of one temporal level that the space allows and that keep the
    real (factor > 1) loops in ``real`` order with each cut after the same number of them."""
    D = codec.D
    allowed_perm = genes.allowed[codec.g_perm + lv]
    canonical = [j for j in range(D) if j not in real] + real
    first = int(np.flatnonzero(np.all(codec.perms == np.array(canonical), axis=1))[0])
    candidates = [first]
    if len(allowed_perm) <= _MAX_PERM_SCAN:
        candidates += [int(p) for p in allowed_perm if p != first]
    for p in candidates:
        if not genes.masks[codec.g_perm + lv][p]:
            continue
        inv = np.empty(D, int)
        inv[codec.perms[p]] = np.arange(D)
        pos = [int(inv[j]) for j in real]
        if any(a >= b for a, b in zip(pos, pos[1:])):
            continue
        out: dict[int, int] = {}
        for oi, k in cuts.items():
            if not 0 <= k <= len(real):
                raise CodesignError("not in the mapping template: a cut lies outside its level's loops")
            lo = pos[k - 1] + 1 if k > 0 else 0
            hi = pos[k] if k < len(real) else D
            vals = genes.allowed[codec.g_gb + 3 * (lv - 1) + oi]
            ok = vals[(vals >= lo) & (vals <= hi)]
            if not len(ok):
                break
            out[oi] = int(ok[0])
        else:
            return p, out
    raise CodesignError(f"no loop order and cuts of level {('DRAM', 'GB', 'RF')[lv]} in this space give the mapping's")




__all__ = [
    "AllowedGenes", "COLS_SLOT", "FactorTable", "GB_SLOT", "GenomeCodec", "ROWS_SLOT", "RF_SLOT", "SMALL",
    "factor_table", "perm_rank", "temporal_candidates",
]
