"""Constructive sampling of valid mapping genomes: proposals built to meet fan-out and (roughly) capacity, then judged.

:func:`propose` draws spatial factors within the PE array and RF and GB factors under approximate capacity
budgets, with a random dim order per sample (orders, cuts and double buffering uniform over the allowed sets);
:func:`sample` keeps the proposals the cost model (and, if asked, the schedulability rule) accepts and returns
their canonical genomes with the acceptance rate.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.model.workload import OPERAND_DIMS, OPERANDS, REDUCTION_DIMS
from tvm_codesign.spaces.mapping.canonical import canonical
from tvm_codesign.spaces.mapping.genome import (
    COLS_SLOT, GB_SLOT, RF_SLOT, ROWS_SLOT, AllowedGenes, GenomeCodec, perm_rank,
)
from tvm_codesign.spaces.mapping.validity import valid

BALANCE = 0.9  # fraction of sampled factors snapped to the balanced split of what remains
# Fraction of buffer-level (RF, GB) factors drawn as the largest that fits the capacity budget, the rest log-uniform:
# with log-uniform draws alone 99% of samples were DRAM- or GB-bandwidth-bound (tiles too small to reuse data);
# 0.7 halves the best-of-2000 EDP on ResNet-50 convs for half the acceptance rate.
FILL = 0.7
# Fraction of schedulable-only proposals steered away from partial-sum spills (see propose).
SPILL_AVOIDING = 0.5


def sample(
    codec: GenomeCodec,
    genes: AllowedGenes,
    n: int,
    rng: np.random.Generator,
    schedulable_only: bool,
    max_tries: int | None = None,
) -> tuple[np.ndarray, float]:
    """``(m, genome_size)`` valid canonical genomes, ``m <= n`` (``m < n`` only if ``max_tries`` proposals do not
    yield ``n``), and the fraction of proposals that were valid. Built to meet fan-out and roughly capacity
    (:func:`propose`), then judged by :func:`~tvm_codesign.spaces.mapping.validity.valid`."""
    max_tries = max(200 * n, 100_000) if max_tries is None else max_tries
    kept, got, tried, found = [], 0, 0, 0
    rate = 0.1
    while got < n and tried < max_tries:
        m = int(min(max((n - got) / max(rate, 1e-3) * 1.2, 256), 1 << 15, max_tries - tried))
        G = propose(codec, genes, m, rng, schedulable_only)
        ok = valid(codec, genes, G, schedulable_only)
        # Repair: double buffering halves capacity; where that alone broke a proposal, single-buffer it.
        redo = np.flatnonzero(~ok & (G[:, codec.g_dbuf : codec.g_dbuf + 2] > 0).any(axis=1))
        if len(redo) and genes.masks[codec.g_dbuf][0] and genes.masks[codec.g_dbuf + 1][0]:
            fix = G[redo].copy()
            fix[:, codec.g_dbuf : codec.g_dbuf + 2] = 0
            good = valid(codec, genes, fix, schedulable_only)
            G[redo[good]] = fix[good]
            ok[redo[good]] = True
        tried += m
        found += int(ok.sum())
        rate = max(found / tried, 1e-4)
        kept.append(canonical(codec, genes, G[ok][: n - got]))
        got += len(kept[-1])
    genomes = np.concatenate(kept) if kept else np.zeros((0, codec.genome_size), np.int64)
    return genomes, found / tried if tried else 0.0


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
    # Capacity budgets in words; a shared GB buffer is split evenly among the operands it holds here.
    gcut = G[:, codec.g_gb : codec.g_gb + 3]
    rcut = G[:, codec.g_rf : codec.g_rf + 3]
    rf_budget = np.empty((3, n))
    gb_budget = np.empty((3, n))
    for oi, op in enumerate(OPERANDS):
        rf_budget[oi] = np.where(dbuf[:, 1], hw.rf_words(op) // 2, hw.rf_words(op))
        b = hw.buffer_for(op)
        if b is None:
            gb_budget[oi] = np.inf
            continue
        sharers = sum((gcut[:, OPERANDS.index(o)] != codec.bypass) for o in b.operands)
        cap = np.where(dbuf[:, 0], b.capacity / 2, b.capacity) / np.maximum(sharers, 1)
        gb_budget[oi] = cap / hw.word_bytes(op)
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
                b = float(codec.bounds[j])
                if step == 0:
                    room = np.full(len(sel), b)
                    # RF: the operands that hold this dim's RF loop inside their RF tile limit it.
                    cap = room.copy()
                    for oi in range(3):
                        if weight[oi, j] == 0:
                            continue
                        held = rcut[sel, oi] != codec.bypass
                        inside = held & (pos["rf"][sel, j] >= rcut[sel, oi])
                        lim = rf_budget[oi, sel] / rf_tile[oi, sel] / weight[oi, j]
                        cap = np.where(inside, np.minimum(cap, lim), cap)
                    f2, i2 = _draw(codec, genes, j, RF_SLOT, cap, rng, log=True, rem=np.full(len(sel), b))
                    room = np.floor(room / f2)
                    rl, cl = rows_left[sel] * smin[j, ROWS_SLOT], cols_left[sel] * smin[j, COLS_SLOT]
                    fr, ir = _draw(codec, genes, j, ROWS_SLOT, np.minimum(room, rl), rng, rem=np.ceil(b / f2))
                    room = np.floor(room / fr)
                    fc, ic = _draw(codec, genes, j, COLS_SLOT, np.minimum(room, cl), rng, rem=np.ceil(b / (f2 * fr)))
                    rows_left[sel] = np.floor(rl / fr)
                    cols_left[sel] = np.floor(cl / fc)
                    inner[j, sel] = f2 * fr * fc
                    for oi in range(3):
                        if weight[oi, j]:
                            inside = (rcut[sel, oi] != codec.bypass) & (pos["rf"][sel, j] >= rcut[sel, oi])
                            rf_tile[oi, sel] *= np.where(inside, f2 * weight[oi, j], 1.0)
                    cidx[RF_SLOT, j, sel], cidx[ROWS_SLOT, j, sel], cidx[COLS_SLOT, j, sel] = i2, ir, ic
                else:
                    cap = np.floor(b / inner[j, sel])
                    for oi in range(3):
                        if weight[oi, j] == 0:
                            continue
                        inside = (gcut[sel, oi] != codec.bypass) & (pos["gb"][sel, j] >= gcut[sel, oi])
                        lim = gb_budget[oi, sel] / gb_tile[oi, sel]
                        cap = np.where(inside, np.minimum(cap, np.maximum(lim, 1.0)), cap)
                    f1, i1 = _draw(codec, genes, j, GB_SLOT, cap, rng, log=True, rem=np.ceil(b / inner[j, sel]))
                    # Half the time (always for a pushed reduction dim) the GB takes all the rest, padding an
                    # imperfect split, so that the DRAM factor is 1: ceil(b / inner), a closing tuple.
                    close = (rng.random(len(sel)) < 0.5) | (push[sel] & red[j])
                    if close.any():
                        vals = genes.slot_values[j][GB_SLOT]
                        want = -(-b // inner[j, sel])
                        at = np.minimum(np.searchsorted(vals, want), len(vals) - 1)
                        f1 = np.where(close & (vals[at] == want), vals[at], f1).astype(np.float64)
                        i1 = np.searchsorted(codec.tables[j].cands[GB_SLOT], f1)
                    for oi in range(3):
                        if weight[oi, j]:
                            inside = (gcut[sel, oi] != codec.bypass) & (pos["gb"][sel, j] >= gcut[sel, oi])
                            gb_tile[oi, sel] *= np.where(inside, f1, 1.0)
                    cidx[GB_SLOT, j, sel] = i1
    for j, t in enumerate(codec.tables):
        ti = t.lookup(cidx[:, j])
        fallback = genes.allowed[j][np.argmin(t.f[:, genes.allowed[j]].prod(axis=0))]
        G[:, j] = np.where(ti >= 0, ti, fallback)
    return G


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


def _draw(
    codec: GenomeCodec,
    genes: AllowedGenes,
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
    vals = genes.slot_values[j][s]
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
    return f.astype(np.float64), np.searchsorted(codec.tables[j].cands[s], f)


__all__ = ["BALANCE", "FILL", "SPILL_AVOIDING", "propose", "sample"]
