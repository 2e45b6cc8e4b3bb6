"""MappingSpace: the knobs of one layer's mapping as an integer genome, and the objective that scores genomes.

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

Every gene has a set of allowed values: the hardware (no storage -> bypass; a level nobody can use -> factor 1),
a named dataflow (:mod:`tvm_codesign.model.dataflow`) and the ``double_buffering`` option narrow it. A restricted space's
genomes are genomes of the free space and decode identically, so decoding does not depend on the restriction.
Decoded mappings drop factor-1 loops (they change nothing, in the cost model or the schedule); so many genomes
decode to one mapping, and :meth:`MappingSpace.canonical` picks one representative (what ``sample``, ``neighbors``
and ``genome_of`` return). ``size()`` counts genomes, not mappings.

Sampling is constructive: spatial factors within the PE array, RF and GB factors under (approximate) capacity
budgets, with a random dim order per sample; the cost model then rejects the rest (``acceptance_rate``).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from tvm_codesign.cost.model import evaluate
from tvm_codesign.model.dataflow import FACTOR_SLOTS, Dataflow, get_dataflow
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.mapping import ON_CHIP, Mapping, MappingBatch
from tvm_codesign.model.schedulability import check
from tvm_codesign.model.workload import DIMS, OPERAND_DIMS, OPERANDS, REDUCTION_DIMS, Workload

if TYPE_CHECKING:  # pragma: no cover
    from tvm_codesign.search.base import Outcome

_GB, _ROWS, _COLS, _RF = 0, 1, 2, 3  # rows of a factor table (the inner slots; the DRAM factor is implied)
_SMALL = 16  # every temporal factor up to this is a candidate (RF-sized tiles need them)
BALANCE = 0.9  # fraction of sampled factors snapped to the balanced split of what remains
# Fraction of buffer-level (RF, GB) factors drawn as the largest that fits the capacity budget, the rest log-uniform:
# with log-uniform draws alone 99% of samples were DRAM- or GB-bandwidth-bound (tiles too small to reuse data);
# 0.7 halves the best-of-2000 EDP on ResNet-50 convs for half the acceptance rate.
FILL = 0.7
# Fraction of schedulable-only proposals steered away from partial-sum spills (see MappingSpace._propose).
SPILL_AVOIDING = 0.5


def _temporal_candidates(bound: int) -> np.ndarray:
    """Divisors, every distinct ``ceil(bound / k)`` and 1.._SMALL: the factors worth trying for a temporal slot."""
    k = np.arange(1, bound + 1)
    vals = set((-(-bound // k)).tolist()) | set(k[bound % k == 0].tolist()) | set(range(1, min(bound, _SMALL) + 1))
    return np.array(sorted(vals), np.int64)


class _FactorTable:
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
def _factor_table(bound: int, rows: int, cols: int, gb_used: bool, rf_used: bool) -> _FactorTable:
    """The (shared, read-only) factor table of a dim: the same for every layer and hardware candidate with this
    bound, PE array shape and used levels."""
    temporal = _temporal_candidates(bound)
    one = np.array([1], np.int64)
    t = _FactorTable(
        bound,
        [temporal if gb_used else one, np.arange(1, min(bound, rows) + 1), np.arange(1, min(bound, cols) + 1),
         temporal if rf_used else one],
    )
    for a in (t.idx, t.key, t.f, t.outer, *t.cands):
        a.setflags(write=False)
    return t


def _perm_rank(perm: np.ndarray) -> np.ndarray:
    """Lexicographic rank of each row of ``perm`` (n, D) among the D! permutations (Lehmer code)."""
    n, D = perm.shape
    rank = np.zeros(n, np.int64)
    for i in range(D):
        smaller = (perm[:, i + 1 :] < perm[:, i : i + 1]).sum(axis=1)
        rank += smaller * math.factorial(D - 1 - i)
    return rank


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
        act = [i for i, d in enumerate(DIMS) if getattr(workload, d) > 1] or [DIMS.index("N")]
        self.active = np.array(act, np.int64)  # indices into DIMS
        self.active_names = [DIMS[i] for i in act]
        D = self.D = len(act)
        self.bounds = np.array([getattr(workload, DIMS[i]) for i in act], np.int64)
        self.genome_size = D + 11
        self.g_perm, self.g_gb, self.g_rf, self.g_dbuf = D, D + 3, D + 6, D + 9
        self.bypass = D + 1  # cut gene value meaning "bypass"
        self.perms = np.array(list(itertools.permutations(range(D))), np.int64)
        self.acceptance_rate: float | None = None
        self._gb_used = any(hw.buffer_for(op) is not None for op in OPERANDS)
        self._rf_used = any(hw.rf_words(op) > 0 for op in OPERANDS)
        self.tables = [self._table(j) for j in range(D)]
        self.domain = np.array(
            [t.size for t in self.tables] + [len(self.perms)] * 3 + [D + 2] * 6 + [2, 2], np.int64
        )
        self.allowed = self._allowed_values()
        self._mask = []
        for g, vals in enumerate(self.allowed):
            m = np.zeros(self.domain[g], bool)
            m[vals] = True
            self._mask.append(m)
        self._slot_vals = [[self._slot_values(j, s) for s in range(4)] for j in range(D)]

    # ----------------------------------------------------------------------------------------------------------
    # Construction of the tables and allowed sets.

    def _slot_rule(self, j: int, s: int) -> str:
        name = self.active_names[j]
        if s == _GB and not self._gb_used or s == _RF and not self._rf_used:
            return "one"
        return "free" if self.dataflow is None else self.dataflow.slot_rule(name, FACTOR_SLOTS[s + 1])

    def _table(self, j: int) -> _FactorTable:
        b = int(self.bounds[j])
        # Only the hardware shapes the tables (a level nobody can use has factor 1); a dataflow only narrows the
        # allowed indices, so that its genomes index the same tables as the free space's.
        t = _factor_table(b, self.hw.pe_rows, self.hw.pe_cols, self._gb_used, self._rf_used)
        for s in range(4):
            if self._slot_rule(j, s) == "all" and b not in t.cands[s]:
                where = FACTOR_SLOTS[s + 1]
                raise CodesignError(
                    f"dataflow {self.dataflow.name}: {where} must take all of {self.active_names[j]}={b}, "
                    f"more than the {where} of {self.hw.name} ({len(t.cands[s])})"
                )
        return t

    def _slot_values(self, j: int, s: int) -> np.ndarray:
        """Allowed factors of slot ``s`` of active dim ``j``."""
        rule = self._slot_rule(j, s)
        if rule == "one":
            return np.array([1], np.int64)
        if rule == "all":
            return np.array([self.bounds[j]], np.int64)
        if any(self._slot_rule(j, t) == "all" for t in range(4)):
            return np.array([1], np.int64)
        return self.tables[j].cands[s]

    def _allowed_values(self) -> list[np.ndarray]:
        D, hw, df = self.D, self.hw, self.dataflow
        allowed: list[np.ndarray] = []
        for j, t in enumerate(self.tables):
            ok = np.ones(t.size, bool)
            for s in range(4):
                ok &= np.isin(t.f[s], self._slot_values(j, s))
            allowed.append(np.flatnonzero(ok))
        every_perm = np.arange(len(self.perms))
        allowed += [every_perm, every_perm if self._gb_used else every_perm[:1]]
        rf_perm, rf_cut = every_perm if self._rf_used else every_perm[:1], {}
        if df is not None and df.rf_chain is not None and self._rf_used:
            rf_perm, rf_cut = self._rf_chain(df)
        allowed.append(rf_perm)
        offsets = np.arange(D + 1)
        for level in ON_CHIP:
            for op in OPERANDS:
                has = hw.buffer_for(op) is not None if level == "GB" else hw.rf_words(op) > 0
                if not has:
                    vals = np.array([self.bypass])
                elif level == "GB" and df is not None and op in df.gb_bypass:
                    vals = np.array([self.bypass])
                elif level == "GB" and df is not None and df.gb_even:
                    vals = np.array([0])
                elif level == "RF" and op in rf_cut:
                    vals = np.array([rf_cut[op]])
                else:
                    vals = np.append(offsets, self.bypass)
                allowed.append(vals.astype(np.int64))
        for used in (self._gb_used, self._rf_used):
            if not used or self.double_buffering is False:
                allowed.append(np.array([0], np.int64))
            elif self.double_buffering is True:
                allowed.append(np.array([1], np.int64))
            else:
                allowed.append(np.array([0, 1], np.int64))
        return allowed

    def _rf_chain(self, df: Dataflow) -> tuple[np.ndarray, dict[str, int]]:
        """RF orders and cuts of a chain of RF sub-levels: dims of no sub-level first (canonical order, factor 1),
        then each sub-level's dims outer to inner (any order within one); each operand cut above its sub-level."""
        names = self.active_names
        groups = [[names.index(d) for d in dims if d in names] for _, dims in reversed(df.rf_chain)]  # outer first
        in_chain = {j for g in groups for j in g}
        head = [j for j in range(self.D) if j not in in_chain]
        ok = np.all(self.perms[:, : len(head)] == np.array(head, np.int64), axis=1)
        start, cuts = len(head), {}
        for (op, _), g in zip(reversed(df.rf_chain), groups):
            cuts[op] = start
            block = np.sort(self.perms[:, start : start + len(g)], axis=1)
            ok &= np.all(block == np.sort(np.array(g, np.int64)), axis=1)
            start += len(g)
        return np.flatnonzero(ok), cuts

    # ----------------------------------------------------------------------------------------------------------
    # Size, membership, enumeration.

    def size(self) -> int:
        """Number of genomes (exact: the product of the allowed-set sizes; many are invalid)."""
        return math.prod(len(a) for a in self.allowed)

    def gene_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-gene inclusive ``(low, high)`` over the allowed sets (a box around the space, for skopt)."""
        return self.allowed_min, np.array([a[-1] for a in self.allowed], np.int64)

    def contains(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: every gene within its allowed set."""
        G = np.asarray(genomes, np.int64)
        ok = np.ones(len(G), bool)
        for g, m in enumerate(self._mask):
            v = G[:, g]
            inside = (v >= 0) & (v < len(m))
            ok &= inside & m[np.where(inside, v, 0)]
        return ok

    def uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` genomes drawn uniformly from the allowed sets, constraints ignored (Timeloop's random sampler)."""
        return np.stack([vals[rng.integers(0, len(vals), n)] for vals in self.allowed], axis=1)

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
    # Decoding.

    def _factors(self, G: np.ndarray) -> np.ndarray:
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
        F = self._factors(G)
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

    # ----------------------------------------------------------------------------------------------------------
    # Validity.

    def schedulable(self, batch: MappingBatch) -> np.ndarray:
        """``(n,)`` bool: what :func:`tvm_codesign.compiler.schedule.apply_mapping` schedules -- the one rule of
        :mod:`tvm_codesign.model.schedulability`, judged on the whole batch."""
        return check(self.workload, batch).schedulable

    def valid(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: in the space, valid for the cost model and, with ``schedulable_only``, schedulable."""
        G = np.asarray(genomes, np.int64).reshape(-1, self.genome_size)
        ok = self.contains(G)
        if not ok.any():
            return ok
        mb = self.decode_batch(np.where(ok[:, None], G, self.allowed_min[None, :]))
        ok &= evaluate(self.workload, self.hw, mb).valid
        if self.schedulable_only:
            ok &= self.schedulable(mb)
        return ok

    @property
    def allowed_min(self) -> np.ndarray:
        return np.array([a[0] for a in self.allowed], np.int64)

    # ----------------------------------------------------------------------------------------------------------
    # Sampling.

    def _propose(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` genomes built to meet fan-out and, approximately, RF and GB capacity (exact check follows)."""
        D, hw, wl = self.D, self.hw, self.workload
        G = self.uniform(n, rng)  # orders, cuts and double buffering: uniform; factors: below
        # Schedulable only: half of the proposals are steered away from partial-sum spills (most spills over
        # several reduction loops are refused), the other half are drawn as in the free space, so that the spills
        # the schedule takes (one reduction loop, rfactor) are sampled too. Best-of-1500 random search, median of
        # 5 seeds, 9 layers x {eyeriss, vta}: geometric mean EDP 0.98x of all-steered (which samples no spill)
        # and 0.99x of unsteered proposals, at 1.2-3.5x the acceptance of unsteered ones.
        avoid = rng.random(n) < SPILL_AVOIDING if self.schedulable_only else np.zeros(n, bool)
        G[avoid] = self._spill_free_orders(G[avoid])
        dbuf = G[:, self.g_dbuf : self.g_dbuf + 2].astype(bool)
        # Steered rows: a reduction dim takes no DRAM-level factor while the output is held on chip (see
        # _spill_free_orders); its GB factor is then forced to what the inner slots leave.
        push = avoid & ((G[:, self.g_gb + 2] != self.bypass) | (G[:, self.g_rf + 2] != self.bypass))
        red = np.array([d in REDUCTION_DIMS for d in self.active_names])
        # Position of every active dim in the GB and RF orders.
        pos = {}
        for lv, key in ((1, "gb"), (2, "rf")):
            perm = self.perms[G[:, self.g_perm + lv]]
            inv = np.empty_like(perm)
            np.put_along_axis(inv, perm, np.arange(D)[None, :], axis=1)
            pos[key] = inv  # (n, D)
        # Capacity budgets in words; a shared GB buffer is split evenly among the operands it holds here.
        gcut = G[:, self.g_gb : self.g_gb + 3]
        rcut = G[:, self.g_rf : self.g_rf + 3]
        rf_budget = np.empty((3, n))
        gb_budget = np.empty((3, n))
        for oi, op in enumerate(OPERANDS):
            rf_budget[oi] = np.where(dbuf[:, 1], hw.rf_words(op) // 2, hw.rf_words(op))
            b = hw.buffer_for(op)
            if b is None:
                gb_budget[oi] = np.inf
                continue
            sharers = sum((gcut[:, OPERANDS.index(o)] != self.bypass) for o in b.operands)
            cap = np.where(dbuf[:, 0], b.capacity / 2, b.capacity) / np.maximum(sharers, 1)
            gb_budget[oi] = cap / hw.word_bytes(op)
        # Per-dim footprint weight of each operand (the input's P/Q extent is scaled by the stride: approximate).
        weight = np.zeros((3, D))
        for oi, op in enumerate(OPERANDS):
            for j, name in enumerate(self.active_names):
                if name in OPERAND_DIMS[op]:
                    weight[oi, j] = wl.stride[0] if (op, name) == ("I", "P") else wl.stride[1] if (op, name) == (
                        "I", "Q") else 1
        # Slots a dataflow fixes above 1 (row-stationary's S on the rows, R in the RF) are reserved up front, so
        # that the dims drawn first do not use up the room they need.
        smin = np.array([[float(self._slot_vals[j][s][0]) for s in range(4)] for j in range(D)])  # (D, 4)
        rows_left = np.full(n, hw.pe_rows / smin[:, _ROWS].prod())
        cols_left = np.full(n, hw.pe_cols / smin[:, _COLS].prod())
        inner = np.ones((D, n))  # rows x cols x rf of each dim (all under the GB cut)
        cidx = np.zeros((4, D, n), np.int64)
        order = np.argsort(rng.random((n, D)), axis=1)  # random dim order per sample: no dim always goes first
        rf_tile = np.ones((3, n))
        for step in range(2):  # step 0: rf, rows, cols (PE-level budgets); step 1: gb (buffer budgets)
            gb_tile = np.array([np.prod(np.where(weight[oi][:, None] > 0, inner * weight[oi][:, None], 1), axis=0)
                                for oi in range(3)]) if step else None
            for k in range(D):
                for j in range(D):
                    sel = np.flatnonzero(order[:, k] == j)
                    if not len(sel):
                        continue
                    b = float(self.bounds[j])
                    if step == 0:
                        room = np.full(len(sel), b)
                        # RF: the operands that hold this dim's RF loop inside their RF tile limit it.
                        cap = room.copy()
                        for oi in range(3):
                            if weight[oi, j] == 0:
                                continue
                            held = rcut[sel, oi] != self.bypass
                            inside = held & (pos["rf"][sel, j] >= rcut[sel, oi])
                            lim = rf_budget[oi, sel] / rf_tile[oi, sel] / weight[oi, j]
                            cap = np.where(inside, np.minimum(cap, lim), cap)
                        f2, i2 = self._draw(j, _RF, cap, rng, log=True, rem=np.full(len(sel), b))
                        room = np.floor(room / f2)
                        rl, cl = rows_left[sel] * smin[j, _ROWS], cols_left[sel] * smin[j, _COLS]
                        fr, ir = self._draw(j, _ROWS, np.minimum(room, rl), rng, rem=np.ceil(b / f2))
                        room = np.floor(room / fr)
                        fc, ic = self._draw(j, _COLS, np.minimum(room, cl), rng, rem=np.ceil(b / (f2 * fr)))
                        rows_left[sel] = np.floor(rl / fr)
                        cols_left[sel] = np.floor(cl / fc)
                        inner[j, sel] = f2 * fr * fc
                        for oi in range(3):
                            if weight[oi, j]:
                                inside = (rcut[sel, oi] != self.bypass) & (pos["rf"][sel, j] >= rcut[sel, oi])
                                rf_tile[oi, sel] *= np.where(inside, f2 * weight[oi, j], 1.0)
                        cidx[_RF, j, sel], cidx[_ROWS, j, sel], cidx[_COLS, j, sel] = i2, ir, ic
                    else:
                        cap = np.floor(b / inner[j, sel])
                        for oi in range(3):
                            if weight[oi, j] == 0:
                                continue
                            inside = (gcut[sel, oi] != self.bypass) & (pos["gb"][sel, j] >= gcut[sel, oi])
                            lim = gb_budget[oi, sel] / gb_tile[oi, sel]
                            cap = np.where(inside, np.minimum(cap, np.maximum(lim, 1.0)), cap)
                        f1, i1 = self._draw(j, _GB, cap, rng, log=True, rem=np.ceil(b / inner[j, sel]))
                        # Half the time (always for a pushed reduction dim) the GB takes all the rest, padding an
                        # imperfect split, so that the DRAM factor is 1: ceil(b / inner), a closing tuple.
                        close = (rng.random(len(sel)) < 0.5) | (push[sel] & red[j])
                        if close.any():
                            vals = self._slot_vals[j][_GB]
                            want = -(-b // inner[j, sel])
                            at = np.minimum(np.searchsorted(vals, want), len(vals) - 1)
                            f1 = np.where(close & (vals[at] == want), vals[at], f1).astype(np.float64)
                            i1 = np.searchsorted(self.tables[j].cands[_GB], f1)
                        for oi in range(3):
                            if weight[oi, j]:
                                inside = (gcut[sel, oi] != self.bypass) & (pos["gb"][sel, j] >= gcut[sel, oi])
                                gb_tile[oi, sel] *= np.where(inside, f1, 1.0)
                        cidx[_GB, j, sel] = i1
        for j, t in enumerate(self.tables):
            ti = t.lookup(cidx[:, j])
            fallback = self.allowed[j][np.argmin(t.f[:, self.allowed[j]].prod(axis=0))]
            G[:, j] = np.where(ti >= 0, ti, fallback)
        return G

    def _spill_free_orders(self, G: np.ndarray) -> np.ndarray:
        """Orders and output cut under which no partial sum spills, where the genes are free: above the innermost
        output cut every reduction loop must lie inside every output-indexing temporal loop. So reduction dims
        come last in the DRAM and GB orders and first in the RF order, the output's RF cut sits above the RF's
        output-indexing loops, and (in :meth:`_propose`) reduction dims take no DRAM-level factor. The exact
        check follows in :meth:`valid`."""
        D = self.D
        G = G.copy()
        red = np.array([d in REDUCTION_DIMS for d in self.active_names])
        for lv, key in ((0, red), (1, red), (2, ~red)):
            gene = self.g_perm + lv
            if len(self.allowed[gene]) != len(self.perms):
                continue  # a dataflow fixes this order
            perm = self.perms[G[:, gene]]
            perm = np.take_along_axis(perm, np.argsort(key[perm], axis=1, kind="stable"), axis=1)
            G[:, gene] = _perm_rank(perm)
        gene = self.g_rf + 2
        if len(self.allowed[gene]) == D + 2:
            G[:, gene] = np.where(G[:, gene] == self.bypass, self.bypass, np.minimum(G[:, gene], int(red.sum())))
        return G

    def _draw(
        self,
        j: int,
        s: int,
        cap: np.ndarray,
        rng: np.random.Generator,
        log: bool = False,
        rem: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A factor <= ``cap`` from the allowed values of slot ``s`` of dim ``j`` (``log``: the largest that fits
        with probability :data:`FILL`, else log-uniform; spatial slots: half uniform, half the largest that fits),
        and its index in the slot's candidate list.

        With ``rem`` (what the slots outside still have to cover), mostly *balanced*: the smallest factor with the
        same trip count, ``ceil(rem / ceil(rem / f))`` (64 over at most 12 PEs: 11, not 12 -- six passes either
        way, one PE and some padding saved)."""
        vals = self._slot_vals[j][s]
        cap = np.maximum(cap, 1.0)
        m = len(cap)
        if log:
            want = np.where(rng.random(m) < FILL, cap, np.exp(rng.random(m) * np.log(cap + 1.0)))
        else:
            want = np.where(rng.random(m) < 0.5, rng.random(m) * cap + 1.0, cap)
        want = np.minimum(np.floor(want), cap)
        if rem is not None:
            balanced = np.ceil(rem / np.ceil(rem / np.maximum(want, 1.0)))
            want = np.where(rng.random(m) < BALANCE, np.minimum(balanced, want), want)
        k = np.clip(np.searchsorted(vals, want, side="right") - 1, 0, len(vals) - 1)
        f = vals[k]
        return f.astype(np.float64), np.searchsorted(self.tables[j].cands[s], f)

    def sample(self, n: int, rng: np.random.Generator, max_tries: int | None = None) -> np.ndarray:
        """``(m, genome_size)`` valid genomes, ``m <= n`` (``m < n`` only if ``max_tries`` proposals do not yield
        ``n``). Built to meet fan-out and roughly capacity, then judged by the cost model; the fraction of proposals
        that were valid is left in :attr:`acceptance_rate`."""
        max_tries = max(200 * n, 100_000) if max_tries is None else max_tries
        kept, got, tried, found = [], 0, 0, 0
        rate = 0.1
        while got < n and tried < max_tries:
            m = int(min(max((n - got) / max(rate, 1e-3) * 1.2, 256), 1 << 15, max_tries - tried))
            G = self._propose(m, rng)
            ok = self.valid(G)
            # Repair: double buffering halves capacity; where that alone broke a proposal, single-buffer it.
            redo = np.flatnonzero(~ok & (G[:, self.g_dbuf : self.g_dbuf + 2] > 0).any(axis=1))
            if len(redo) and self._mask[self.g_dbuf][0] and self._mask[self.g_dbuf + 1][0]:
                fix = G[redo].copy()
                fix[:, self.g_dbuf : self.g_dbuf + 2] = 0
                good = self.valid(fix)
                G[redo[good]] = fix[good]
                ok[redo[good]] = True
            tried += m
            found += int(ok.sum())
            rate = max(found / tried, 1e-4)
            kept.append(self.canonical(G[ok][: n - got]))
            got += len(kept[-1])
        self.acceptance_rate = found / tried if tried else 0.0
        return np.concatenate(kept) if kept else np.zeros((0, self.genome_size), np.int64)

    def canonical(self, genomes: np.ndarray) -> np.ndarray:
        """The canonical genome of each genome's mapping: loop orders and cut offsets only matter among loops of
        factor > 1, so each free level order puts its factor-1 dims first (in canonical order) and each free cut
        takes the smallest offset that leaves the same loops in the tile. Equal mappings then have equal genomes
        (strategies that never repeat a genome never repeat a mapping), and features do not see factor-1 loops.
        GB-level loops above every GB cut decode like DRAM-level loops, so they move to the DRAM level; an order a
        dataflow restricts takes its first allowed equivalent. ``decode(canonical(g)) == decode(g)``."""
        G = np.array(genomes, np.int64).reshape(-1, self.genome_size)
        n, D = len(G), self.D
        if n == 0:
            return G
        G = self._fold_into_dram(G)
        if D == 1:
            return G
        F = self._factors(G)
        cols = np.arange(n)
        nperm = len(self.perms)
        for lv, slot in ((0, 0), (1, 1), (2, 4)):
            gene = self.g_perm + lv
            cut_genes = [] if lv == 0 else [self.g_gb + 3 * (lv - 1) + oi for oi in range(3)]
            free_cuts = [g for g in cut_genes if len(self.allowed[g]) == D + 2]
            fixed_ok = all(set(self.allowed[g].tolist()) <= {0, self.bypass} for g in cut_genes if g not in free_cuts)
            if len(self.allowed[gene]) != nperm or not fixed_ok:
                if 1 < len(self.allowed[gene]) <= 64:
                    G[:, gene] = self._first_equivalent_order(G, F, lv, slot, cut_genes)
                continue
            perm = self.perms[G[:, gene]]  # (n, D): dim at each position
            real = F[slot].T[cols[:, None], perm] > 1  # (n, D): position holds a loop of factor > 1
            key = np.where(real, D + np.arange(D)[None, :], perm)  # factor-1 dims first by dim, then real loops
            G[:, gene] = _perm_rank(np.take_along_axis(perm, np.argsort(key, axis=1), axis=1))
            before = np.zeros((n, D + 1), np.int64)
            np.cumsum(real, axis=1, out=before[:, 1:])  # real loops above each offset
            n_absent = D - before[:, D]
            for g in free_cuts:
                o = G[:, g]
                k = before[cols, np.minimum(o, D)]
                G[:, g] = np.where(o == self.bypass, o, np.where(k > 0, n_absent + k, 0))
        return G

    def _fold_into_dram(self, G: np.ndarray) -> np.ndarray:
        """A GB-level loop above every GB cut decodes like a DRAM-level loop placed after the real DRAM loops:
        move it there (when its dim has no DRAM loop and the move keeps the factor exact), so that one mapping
        has one canonical genome. Only where the space leaves both orders and the factor tuple free."""
        n, D = len(G), self.D
        nperm = len(self.perms)
        g0, g1 = self.g_perm, self.g_perm + 1
        if len(self.allowed[g0]) != nperm or len(self.allowed[g1]) != nperm or not self._gb_used:
            return G
        cuts = G[:, self.g_gb : self.g_gb + 3]
        top = np.where(cuts == self.bypass, D, cuts).min(axis=1)  # loops of the GB level above every GB cut
        F = self._factors(G)
        cols = np.arange(n)
        perm1 = self.perms[G[:, g1]]
        inv1 = np.empty_like(perm1)
        np.put_along_axis(inv1, perm1, np.arange(D)[None, :], axis=1)
        movable = np.zeros((n, D), bool)
        target = G[:, :D].copy()
        for j, t in enumerate(self.tables):
            gb, outer = F[1, j], F[0, j]
            cand = (inv1[:, j] < top) & (gb > 1) & (outer == 1)
            if not cand.any():
                continue
            idx = t.idx[:, G[:, j]].astype(np.int64)
            idx[_GB] = 0
            ti = t.lookup(idx)
            ok = cand & (ti >= 0) & self._mask[j][np.maximum(ti, 0)]
            ok &= t.outer[np.maximum(ti, 0)] == gb  # the DRAM loop gets exactly the GB factor
            movable[:, j] = ok
            target[:, j] = ti
        if not movable.any():
            return G
        # Only the leading run of the GB level's real loops may move: moving a later one past a loop that stays
        # would reorder the nest.
        moved = np.zeros((n, D), bool)
        blocked = np.zeros(n, bool)
        for p in range(D):
            j = perm1[:, p]
            real = F[1, j, cols] > 1
            can = movable[cols, j] & ~blocked
            moved[cols, j] = can
            blocked |= real & ~can
        out = G.copy()
        out[:, :D] = np.where(moved, target, G[:, :D])
        if not moved.any():
            return G
        rows = moved.any(axis=1)
        perm0 = self.perms[G[:, g0]]
        inv0 = np.empty_like(perm0)
        np.put_along_axis(inv0, perm0, np.arange(D)[None, :], axis=1)
        real0 = F[0].T > 1  # (n, D) by dim
        # DRAM order: factor-1 dims, then the real DRAM loops in their order, then the moved loops in GB order.
        key = np.where(real0, D + inv0, np.where(moved, 2 * D + inv1, np.arange(D)[None, :]))
        new0 = np.argsort(key, axis=1)
        out[rows, g0] = _perm_rank(new0[rows])
        return out

    def _first_equivalent_order(
        self, G: np.ndarray, F: np.ndarray, lv: int, slot: int, cut_genes: list[int]
    ) -> np.ndarray:
        """For a level whose orders a dataflow restricts: the first allowed order that keeps the loops of factor
        > 1 in the same relative order and every cut holding the same ones (e.g. row-stationary's RF with C or R
        of factor 1)."""
        n, D = len(G), self.D
        cols = np.arange(n)[:, None]
        gene = self.g_perm + lv
        big = F[slot].T > 1  # (n, D) by dim
        inv_old = np.empty((n, D), np.int64)
        np.put_along_axis(inv_old, self.perms[G[:, gene]], np.arange(D)[None, :], axis=1)  # position of each dim
        cuts = [G[:, g] for g in cut_genes]

        def signature(pos: np.ndarray) -> list[np.ndarray]:
            """Rank of each real dim among real dims, and for each cut which real dims lie inside it."""
            rank = np.where(big, (big[cols, np.argsort(pos, axis=1)].cumsum(axis=1) - 1)[cols, pos], -1)
            return [rank] + [np.where(big, pos >= c[:, None], False) for c in cuts]

        want = signature(inv_old)
        best = G[:, gene].copy()
        found = np.zeros(n, bool)
        for p in self.allowed[gene]:
            inv = np.empty(D, np.int64)
            inv[self.perms[p]] = np.arange(D)
            got = signature(np.broadcast_to(inv, (n, D)))
            ok = ~found & np.all([np.all(a == b, axis=1) for a, b in zip(want, got)], axis=0)
            best[ok], found[ok] = p, True
        return best

    # ----------------------------------------------------------------------------------------------------------
    # Local moves.

    def _move(self, G: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One random small move per row over the genes the space leaves free (may break a constraint; the
        caller checks): move a factor between two slots of a dim, swap two loops of factor > 1 in a level, shift a
        cut by one position (bypass is one past the innermost), or toggle double buffering."""
        n, D = G.shape[0], self.D
        out = G.copy()
        free = lambda genes: [g for g in genes if len(self.allowed[g]) > 1]  # noqa: E731
        groups = [
            free(range(D)),
            free(range(self.g_perm, self.g_perm + 3)) if D > 1 else [],
            free(range(self.g_gb, self.g_gb + 6)),
            free(range(self.g_dbuf, self.g_dbuf + 2)),
        ]
        weight = np.array([0.4, 0.3, 0.2, 0.1]) * np.array([len(g) > 0 for g in groups])
        if not weight.any():
            return out
        what = rng.choice(4, size=n, p=weight / weight.sum())
        pick = lambda genes, m: np.array(genes, np.int64)[rng.integers(0, len(genes), m)]  # noqa: E731
        # Factor: one candidate step down at one slot, up at another (slot 0, DRAM, absorbs it through the ceil);
        # only slots the space leaves free.
        sel = np.flatnonzero(what == 0)
        dims = pick(groups[0], len(sel)) if len(sel) else np.zeros(0, np.int64)
        for j in np.unique(dims):
            t, rows = self.tables[j], sel[dims == j]
            slots = [0] + [s + 1 for s in range(4) if len(self._slot_vals[j][s]) > 1]
            m = len(rows)
            a = rng.integers(0, len(slots), m)
            b = (a + rng.integers(1, max(len(slots), 2), m)) % len(slots)
            src, dst = np.array(slots)[a], np.array(slots)[b]
            idx = t.idx[:, G[rows, j]].astype(np.int64)
            r = np.arange(m)
            for slot, step in ((src, -1), (dst, +1)):
                inner = slot > 0
                idx[np.maximum(slot - 1, 0)[inner], r[inner]] += step
            ti = t.lookup(idx)
            out[rows, j] = np.where(ti >= 0, ti, G[rows, j])
        # Swap two loops of factor > 1 in one temporal level (swapping factor-1 loops changes nothing).
        sel = np.flatnonzero(what == 1)
        if len(sel):
            gene = pick(groups[1], len(sel))
            lv = gene - self.g_perm
            perm = self.perms[G[sel, gene]].copy()
            F = self._factors(G[sel])
            m, r = len(sel), np.arange(len(sel))
            slot = np.array([0, 1, 4])[lv]
            real = F[slot, perm.T, r].T > 1  # (m, D) by position
            noise = rng.random((m, D))
            a = np.argmax(np.where(real, noise, -1.0), axis=1)
            rest = real.copy()
            rest[r, a] = False
            b = np.where(rest.any(axis=1), np.argmax(np.where(rest, noise, -1.0), axis=1), (a + 1) % D)
            perm[r, a], perm[r, b] = perm[r, b], perm[r, a]
            out[sel, gene] = _perm_rank(perm)
        # Shift one cut by one position.
        sel = np.flatnonzero(what == 2)
        if len(sel):
            gene = pick(groups[2], len(sel))
            out[sel, gene] = np.clip(G[sel, gene] + rng.choice([-1, 1], len(sel)), 0, self.bypass)
        # Toggle double buffering of one level.
        sel = np.flatnonzero(what == 3)
        if len(sel):
            gene = pick(groups[3], len(sel))
            out[sel, gene] = 1 - G[sel, gene]
        return out

    def neighbors(self, genomes: np.ndarray, rng: np.random.Generator, rounds: int = 8) -> np.ndarray:
        """One small valid move from each genome: move a factor between levels, swap two loops, shift a cut or
        toggle double buffering; rows with no valid move in ``rounds`` tries are resampled."""
        G = np.asarray(genomes, np.int64).reshape(-1, self.genome_size)
        out = G.copy()
        todo = np.arange(len(G))
        for _ in range(rounds):
            if not len(todo):
                break
            cand = self.canonical(self._move(G[todo], rng))
            changed = np.any(cand != self.canonical(G[todo]), axis=1)  # a move among factor-1 loops is none
            ok = changed & self.valid(cand)
            out[todo[ok]] = cand[ok]
            todo = todo[~ok]
        if len(todo):
            rate = self.acceptance_rate  # reports the caller's last sample() call, not this resample
            fresh = self.sample(len(todo), rng)
            self.acceptance_rate = rate
            out[todo[: len(fresh)]] = fresh
        return out

    # ----------------------------------------------------------------------------------------------------------
    # Features.

    def encode(self, genomes: np.ndarray) -> np.ndarray:
        """``(n, 8 D + 18)`` features in [0, 1]: log factor / log bound per dim and slot (dram, gb, rows, cols,
        rf); position of each dim in each temporal level's order; per (level, operand) the cut offset and a bypass
        bit; the two double-buffer bits; and four aggregates a kernel cannot form from the others: the used
        fractions of PE rows and columns, the padding (log of computed over needed iterations, per dim) and the
        temporal slowdown over a full array (log compute cycles x PEs / MACs, over log PEs)."""
        G = np.asarray(genomes, np.int64).reshape(-1, self.genome_size)
        n, D = len(G), self.D
        F = self._factors(G)
        logb = np.log(np.maximum(self.bounds, 2)).astype(np.float64)
        feats = [(np.log(F) / logb[None, :, None]).reshape(5 * D, n).T]
        for lv in range(3):
            perm = self.perms[G[:, self.g_perm + lv]]
            inv = np.empty_like(perm)
            np.put_along_axis(inv, perm, np.arange(D)[None, :], axis=1)
            feats.append(inv / max(D - 1, 1))
        cuts = G[:, self.g_gb : self.g_gb + 6]
        by = cuts == self.bypass
        feats += [np.where(by, 0.0, cuts / max(D, 1)), by.astype(float), G[:, self.g_dbuf :].astype(float)]
        Ff = F.astype(np.float64)
        pes = self.hw.num_pes
        computed = Ff.prod(axis=0)  # (D, n): iterations per dim, padding included
        temporal = (Ff[0] * Ff[1] * Ff[4]).prod(axis=0)
        agg = [
            Ff[2].prod(axis=0) / self.hw.pe_rows,
            Ff[3].prod(axis=0) / self.hw.pe_cols,
            np.log(computed / self.bounds[:, None]).sum(axis=0) / (D * np.log(2.0)),
            np.log(temporal * pes / float(np.prod(self.bounds.astype(np.float64)))) / max(np.log(pes), 1.0),
        ]
        feats.append(np.clip(np.stack(agg, axis=1), 0.0, 1.0))
        return np.concatenate(feats, axis=1)

    @property
    def feature_names(self) -> list[str]:
        names = [f"log_{s}_{d}" for s in FACTOR_SLOTS for d in self.active_names]
        names += [f"order_{lv}_{d}" for lv in ("dram", "gb", "rf") for d in self.active_names]
        names += [f"cut_{lv}_{op}" for lv in ON_CHIP for op in OPERANDS]
        names += [f"bypass_{lv}_{op}" for lv in ON_CHIP for op in OPERANDS]
        return names + ["dbuf_GB", "dbuf_RF", "rows_used", "cols_used", "padding", "slowdown"]

    def tile_features(self, genomes: np.ndarray) -> np.ndarray:
        """``(n, 6)`` log tile size (words) of each operand at the GB and the RF over log of its capacity there
        (0 where bypassed, clipped to [0, 1.5]): how full each buffer is, which a kernel over per-dim factors and
        cut offsets cannot form. Computed from the genome alone (no cost model); the input's P/Q extent is the
        sliding window ``(p - 1) * stride + r``."""
        G = np.asarray(genomes, np.int64).reshape(-1, self.genome_size)
        n, D, hw, wl = len(G), self.D, self.hw, self.workload
        F = self._factors(G).astype(np.float64)
        out = np.zeros((n, 6))
        one = np.ones(n)
        for li, lv in enumerate((1, 2)):  # GB, RF temporal levels
            perm = self.perms[G[:, self.g_perm + lv]]
            pos = np.empty_like(perm)
            np.put_along_axis(pos, perm, np.arange(D)[None, :], axis=1)
            for oi, op in enumerate(OPERANDS):
                cut = G[:, self.g_gb + 3 * li + oi]
                ext = {}
                for j, d in enumerate(self.active_names):
                    inside = np.where(pos[:, j] >= cut, F[lv if lv == 1 else 4, j], 1.0)
                    ext[d] = inside * F[2, j] * F[3, j] * F[4, j] if lv == 1 else inside
                words = one.copy()
                for d in self.active_names:
                    if d in OPERAND_DIMS[op] and not (op == "I" and d in "PQRS"):
                        words = words * ext[d]
                if op == "I":
                    words = words * ((ext.get("P", one) - 1) * wl.stride[0] + ext.get("R", one))
                    words = words * ((ext.get("Q", one) - 1) * wl.stride[1] + ext.get("S", one))
                b = hw.buffer_for(op)
                cap = (b.capacity / hw.word_bytes(op) if b is not None else 1.0) if lv == 1 else hw.rf_words(op)
                frac = np.log(words) / np.log(max(float(cap), 2.0))
                out[:, 3 * li + oi] = np.where(cut == self.bypass, 0.0, np.clip(frac, 0.0, 1.5))
        return out

    def prior_score(self, genomes: np.ndarray) -> np.ndarray:
        """``(n,)`` log of the compute slowdown over a perfect array: computed iterations (padding included) per
        PE over MACs per PE. Known from the genome alone (no cost model); a lower score means fewer idle PEs and
        less padding. Among 5000 samples of ResNet-50's 3x3 conv, the 200 with the lowest score held a mapping in
        the best 0.1 %, so it is a cheap prior for initial designs (rank correlation with log EDP ~0.3)."""
        G = np.asarray(genomes, np.int64).reshape(-1, self.genome_size)
        F = self._factors(G).astype(np.float64)
        temporal = (F[0] * F[1] * F[4]).prod(axis=0)
        return np.log(temporal * self.hw.num_pes / float(np.prod(self.bounds.astype(np.float64))))

    def surrogate_features(self, genomes: np.ndarray) -> np.ndarray:
        """``(n, 5 D + 18)`` compact features for GP surrogates: the log factors per dim and slot, the bypass and
        double-buffer bits, the four aggregates of :meth:`encode`, and :meth:`tile_features`. Loop positions and
        cut offsets are left out: as raw indices they are not smooth in EDP, and with them a GP needs ~70 length
        scales (on ResNet-50 3x3, 200 random points: held-out Spearman 0.53 vs 0.48, and the GP fits ~6x faster)."""
        e = self.encode(genomes)
        D = self.D
        return np.concatenate([e[:, : 5 * D], e[:, 8 * D + 6 :], self.tile_features(genomes)], axis=1)

    # ----------------------------------------------------------------------------------------------------------
    # Inversion.

    def genome_of(self, mapping: Mapping) -> np.ndarray:
        """The (canonical) genome of this space that decodes to ``mapping`` up to factor-1 loops and the order of
        spatial loops (an equivalent mapping); :class:`CodesignError` if the mapping does not fit the template or
        the space."""
        from tvm_codesign.spaces.mapping.genome_of import genome_of

        return self.canonical(genome_of(self, mapping)[None, :])[0]

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


# ---------------------------------------------------------------------------------------------------------------
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
        self.space = space if space is not None else MappingSpace(workload, hw, schedulable_only=bool(schedulable_only))
        self.workload, self.hw = workload, hw
        self.schedulable_only = self.space.schedulable_only if schedulable_only is None else schedulable_only
        self.evaluations = 0

    def __call__(self, genomes: np.ndarray) -> "Outcome":
        # Imported here: the search package pulls in scikit-learn, skopt and xgboost (~1.7 s), which a worker that
        # only samples or decodes mappings does not need.
        from tvm_codesign.search.base import Outcome

        G = np.asarray(genomes, np.int64).reshape(-1, self.space.genome_size)
        inside = self.space.contains(G)
        mb = self.space.decode_batch(np.where(inside[:, None], G, self.space.allowed_min[None, :]))
        res = evaluate(self.workload, self.hw, mb)
        ok = inside & res.valid
        if self.schedulable_only:
            ok &= self.space.schedulable(mb)
        self.evaluations += len(G)
        with np.errstate(divide="ignore"):
            value = np.log(np.where(ok, res.edp, np.inf))
        return Outcome(value=value, feasible=ok, objectives=np.stack([res.energy_pj, res.cycles], axis=1))


__all__ = ["MappingObjective", "MappingSpace"]
