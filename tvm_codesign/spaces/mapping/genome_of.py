"""Inverse of :meth:`MappingSpace.decode <tvm_codesign.spaces.mapping.space.MappingSpace.decode>`: a mapping's genome.

Kept apart from the space because it is plain Python over one mapping (not a hot path): it reads the nest back
into the template (DRAM-level loops above the outermost GB cut, GB-level loops down to the spatial ones, RF-level
loops below them), then picks, among the loop orders and cut offsets that give the same nest up to factor-1
loops, one that the space allows (a dataflow may fix them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.mapping import ON_CHIP, Mapping
from tvm_codesign.model.workload import OPERANDS

if TYPE_CHECKING:  # pragma: no cover
    from tvm_codesign.spaces.mapping.space import MappingSpace

_MAX_PERM_SCAN = 5040


def genome_of(space: "MappingSpace", mapping: Mapping) -> np.ndarray:
    """See :meth:`MappingSpace.genome_of`."""
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
        top = min(held_gb, default=above_end) if space._gb_used else above_end
        for gb_start in range(min(top, above_end), -1, -1):
            try:
                return _genome(space, mapping, loops, cuts, gb_start, above_end, rf_start)
            except CodesignError as err:
                last = err
    assert last is not None
    raise last


def _genome(
    space: "MappingSpace", mapping: Mapping, loops: list, cuts: list, gb_start: int, above_end: int, rf_start: int
) -> np.ndarray:
    levels = (loops[:gb_start], loops[gb_start:above_end], loops[rf_start:])
    names = space.active_names
    D = space.D
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
    genome = np.zeros(space.genome_size, np.int64)
    for j, t in enumerate(space.tables):
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
        perm_gene, cut_genes = _place_level(space, lv, order[lv], level_cuts)
        genome[space.g_perm + lv] = perm_gene
        if lv > 0:
            base = space.g_gb + 3 * (lv - 1)
            for oi in range(len(OPERANDS)):
                genome[base + oi] = cut_genes.get(oi, space.bypass)
    for li in range(len(ON_CHIP)):
        genome[space.g_dbuf + li] = int(mapping.double_buffered[li])
    if not space.contains(genome[None])[0]:
        bad = [g for g in range(space.genome_size) if not space._mask[g][genome[g]]]
        raise CodesignError(f"mapping is outside this space (genes {bad} not allowed, e.g. by the dataflow)")
    return genome


def _place_level(space: "MappingSpace", lv: int, real: list[int], cuts: dict[int, int]) -> tuple[int, dict[int, int]]:
    """A loop order (perm index) and cut offsets of one temporal level that the space allows and that keep the
    real (factor > 1) loops in ``real`` order with each cut after the same number of them."""
    D = space.D
    allowed_perm = space.allowed[space.g_perm + lv]
    canonical = [j for j in range(D) if j not in real] + real
    first = int(np.flatnonzero(np.all(space.perms == np.array(canonical), axis=1))[0])
    candidates = [first]
    if len(allowed_perm) <= _MAX_PERM_SCAN:
        candidates += [int(p) for p in allowed_perm if p != first]
    for p in candidates:
        if not space._mask[space.g_perm + lv][p]:
            continue
        inv = np.empty(D, int)
        inv[space.perms[p]] = np.arange(D)
        pos = [int(inv[j]) for j in real]
        if any(a >= b for a, b in zip(pos, pos[1:])):
            continue
        out: dict[int, int] = {}
        for oi, k in cuts.items():
            if not 0 <= k <= len(real):
                raise CodesignError("not in the mapping template: a cut lies outside its level's loops")
            lo = pos[k - 1] + 1 if k > 0 else 0
            hi = pos[k] if k < len(real) else D
            vals = space.allowed[space.g_gb + 3 * (lv - 1) + oi]
            ok = vals[(vals >= lo) & (vals <= hi)]
            if not len(ok):
                break
            out[oi] = int(ok[0])
        else:
            return p, out
    raise CodesignError(f"no loop order and cuts of level {('DRAM', 'GB', 'RF')[lv]} in this space give the mapping's")


__all__ = ["genome_of"]
