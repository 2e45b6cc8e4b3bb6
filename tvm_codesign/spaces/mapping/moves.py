"""Local moves in a mapping space: one small random change per genome, and the valid neighbours search strategies use.

A move changes one free gene group: a factor moves between two slots of a dim, two loops of factor > 1 swap in a
level, a cut shifts by one position (bypass is one past the innermost), or double buffering toggles.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.spaces.mapping.canonical import canonical
from tvm_codesign.spaces.mapping.genome import AllowedGenes, GenomeCodec, perm_rank
from tvm_codesign.spaces.mapping.sampler import Sample, sample
from tvm_codesign.spaces.mapping.validity import judge


def move(codec: GenomeCodec, genes: AllowedGenes, G: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random small move per row over the genes the space leaves free (may break a constraint; the
    caller checks): move a factor between two slots of a dim, swap two loops of factor > 1 in a level, shift a
    cut by one position (bypass is one past the innermost), or toggle double buffering."""
    n, D = G.shape[0], codec.D
    out = G.copy()
    free = lambda ids: [g for g in ids if genes.is_free(g)]  # noqa: E731
    groups = [
        free(range(D)),
        free(range(codec.g_perm, codec.g_perm + 3)) if D > 1 else [],
        free(range(codec.g_gb, codec.g_gb + 6)),
        free(range(codec.g_dbuf, codec.g_dbuf + 2)),
    ]
    weight = np.array([0.4, 0.3, 0.2, 0.1]) * np.array([len(g) > 0 for g in groups])
    if not weight.any():
        return out
    what = rng.choice(4, size=n, p=weight / weight.sum())
    pick = lambda ids, m: np.array(ids, np.int64)[rng.integers(0, len(ids), m)]  # noqa: E731
    # Factor: one candidate step down at one slot, up at another (slot 0, DRAM, absorbs it through the ceil);
    # only slots the space leaves free.
    sel = np.flatnonzero(what == 0)
    dims = pick(groups[0], len(sel)) if len(sel) else np.zeros(0, np.int64)
    for j in np.unique(dims):
        t, rows = codec.tables[j], sel[dims == j]
        slots = [0] + [s + 1 for s in range(4) if len(genes.slot_values[j][s]) > 1]
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
        lv = gene - codec.g_perm
        perm = codec.perms[G[sel, gene]].copy()
        F = codec.factors(G[sel])
        m, r = len(sel), np.arange(len(sel))
        slot = np.array([0, 1, 4])[lv]
        real = F[slot, perm.T, r].T > 1  # (m, D) by position
        noise = rng.random((m, D))
        a = np.argmax(np.where(real, noise, -1.0), axis=1)
        rest = real.copy()
        rest[r, a] = False
        b = np.where(rest.any(axis=1), np.argmax(np.where(rest, noise, -1.0), axis=1), (a + 1) % D)
        perm[r, a], perm[r, b] = perm[r, b], perm[r, a]
        out[sel, gene] = perm_rank(perm)
    # Shift one cut by one position.
    sel = np.flatnonzero(what == 2)
    if len(sel):
        gene = pick(groups[2], len(sel))
        out[sel, gene] = np.clip(G[sel, gene] + rng.choice([-1, 1], len(sel)), 0, codec.bypass)
    # Toggle double buffering of one level.
    sel = np.flatnonzero(what == 3)
    if len(sel):
        gene = pick(groups[3], len(sel))
        out[sel, gene] = 1 - G[sel, gene]
    return out


def mutate(
    codec: GenomeCodec,
    genes: AllowedGenes,
    genomes: np.ndarray,
    moves: np.ndarray,
    rng: np.random.Generator,
    schedulable_only: bool,
    reset: float = 0.0,
) -> Sample:
    """Each genome after ``moves[i]`` random moves (:func:`move`; then, with probability ``reset`` each, one free
    gene set to a uniformly drawn allowed value as well: a jump), judged once at the end: the valid ones that
    changed, with their cost (``m <= n`` rows; the intermediate steps need not be valid). The acceptance rate is
    the valid share. Cheaper than chained :func:`neighbors` (one cost-model call, no retries) for a search that
    can use fewer children than it asked for."""
    G = np.asarray(genomes, np.int64).reshape(-1, codec.genome_size)
    moves = np.asarray(moves, np.int64).reshape(len(G))
    out = G.copy()
    for step in range(int(moves.max(initial=0))):
        rows = np.flatnonzero(moves > step)
        out[rows] = move(codec, genes, out[rows], rng)
    if reset > 0:
        free = np.array([g for g in range(codec.genome_size) if genes.is_free(g)], np.int64)
        rows = np.flatnonzero(rng.random(len(out)) < reset)
        if len(free) and len(rows):
            gene = free[rng.integers(0, len(free), len(rows))]
            for g in np.unique(gene):
                sel = rows[gene == g]
                out[sel, g] = genes.allowed[g][rng.integers(0, len(genes.allowed[g]), len(sel))]
    cand = canonical(codec, genes, out)
    v = judge(codec, genes, cand, schedulable_only)
    ok = v.ok & np.any(cand != canonical(codec, genes, G), axis=1)
    return Sample(cand[ok], v.energy_pj[ok], v.cycles[ok], float(ok.mean()) if len(ok) else 0.0)


def neighbors(
    codec: GenomeCodec,
    genes: AllowedGenes,
    genomes: np.ndarray,
    rng: np.random.Generator,
    schedulable_only: bool,
    rounds: int = 8,
) -> Sample:
    """One small valid move from each genome, with its cost: move a factor between levels, swap two loops, shift a
    cut or toggle double buffering; rows with no valid move in ``rounds`` tries are resampled (where even that
    runs dry a row keeps its genome, with cost ``nan``). The acceptance rate is that of the moves."""
    G = np.asarray(genomes, np.int64).reshape(-1, codec.genome_size)
    n = len(G)
    out = G.copy()
    energy, cycles = np.full(n, np.nan), np.full(n, np.nan)
    base = canonical(codec, genes, G)
    todo = np.arange(n)
    tried = 0
    for _ in range(rounds):
        if not len(todo):
            break
        cand = canonical(codec, genes, move(codec, genes, G[todo], rng))
        changed = np.any(cand != base[todo], axis=1)  # a move among factor-1 loops is none
        v = judge(codec, genes, cand, schedulable_only)
        ok = changed & v.ok
        tried += len(todo)
        done = todo[ok]
        out[done], energy[done], cycles[done] = cand[ok], v.energy_pj[ok], v.cycles[ok]
        todo = todo[~ok]
    rate = (n - len(todo)) / tried if tried else 0.0
    if len(todo):
        fresh = sample(codec, genes, len(todo), rng, schedulable_only)
        got = len(fresh.genomes)
        out[todo[:got]], energy[todo[:got]], cycles[todo[:got]] = fresh.genomes, fresh.energy_pj, fresh.cycles
    return Sample(out, energy, cycles, rate)


__all__ = ["move", "mutate", "neighbors"]
