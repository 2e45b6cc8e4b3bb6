"""Constructive sampling of valid mapping genomes: proposals built to meet fan-out and (roughly) capacity, then judged.

:func:`propose` draws spatial factors within the PE array and RF and GB factors under approximate capacity
budgets, with a random dim order per sample (orders, cuts and double buffering uniform over the allowed sets);
:func:`sample` keeps the proposals the cost model (and, if asked, the schedulability rule) accepts and returns
their canonical genomes with the acceptance rate.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from tvm_codesign.cost.model import CAPACITY

from tvm_codesign.model.workload import OPERAND_DIMS, OPERANDS, REDUCTION_DIMS
from tvm_codesign.spaces.mapping.canonical import canonical
from tvm_codesign.spaces.mapping.genome import (
    COLS_SLOT, GB_SLOT, RF_SLOT, ROWS_SLOT, AllowedGenes, GenomeCodec, perm_rank,
)
from tvm_codesign.spaces.mapping.validity import Judgement, judge

BALANCE = 0.9  # fraction of sampled factors snapped to the balanced split of what remains
# Fraction of buffer-level (RF, GB) factors drawn as the largest that fits the capacity budget, the rest log-uniform:
# with log-uniform draws alone 99% of samples were DRAM- or GB-bandwidth-bound (tiles too small to reuse data);
# 0.7 halves the best-of-2000 EDP on ResNet-50 convs for half the acceptance rate.
FILL = 0.7
# Fraction of schedulable-only proposals steered away from partial-sum spills (see propose).
SPILL_AVOIDING = 0.5
#: Rounds of :func:`repair` after single-buffering (each halves one factor of an overflowing tile).
REPAIR_ROUNDS = 3
#: Most proposals judged at once (the cost model's temporaries stay cache-sized in chunks below this).
MAX_ROUND = 1 << 15


@dataclasses.dataclass(frozen=True)
class Sample:
    """Valid canonical genomes with their cost (judged once, by the same cost-model call that found them valid).

    Attributes
    ----------
    genomes
        ``(m, genome_size)``.
    energy_pj, cycles
        ``(m,)`` the cost of each.
    acceptance_rate
        Valid proposals (after repair) over proposals.
    """

    genomes: np.ndarray
    energy_pj: np.ndarray
    cycles: np.ndarray
    acceptance_rate: float


def sample(
    codec: GenomeCodec,
    genes: AllowedGenes,
    n: int,
    rng: np.random.Generator,
    schedulable_only: bool,
    max_tries: int | None = None,
    rate_hint: float = 0.3,
) -> Sample:
    """Up to ``n`` valid canonical genomes and their cost (``m < n`` only if ``max_tries`` proposals do not yield
    ``n``). Built to meet fan-out and roughly capacity (:func:`propose`), judged once by the cost model
    (:func:`~tvm_codesign.spaces.mapping.validity.judge`), where a buffer overflows repaired (:func:`repair`).
    Each round proposes what the acceptance rate so far (at first ``rate_hint``) says is needed, so that few
    valid proposals are thrown away."""
    max_tries = max(200 * n, 100_000) if max_tries is None else max_tries
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    got = tried = found = 0
    rate = max(rate_hint, 1e-3)
    while got < n and tried < max_tries:
        m = int(min(max(math.ceil((n - got) / rate * 1.05), 64), MAX_ROUND, max_tries - tried))
        G = propose(codec, genes, m, rng, schedulable_only)
        G, verdict = repair(codec, genes, G, judge(codec, genes, G, schedulable_only), rng, schedulable_only)
        tried += m
        found += int(verdict.ok.sum())
        rate = max(found / tried, 1e-3)
        keep = np.flatnonzero(verdict.ok)[: n - got]
        parts.append((canonical(codec, genes, G[keep]), verdict.energy_pj[keep], verdict.cycles[keep]))
        got += len(keep)
    if not parts:
        return Sample(np.zeros((0, codec.genome_size), np.int64), np.zeros(0), np.zeros(0), 0.0)
    return Sample(*(np.concatenate(p) for p in zip(*parts)), acceptance_rate=found / tried if tried else 0.0)


def repair(
    codec: GenomeCodec,
    genes: AllowedGenes,
    G: np.ndarray,
    verdict: Judgement,
    rng: np.random.Generator,
    schedulable_only: bool,
    rounds: int = REPAIR_ROUNDS,
) -> tuple[np.ndarray, Judgement]:
    """Mend proposals whose tile overflows a buffer, judging only the mended rows again: first single-buffer them
    (double buffering halves capacity), then, up to ``rounds`` times, halve the factor of one loop of that level
    inside the overflowing operand's tile (the DRAM level takes the rest through its ceil). Proposals are built
    against approximate capacity budgets (a shared buffer split evenly, inputs' halos estimated), so without this
    about half of them overflowed the global buffer."""
    ok, reason = verdict.ok.copy(), verdict.reason.copy()
    energy, cycles = verdict.energy_pj.copy(), verdict.cycles.copy()
    G = G.copy()
    single = genes.masks[codec.g_dbuf][0] and genes.masks[codec.g_dbuf + 1][0]
    for r in range(rounds + 1):
        over = ~ok & (reason >= CAPACITY) & (reason < CAPACITY + 6)
        rows = np.flatnonzero(over)
        if not len(rows):
            break
        if r == 0:
            rows = rows[(G[rows, codec.g_dbuf : codec.g_dbuf + 2] > 0).any(axis=1)] if single else rows[:0]
            fix = G[rows]
            fix[:, codec.g_dbuf : codec.g_dbuf + 2] = 0
        else:
            rows, fix = _halve_tile(codec, genes, G[rows], reason[rows] - CAPACITY, rows, rng)
        if not len(rows):
            continue
        v = judge(codec, genes, fix, schedulable_only)
        G[rows], ok[rows], reason[rows], energy[rows], cycles[rows] = fix, v.ok, v.reason, v.energy_pj, v.cycles
    return G, Judgement(ok, reason, energy, cycles)


def _halve_tile(
    codec: GenomeCodec, genes: AllowedGenes, G: np.ndarray, where: np.ndarray, rows: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """For each genome whose operand ``where % 3`` overflows level ``where // 3`` (0 GB, 1 RF): one random loop
    inside that tile over a dim the operand indexes, its factor halved (a GB overflow: a GB-level loop below the
    cut or any RF-level loop; an RF overflow: an RF-level loop below the cut). Returns the rows that had one and
    their mended genomes."""
    n, D = len(G), codec.D
    li, oi = where // 3, where % 3
    r = np.arange(n)
    F = codec.factors(G)  # (5, D, n): dram, gb, rows, cols, rf
    indexes = _operand_indexes(codec)[oi]  # (n, D)
    inside = []
    for lv in (1, 2):  # positions of each dim in the GB and RF orders, and whether it lies below the cut
        perm = codec.perms[G[:, codec.g_perm + lv]]
        pos = np.empty_like(perm)
        np.put_along_axis(pos, perm, np.arange(D)[None, :], axis=1)
        inside.append(pos >= G[r, codec.g_gb + 3 * (lv - 1) + oi][:, None])
    gb_ok = (F[1].T > 1) & indexes & inside[0] & (li == 0)[:, None]
    rf_ok = (F[4].T > 1) & indexes & (inside[1] | (li == 0)[:, None])
    cand = np.concatenate([gb_ok, rf_ok], axis=1)  # (n, 2 D): GB-level loops, then RF-level ones
    has = cand.any(axis=1)
    pick = np.argmax(np.where(cand, rng.random((n, 2 * D)), -1.0), axis=1)
    out = G.copy()
    for j, t in enumerate(codec.tables):
        for s, col in ((GB_SLOT, j), (RF_SLOT, D + j)):
            sel = np.flatnonzero(has & (pick == col))
            if not len(sel):
                continue
            idx = t.idx[:, G[sel, j]].astype(np.int64)
            half = np.maximum(t.cands[s][idx[s]] // 2, 1)
            idx[s] = np.searchsorted(t.cands[s], half, side="right") - 1
            ti = t.lookup(idx)
            fine = ti >= 0
            fine[fine] = genes.masks[j][ti[fine]]
            out[sel[fine], j] = ti[fine]
            has[sel[~fine]] = False
    return rows[has], out[has]


def _operand_indexes(codec: GenomeCodec) -> np.ndarray:
    """``(3, D)`` bool: which active dims each operand indexes."""
    return np.array([[d in OPERAND_DIMS[op] for d in codec.active_names] for op in OPERANDS])


def propose(
    codec: GenomeCodec, genes: AllowedGenes, n: int, rng: np.random.Generator, schedulable_only: bool
) -> np.ndarray:
    """``n`` genomes built to meet fan-out and, approximately, RF and GB capacity (exact check follows)."""
    D, hw, wl = codec.D, codec.hw, codec.workload
    G = genes.uniform(n, rng)  # orders, cuts and double buffering: uniform; factors: below
    # Schedulable only: half of the proposals are steered away from partial-sum spills (most spills over
    # several reduction loops are refused), the other half are drawn as in the free space, so that the spills
    # the schedule takes (one reduction loop, rfactor) are sampled too. Best-of-1500 random search, median of
    # 5 seeds, 9 layers x {eyeriss, vta}: geometric mean EDP 0.98x of all-steered (which samples no spill)
    # and 0.99x of unsteered proposals, at 1.2-3.5x the acceptance of unsteered ones.
    avoid = rng.random(n) < SPILL_AVOIDING if schedulable_only else np.zeros(n, bool)
    G[avoid] = _spill_free_orders(codec, genes, G[avoid])
    dbuf = G[:, codec.g_dbuf : codec.g_dbuf + 2].astype(bool)
    # Steered rows: a reduction dim takes no DRAM-level factor while the output is held on chip (see
    # _spill_free_orders); its GB factor is then forced to what the inner slots leave.
    push = avoid & ((G[:, codec.g_gb + 2] != codec.bypass) | (G[:, codec.g_rf + 2] != codec.bypass))
    red = np.array([d in REDUCTION_DIMS for d in codec.active_names])
    # Position of every active dim in the GB and RF orders.
    pos = {}
    for lv, key in ((1, "gb"), (2, "rf")):
        perm = codec.perms[G[:, codec.g_perm + lv]]
        inv = np.empty_like(perm)
        np.put_along_axis(inv, perm, np.arange(D)[None, :], axis=1)
        pos[key] = inv  # (n, D)
    # Capacity budgets in words. A shared GB buffer is split among the operands it holds here in random shares
    # (an even split would never propose a big output tile beside a small input one).
    gcut = G[:, codec.g_gb : codec.g_gb + 3]
    rcut = G[:, codec.g_rf : codec.g_rf + 3]
    rf_budget = np.empty((3, n))
    gb_budget = np.full((3, n), np.inf)
    for oi, op in enumerate(OPERANDS):
        rf_budget[oi] = np.where(dbuf[:, 1], hw.rf_words(op) // 2, hw.rf_words(op))
    for buf in hw.buffers:
        ops = [OPERANDS.index(o) for o in buf.operands]
        held = np.stack([gcut[:, oi] != codec.bypass for oi in ops])  # (k, n)
        share = rng.random(held.shape) * held + 1e-9
        share /= share.sum(axis=0)
        cap = np.where(dbuf[:, 0], buf.capacity / 2, buf.capacity)
        for i, oi in enumerate(ops):
            gb_budget[oi] = cap * share[i] / hw.word_bytes(OPERANDS[oi])
    # Per-dim footprint weight of each operand (the input's P/Q extent is scaled by the stride: approximate).
    weight = np.zeros((3, D))
    for oi, op in enumerate(OPERANDS):
        for j, name in enumerate(codec.active_names):
            if name in OPERAND_DIMS[op]:
                weight[oi, j] = wl.stride[0] if (op, name) == ("I", "P") else wl.stride[1] if (op, name) == (
                    "I", "Q") else 1
    # Slots a dataflow fixes above 1 (row-stationary's S on the rows, R in the RF) are reserved up front, so
    # that the dims drawn first do not use up the room they need.
    smin = np.array([[float(genes.slot_values[j][s][0]) for s in range(4)] for j in range(D)])  # (D, 4)
    rows_left = np.full(n, hw.pe_rows / smin[:, ROWS_SLOT].prod())
    cols_left = np.full(n, hw.pe_cols / smin[:, COLS_SLOT].prod())
    vt = _value_tables(codec, genes)
    r = np.arange(n)
    inner = np.ones((D, n))  # rows x cols x rf of each dim (all under the GB cut)
    cidx = np.zeros((4, D, n), np.int64)
    # A random dim order per sample (no dim always goes first); each step handles the k-th dim of every row.
    order = np.argsort(rng.random((n, D)), axis=1)
    held_rf = rcut != codec.bypass
    held_gb = gcut != codec.bypass
    rf_tile = np.ones((3, n))
    for k in range(D):  # PE-level slots: rf, rows, cols, within the RF and the array
        j = order[:, k]
        b = codec.bounds[j].astype(np.float64)
        w = weight[:, j]  # (3, n)
        inside_rf = held_rf & (pos["rf"][r, j][:, None] >= rcut)  # (n, 3)
        cap = b.copy()
        for oi in range(3):
            on = w[oi] > 0
            lim = rf_budget[oi] / rf_tile[oi] / np.where(on, w[oi], 1.0)
            cap = np.where(on & inside_rf[:, oi], np.minimum(cap, lim), cap)
        # The GB's budget is left to the GB-level draws and to repair(): capping the PE-level factors by it
        # here made best-of-20000 1.4-1.8x worse on ResNet-50's 3x3 conv and DQN's conv1.
        f2, i2 = vt.draw(RF_SLOT, j, cap, rng, log=True, rem=b)
        room = np.floor(b / f2)
        rl, cl = rows_left * smin[j, ROWS_SLOT], cols_left * smin[j, COLS_SLOT]
        fr, ir = vt.draw(ROWS_SLOT, j, np.minimum(room, rl), rng, rem=np.ceil(b / f2))
        room = np.floor(room / fr)
        fc, ic = vt.draw(COLS_SLOT, j, np.minimum(room, cl), rng, rem=np.ceil(b / (f2 * fr)))
        rows_left, cols_left = np.floor(rl / fr), np.floor(cl / fc)
        inner[j, r] = f2 * fr * fc
        for oi in range(3):
            on = w[oi] > 0
            rf_tile[oi] *= np.where(on & inside_rf[:, oi], f2 * w[oi], 1.0)
        cidx[RF_SLOT, j, r], cidx[ROWS_SLOT, j, r], cidx[COLS_SLOT, j, r] = i2, ir, ic
    # What the spatial and RF loops put in each GB tile (all of them lie below every GB cut).
    gb_tile = np.array([np.prod(np.where(weight[oi][:, None] > 0, inner * weight[oi][:, None], 1), axis=0)
                        for oi in range(3)])
    for k in range(D):  # GB-level slot, within the GB's budget
        j = order[:, k]
        b = codec.bounds[j].astype(np.float64)
        w = weight[:, j]
        inner_j = inner[j, r]
        inside_gb = held_gb & (pos["gb"][r, j][:, None] >= gcut)
        cap = np.floor(b / inner_j)
        for oi in range(3):
            lim = np.maximum(gb_budget[oi] / gb_tile[oi], 1.0)
            cap = np.where((w[oi] > 0) & inside_gb[:, oi], np.minimum(cap, lim), cap)
        rest = np.ceil(b / inner_j)
        f1, i1 = vt.draw(GB_SLOT, j, cap, rng, log=True, rem=rest)
        # Half the time (always for a pushed reduction dim) the GB takes all the rest, padding an imperfect
        # split, so that the DRAM factor is 1 (a closing tuple) -- where that still fits the buffer.
        close = ((rng.random(n) < 0.5) & (rest <= cap)) | (push & red[j])
        at, hit = vt.find(GB_SLOT, j, rest)
        f1 = np.where(close & hit, rest, f1)
        i1 = np.where(close & hit, at, i1)
        for oi in range(3):
            gb_tile[oi] *= np.where((w[oi] > 0) & inside_gb[:, oi], f1, 1.0)
        cidx[GB_SLOT, j, r] = i1
    for j, t in enumerate(codec.tables):
        ti = t.lookup(cidx[:, j])
        fallback = genes.allowed[j][np.argmin(t.f[:, genes.allowed[j]].prod(axis=0))]
        G[:, j] = np.where(ti >= 0, ti, fallback)
    return G


class _ValueTables:
    """Dense lookup tables over ``0..bound`` of the allowed factors of each (slot, dim), so that rows of different
    dims draw their factors with gathers, not a search per row (the sampler's hot path: no Python loop over dims).

    ``floor[s][j * M + v]`` is the flat index (into ``vals[s]``) of the largest allowed factor ``<= v`` (the
    smallest allowed one where none is), ``cand[s][j * M + f]`` the index of factor ``f`` among the slot's
    candidates, ``allowed[s][j * M + f]`` whether ``f`` is allowed; ``M = max bound + 1``.
    """

    def __init__(self, codec: GenomeCodec, genes: AllowedGenes) -> None:
        D = codec.D
        self.M = M = int(codec.bounds.max()) + 1
        self.vals, self.floor, self.cand, self.allowed = [], [], [], []
        for s in range(4):
            vals = [genes.slot_values[j][s].astype(np.int64) for j in range(D)]
            start = np.concatenate([[0], np.cumsum([len(v) for v in vals])[:-1]]).astype(np.int64)
            floor = np.empty(D * M, np.int64)
            cand = np.full(D * M, -1, np.int64)
            allowed = np.zeros(D * M, bool)
            v = np.arange(M)
            for j in range(D):
                k = np.searchsorted(vals[j], v, side="right") - 1
                floor[j * M : (j + 1) * M] = start[j] + np.maximum(k, 0)
                c = codec.tables[j].cands[s]
                cand[j * M + c] = np.arange(len(c))
                allowed[j * M + vals[j]] = True
            self.vals.append(np.concatenate(vals).astype(np.float64))
            self.floor.append(floor)
            self.cand.append(cand)
            self.allowed.append(allowed)

    def draw(
        self, s: int, j: np.ndarray, cap: np.ndarray, rng: np.random.Generator, log: bool = False,
        rem: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row, a factor <= ``cap`` from the allowed values of slot ``s`` of dim ``j`` (``log``: the largest
        that fits with probability :data:`FILL`, else log-uniform; spatial slots: half uniform, half the largest
        that fits), and its index in the slot's candidate list.

        With ``rem`` (what the slots outside still have to cover), mostly *balanced*: the smallest factor with
        the same trip count, ``ceil(rem / ceil(rem / f))`` (64 over at most 12 PEs: 11, not 12 -- six passes
        either way, one PE and some padding saved)."""
        cap = np.maximum(cap, 1.0)
        m = len(cap)
        u = rng.random((3, m))
        if log:
            want = np.where(u[0] < FILL, cap, np.exp(u[1] * np.log(cap + 1.0)))
        else:
            want = np.where(u[0] < 0.5, u[1] * cap + 1.0, cap)
        want = np.minimum(np.floor(want), cap)
        if rem is not None:
            balanced = np.ceil(rem / np.ceil(rem / np.maximum(want, 1.0)))
            want = np.where(u[2] < BALANCE, np.minimum(balanced, want), want)
        base = j * self.M
        f = self.vals[s][self.floor[s][base + np.clip(want, 0, self.M - 1).astype(np.int64)]]
        return f, self.cand[s][base + f.astype(np.int64)]

    def find(self, s: int, j: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the candidate index of factor ``f`` in slot ``s`` of dim ``j``, and whether ``f`` is an
        allowed value there."""
        key = j * self.M + np.clip(f, 0, self.M - 1).astype(np.int64)
        return self.cand[s][key], self.allowed[s][key]


def _value_tables(codec: GenomeCodec, genes: AllowedGenes) -> _ValueTables:
    """The :class:`_ValueTables` of a space, built once and kept on its ``genes``."""
    vt = getattr(genes, "_value_tables", None)
    if vt is None:
        vt = _ValueTables(codec, genes)
        genes._value_tables = vt  # type: ignore[attr-defined]
    return vt


def _spill_free_orders(codec: GenomeCodec, genes: AllowedGenes, G: np.ndarray) -> np.ndarray:
    """Orders and output cut under which no partial sum spills, where the genes are free: above the innermost
    output cut every reduction loop must lie inside every output-indexing temporal loop. So reduction dims
    come last in the DRAM and GB orders and first in the RF order, the output's RF cut sits above the RF's
    output-indexing loops, and (in :func:`propose`) reduction dims take no DRAM-level factor. The exact
    check follows in :func:`~tvm_codesign.spaces.mapping.validity.valid`."""
    D = codec.D
    G = G.copy()
    red = np.array([d in REDUCTION_DIMS for d in codec.active_names])
    for lv, key in ((0, red), (1, red), (2, ~red)):
        gene = codec.g_perm + lv
        if len(genes.allowed[gene]) != len(codec.perms):
            continue  # a dataflow fixes this order
        perm = codec.perms[G[:, gene]]
        perm = np.take_along_axis(perm, np.argsort(key[perm], axis=1, kind="stable"), axis=1)
        G[:, gene] = perm_rank(perm)
    gene = codec.g_rf + 2
    if len(genes.allowed[gene]) == D + 2:
        G[:, gene] = np.where(G[:, gene] == codec.bypass, codec.bypass, np.minimum(G[:, gene], int(red.sum())))
    return G


__all__ = ["BALANCE", "FILL", "MAX_ROUND", "REPAIR_ROUNDS", "SPILL_AVOIDING", "Sample", "propose", "repair", "sample"]
