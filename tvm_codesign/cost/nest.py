"""Array machinery of the cost model: per-batch prefix/suffix products over loop slots, tiles and unions.

:class:`Nest` turns a :class:`~tvm_codesign.model.batch.MappingBatch` into the slot-indexed arrays the counting in
:mod:`tvm_codesign.cost.model` gathers from (tile extents per dim, temporal prefix products, the innermost loop indexing
each operand); :func:`tile_words` gives a tile's (or the PEs' union's) size in words. Semantics:
``docs/cost-model.md``.
"""

from __future__ import annotations

import functools

import numpy as np

from tvm_codesign.model.loop_nest import attach_table, indexing_temporal_loops
from tvm_codesign.model.batch import MappingBatch
from tvm_codesign.model.workload import DIMS, OPERAND_DIMS, Workload

_DIM = {d: i for i, d in enumerate(DIMS)}


@functools.lru_cache(maxsize=256)
def touched_rows(P: int, R: int, stride: int, dil: int) -> np.ndarray:
    """``t[p, r]`` = distinct input rows touched by ``p`` output rows and ``r`` filter rows: ``|{i*stride + j*dil}|``.

    Exact for any stride and dilation: a 1x1 stride-2 tile of ``p`` rows touches ``p`` rows, not ``2p - 1``.
    Flattened, ``(P + 1) * (R + 1)``; index 0 is unused.
    """
    t = np.zeros((P + 1, R + 1), np.float64)
    H = (P - 1) * stride + (R - 1) * dil + 1
    for r in range(1, R + 1):
        offs = dil * np.arange(r)
        if stride >= dil * (r - 1) + 1 or dil == 1 and stride <= r:
            # Windows disjoint (count p*r) or contiguous union (count (p-1)*stride + r): closed form.
            p = np.arange(1, P + 1)
            t[1:, r] = p * r if stride >= dil * (r - 1) + 1 else (p - 1) * stride + r
            continue
        cover = np.zeros(H, bool)
        count = 0
        for p in range(1, P + 1):
            idx = (p - 1) * stride + offs
            count += int((~cover[idx]).sum())
            cover[idx] = True
            t[p, r] = count
    t.setflags(write=False)
    return t.ravel()


class Nest:
    """Per-batch arrays derived once from a :class:`MappingBatch`: prefix/suffix products over the slots.

    Everything is computed with Python loops over the ``L`` slots of row vectors ``(B,)``: numpy's accumulate
    along the slot axis of an ``(L, B)`` array is several times slower than ``L`` contiguous row operations.
    """

    def __init__(self, mb: MappingBatch, workload: Workload) -> None:
        L, B = mb.dim.shape
        self.L, self.B = L, B
        self.ar = np.arange(B)
        fac = mb.factor
        self.fac = fac
        # Per-dim extents are below 2**24, exact in float32, which halves the memory traffic of the (L, B) passes.
        # Values above 2**24 are only ever clipped at a bound, so float32 is safe while bounds stay below 2**23.
        ext_t = np.float32 if max(getattr(workload, d) for d in DIMS) < 2**23 else np.float64
        one = ext_t(1.0)
        fm1 = fac.astype(ext_t)
        fm1 -= one  # fm1 * mask + 1: the factor where mask holds, 1 elsewhere
        dim = mb.dim
        kind = mb.kind
        temporal = kind == 0
        big = fac > 1  # loops of factor 1 change nothing: ignore them for refetch and contiguity
        self.temporal, self.big = temporal, big
        self.bounds = np.array([getattr(workload, d) for d in DIMS], np.float64)
        # Prefix product of temporal factors (tpre[j] = product over temporal slots < j), PE-array fan-out.
        # Row by row: (L, B) temporaries would cost more in page faults than they save in loop overhead.
        tpre = np.empty((L + 1, B))
        tpre[0] = 1.0
        rows = np.ones(B)
        cols = np.ones(B)
        for l in range(L):
            fl, kl = fac[l], kind[l]
            np.multiply(tpre[l], np.where(temporal[l], fl, 1), out=tpre[l + 1])
            rows *= np.where(kl == 1, fl, 1)
            cols *= np.where(kl == 2, fl, 1)
        self.tpre = tpre.ravel()
        self.total_temporal = tpre[L]
        self.rows, self.cols = rows, cols
        self.pes = rows * cols
        spatial_big = ~temporal & big
        temporal_big = self.temporal_big = temporal & big
        # Per dim: suffix products (tile extents), total product, spatial product. Dims with no loop of factor > 1
        # anywhere in the batch are constant 1 and skipped.
        self.suf: dict[int, np.ndarray] = {}
        self.sp: dict[int, np.ndarray] = {}
        self.prod = np.ones((len(DIMS), B))
        for d in range(len(DIMS)):
            isd = dim == d
            if not (isd & big).any():
                continue
            fd = fm1 * isd
            fd += one
            suf = np.empty((L + 1, B), ext_t)
            suf[L] = one
            for l in range(L - 1, -1, -1):
                np.multiply(suf[l + 1], fd[l], out=suf[l])
            self.suf[d] = suf.ravel()
            self.prod[d] = suf[0]
            if (isd & spatial_big).any():
                fd -= one
                fd *= spatial_big
                fd += one
                self.sp[d] = np.prod(fd, axis=0).astype(np.float64)
        # bad_pref[d][c]: some temporal loop over d (factor > 1) lies below a spatial loop over d and above slot c,
        # so the PEs' windows over d are not adjacent (see tile_words). Only the input's sliding-window dims with
        # spatial loops need it; they are scanned together, one (k, B) operation per slot.
        self.bad_pref: dict[int, np.ndarray] = {}
        sw = [_DIM[n] for n in ("P", "Q", "R", "S") if _DIM[n] in self.sp]
        if sw:
            isd_k = dim[None] == np.array(sw, dim.dtype)[:, None, None]
            spd_k = isd_k & spatial_big
            tl_k = isd_k & temporal_big
            seen = np.zeros((len(sw), B), bool)
            badp = np.zeros((len(sw), L + 1, B), bool)
            for l in range(L):
                np.logical_or(badp[:, l], tl_k[:, l] & seen, out=badp[:, l + 1])
                seen |= spd_k[:, l]
            for j, d in enumerate(sw):
                self.bad_pref[d] = badp[j].reshape(-1)
        self._mb = mb
        self._lastrel: dict[str, np.ndarray] = {}
        self._dpre: np.ndarray | None = None

    # ----------------------------------------------------------------------------------------------------------
    def flat(self, c: np.ndarray) -> np.ndarray:
        """Flat index of slot-boundary ``c`` (per row) into an ``(L + 1, B)`` array."""
        return c * self.B + self.ar

    def ext(self, d: int, fi: np.ndarray | None) -> np.ndarray | float:
        """Extent of dim ``d`` in the tile ``loops[c:]`` (``fi`` = :meth:`flat` of ``c``; None = innermost, 1)."""
        if d not in self.suf or fi is None:
            return 1.0
        return self.suf[d][fi]  # float32 where exact; promoted to float64 by the arithmetic that uses it

    def spatial(self, d: int) -> np.ndarray | float:
        return self.sp.get(d, 1.0)

    def bad_order(self, d: int, c: np.ndarray | None) -> np.ndarray | bool:
        """Whether a temporal loop over ``d`` sits between the outermost spatial loop over ``d`` and cut ``c``."""
        badp = self.bad_pref.get(d)
        if badp is None:
            return False
        if c is None:
            return badp[self.L * self.B : (self.L + 1) * self.B]
        return badp[self.flat(c)]

    def lastrel(self, op: str) -> np.ndarray:
        """``(L + 1, B)`` flat: 1 + slot of the innermost temporal loop (factor > 1) indexing ``op`` above each cut
        (0 if none): :func:`tvm_codesign.model.loop_nest.attach_table`, the attach point the schedule uses too."""
        if op not in self._lastrel:
            self._lastrel[op] = attach_table(self._mb.dim, self.fac, self._mb.kind, op, self.temporal_big).ravel()
        return self._lastrel[op]

    def fill_events(self, op: str, fi: np.ndarray) -> np.ndarray:
        """Fill events of ``op``'s tile cut at ``c``: temporal product down to the innermost indexing loop above c."""
        j1 = self.lastrel(op)[fi].astype(np.int64)
        return self.tpre[j1 * self.B + self.ar]

    def distinct_outputs(self, fi: np.ndarray) -> np.ndarray:
        """Distinct output tiles over time for a cut: product of O-indexing temporal factors above it."""
        if self._dpre is None:
            rel = indexing_temporal_loops(self._mb.dim, self.fac, self._mb.kind, "O", self.temporal_big)
            dpre = np.empty((self.L + 1, self.B))
            dpre[0] = 1.0
            for l in range(self.L):
                np.multiply(dpre[l], np.where(rel[l], self.fac[l], 1), out=dpre[l + 1])
            self._dpre = dpre.ravel()
        return self._dpre[fi]


def tile_words(nest: Nest, mb: MappingBatch, wl: Workload, op: str, c: np.ndarray | None, union: bool) -> np.ndarray:
    """Words of ``op``'s tile ``loops[c:]`` (``c=None``: a single element); with ``union``, the union over PEs.

    Extents are clipped at the dim's bound (padding is not stored); the input's H and W extents are the exact
    number of rows touched by the sliding window (see :func:`touched_rows`).
    """
    fi = None if c is None else nest.flat(c)
    words: np.ndarray | float = 1.0
    b = nest.bounds

    def ext(d: int) -> np.ndarray | float:
        e = nest.ext(d, fi)
        return e * nest.spatial(d) if union else e

    for dn in OPERAND_DIMS[op]:
        if dn in ("P", "Q", "R", "S") and op == "I":
            continue
        d = _DIM[dn]
        words = words * np.minimum(ext(d), b[d])
    if op == "I":
        for (pn, rn, k) in (("P", "R", 0), ("Q", "S", 1)):
            p, r = _DIM[pn], _DIM[rn]
            P, R = int(b[p]), int(b[r])
            table = touched_rows(P, R, wl.stride[k], wl.dilation[k])
            full = table[P * (R + 1) + R]
            ep, er = nest.ext(p, fi), nest.ext(r, fi)
            if union:
                # Sliding-window overlap is credited between PEs only when their windows are adjacent.
                sp_p, sp_r = nest.spatial(p), nest.spatial(r)
                bad_p, bad_r = nest.bad_order(p, c), nest.bad_order(r, c)
                mult = np.where(bad_p, sp_p, 1.0) * np.where(bad_r, sp_r, 1.0)
                ep = np.where(bad_p, ep, ep * sp_p)
                er = np.where(bad_r, er, er * sp_r)
            else:
                mult = 1.0
            ip = np.minimum(ep, P).astype(np.int64)
            ir = np.minimum(er, R).astype(np.int64)
            words = words * np.minimum(mult * table[ip * (R + 1) + ir], full)
    return np.broadcast_to(np.asarray(words, np.float64), (nest.B,))
