"""The canonical genome of a mapping: one representative among the genomes that decode to the same mapping.

Decoded mappings drop factor-1 loops, so loop orders and cut offsets only matter among loops of factor > 1, and a
GB-level loop above every GB cut decodes like a DRAM-level one. :func:`canonical` maps every genome to one
representative of its mapping (what sampling, neighbours and ``genome_of`` return), so that strategies that never
repeat a genome never repeat a mapping and features do not see factor-1 loops.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.spaces.mapping.genome import GB_SLOT, AllowedGenes, GenomeCodec, perm_rank


def canonical(codec: GenomeCodec, genes: AllowedGenes, genomes: np.ndarray) -> np.ndarray:
    """The canonical genome of each genome's mapping: loop orders and cut offsets only matter among loops of
    factor > 1, so each free level order puts its factor-1 dims first (in canonical order) and each free cut
    takes the smallest offset that leaves the same loops in the tile. Equal mappings then have equal genomes
    (strategies that never repeat a genome never repeat a mapping), and features do not see factor-1 loops.
    GB-level loops above every GB cut decode like DRAM-level loops, so they move to the DRAM level; an order a
    dataflow restricts takes its first allowed equivalent. ``decode(canonical(g)) == decode(g)``."""
    G = np.array(genomes, np.int64).reshape(-1, codec.genome_size)
    n, D = len(G), codec.D
    if n == 0:
        return G
    G = _fold_into_dram(codec, genes, G)
    if D == 1:
        return G
    F = codec.factors(G)
    cols = np.arange(n)
    nperm = len(codec.perms)
    for lv, slot in ((0, 0), (1, 1), (2, 4)):
        gene = codec.g_perm + lv
        cut_genes = [] if lv == 0 else [codec.g_gb + 3 * (lv - 1) + oi for oi in range(3)]
        free_cuts = [g for g in cut_genes if len(genes.allowed[g]) == D + 2]
        fixed_ok = all(set(genes.allowed[g].tolist()) <= {0, codec.bypass} for g in cut_genes if g not in free_cuts)
        if len(genes.allowed[gene]) != nperm or not fixed_ok:
            if 1 < len(genes.allowed[gene]) <= 64:
                G[:, gene] = _first_equivalent_order(codec, genes, G, F, lv, slot, cut_genes)
            continue
        perm = codec.perms[G[:, gene]]  # (n, D): dim at each position
        real = F[slot].T[cols[:, None], perm] > 1  # (n, D): position holds a loop of factor > 1
        key = np.where(real, D + np.arange(D)[None, :], perm)  # factor-1 dims first by dim, then real loops
        G[:, gene] = perm_rank(np.take_along_axis(perm, np.argsort(key, axis=1), axis=1))
        before = np.zeros((n, D + 1), np.int64)
        np.cumsum(real, axis=1, out=before[:, 1:])  # real loops above each offset
        n_absent = D - before[:, D]
        for g in free_cuts:
            o = G[:, g]
            k = before[cols, np.minimum(o, D)]
            G[:, g] = np.where(o == codec.bypass, o, np.where(k > 0, n_absent + k, 0))
    return G


def _fold_into_dram(codec: GenomeCodec, genes: AllowedGenes, G: np.ndarray) -> np.ndarray:
    """A GB-level loop above every GB cut decodes like a DRAM-level loop placed after the real DRAM loops:
    move it there (when its dim has no DRAM loop and the move keeps the factor exact), so that one mapping
    has one canonical genome. Only where the space leaves both orders and the factor tuple free."""
    n, D = len(G), codec.D
    nperm = len(codec.perms)
    g0, g1 = codec.g_perm, codec.g_perm + 1
    if len(genes.allowed[g0]) != nperm or len(genes.allowed[g1]) != nperm or not codec.gb_used:
        return G
    cuts = G[:, codec.g_gb : codec.g_gb + 3]
    top = np.where(cuts == codec.bypass, D, cuts).min(axis=1)  # loops of the GB level above every GB cut
    F = codec.factors(G)
    cols = np.arange(n)
    perm1 = codec.perms[G[:, g1]]
    inv1 = np.empty_like(perm1)
    np.put_along_axis(inv1, perm1, np.arange(D)[None, :], axis=1)
    movable = np.zeros((n, D), bool)
    target = G[:, :D].copy()
    for j, t in enumerate(codec.tables):
        gb, outer = F[1, j], F[0, j]
        cand = (inv1[:, j] < top) & (gb > 1) & (outer == 1)
        if not cand.any():
            continue
        idx = t.idx[:, G[:, j]].astype(np.int64)
        idx[GB_SLOT] = 0
        ti = t.lookup(idx)
        ok = cand & (ti >= 0) & genes.masks[j][np.maximum(ti, 0)]
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
    perm0 = codec.perms[G[:, g0]]
    inv0 = np.empty_like(perm0)
    np.put_along_axis(inv0, perm0, np.arange(D)[None, :], axis=1)
    real0 = F[0].T > 1  # (n, D) by dim
    # DRAM order: factor-1 dims, then the real DRAM loops in their order, then the moved loops in GB order.
    key = np.where(real0, D + inv0, np.where(moved, 2 * D + inv1, np.arange(D)[None, :]))
    new0 = np.argsort(key, axis=1)
    out[rows, g0] = perm_rank(new0[rows])
    return out


def _first_equivalent_order(
    codec: GenomeCodec, genes: AllowedGenes, G: np.ndarray, F: np.ndarray, lv: int, slot: int, cut_genes: list[int]
) -> np.ndarray:
    """For a level whose orders a dataflow restricts: the first allowed order that keeps the loops of factor
    > 1 in the same relative order and every cut holding the same ones (e.g. row-stationary's RF with C or R
    of factor 1)."""
    n, D = len(G), codec.D
    cols = np.arange(n)[:, None]
    gene = codec.g_perm + lv
    big = F[slot].T > 1  # (n, D) by dim
    inv_old = np.empty((n, D), np.int64)
    np.put_along_axis(inv_old, codec.perms[G[:, gene]], np.arange(D)[None, :], axis=1)  # position of each dim
    cuts = [G[:, g] for g in cut_genes]

    def signature(pos: np.ndarray) -> list[np.ndarray]:
        """Rank of each real dim among real dims, and for each cut which real dims lie inside it."""
        rank = np.where(big, (big[cols, np.argsort(pos, axis=1)].cumsum(axis=1) - 1)[cols, pos], -1)
        return [rank] + [np.where(big, pos >= c[:, None], False) for c in cuts]

    want = signature(inv_old)
    best = G[:, gene].copy()
    found = np.zeros(n, bool)
    for p in genes.allowed[gene]:
        inv = np.empty(D, np.int64)
        inv[codec.perms[p]] = np.arange(D)
        got = signature(np.broadcast_to(inv, (n, D)))
        ok = ~found & np.all([np.all(a == b, axis=1) for a, b in zip(want, got)], axis=0)
        best[ok], found[ok] = p, True
    return best


__all__ = ["canonical"]
