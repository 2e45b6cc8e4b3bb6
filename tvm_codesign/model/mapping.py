"""Mapping: one loop nest plus, per operand and on-chip level, the nest position where that operand's tile is held.

The format is documented in ``docs/mapping-format.md``; the semantics the cost model gives it in
``docs/cost-model.md``. In short::

    loops      outer to inner; each a dim, a factor and a kind (temporal, spatial_rows, spatial_cols)
    placement  {"GB": {"I": pos, "W": pos, "O": pos}, "RF": {...}}: the tile of X at that level is loops[pos:],
               None = X bypasses the level. DRAM always holds everything (position 0).
    double_buffered  {"GB": bool, "RF": bool}

Factors may be imperfect (ceil splits): the product of a dim's factors must be >= its bound, and the padded
iterations are computed and counted. That is a property of the (mapping, workload) pair, so it is checked by the
cost model (a reason code), not here; this module checks structure only and imports no hardware.

:class:`MappingBatch` is the struct-of-arrays form :func:`tvm_codesign.cost.model.evaluate` runs on: slot-major arrays
``(L, B)`` so that every loop over the few slots is a vector operation over the whole batch.

Also here: ``Mapping.from_levels`` (Timeloop's even form), ``Mapping.from_timeloop`` / ``Mapping.from_zigzag``
(translators), and :func:`random_batch` / :func:`random_mappings`, a small generator of valid mappings for tests
and benchmarks (the full search space is :mod:`tvm_codesign.spaces.mapping.space`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Iterable, Mapping as MappingT, Sequence

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.workload import DIMS, OPERANDS, Workload

#: Loop kinds. Spatial loops are unrolled over the PE array's rows or columns.
KINDS: tuple[str, ...] = ("temporal", "spatial_rows", "spatial_cols")

#: On-chip levels a placement names, outer to inner (DRAM holds everything and is implicit).
ON_CHIP: tuple[str, ...] = ("GB", "RF")

_KIND_SHORT = {"temporal": "for", "spatial_rows": "spatial_rows for", "spatial_cols": "spatial_cols for"}


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclasses.dataclass(frozen=True)
class Loop:
    """One loop of the nest.

    Parameters
    ----------
    dim
        One of :data:`tvm_codesign.model.workload.DIMS`.
    factor
        Trip count (>= 1).
    kind
        One of :data:`KINDS`.
    """

    dim: str
    factor: int
    kind: str = "temporal"

    def __post_init__(self) -> None:
        if self.dim not in DIMS:
            raise CodesignError(f"loop dim {self.dim!r} is not one of {' '.join(DIMS)}")
        if not _is_int(self.factor) or self.factor < 1:
            raise CodesignError(f"loop over {self.dim}: factor must be a positive integer, got {self.factor!r}")
        object.__setattr__(self, "factor", int(self.factor))
        if self.kind not in KINDS:
            raise CodesignError(f"loop over {self.dim}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def spatial(self) -> bool:
        """Whether the loop is unrolled over the PE array."""
        return self.kind != "temporal"


Placement = tuple[tuple[int | None, ...], ...]


@dataclasses.dataclass(frozen=True)
class Mapping:
    """One mapping of a workload onto the accelerator template (see the module docstring).

    Parameters
    ----------
    loops
        Outer to inner; :class:`Loop` objects or ``(dim, factor[, kind])`` tuples.
    placement
        ``{level: {operand: position or None}}`` for level in :data:`ON_CHIP`; a level left out means every
        operand bypasses it. Stored normalised as a tuple indexed ``[level][operand]`` (see :meth:`cut`).
    double_buffered
        ``{level: bool}``; a level left out is single-buffered. Stored as a tuple in :data:`ON_CHIP` order.
    """

    loops: tuple[Loop, ...]
    placement: Placement
    double_buffered: tuple[bool, ...] = (False, False)

    def __post_init__(self) -> None:
        loops = tuple(l if isinstance(l, Loop) else Loop(*l) for l in self.loops)
        object.__setattr__(self, "loops", loops)
        object.__setattr__(self, "placement", _normalise_placement(self.placement, len(loops)))
        object.__setattr__(self, "double_buffered", _normalise_dbuf(self.double_buffered))
        self._check_structure()

    # ----------------------------------------------------------------------------------------------------------
    def _check_structure(self) -> None:
        spatial = [i for i, l in enumerate(self.loops) if l.spatial]
        for li, level in enumerate(ON_CHIP):
            for oi, op in enumerate(OPERANDS):
                pos = self.placement[li][oi]
                if pos is None or not spatial:
                    continue
                # Spatial loops sit below every GB cut (the buffer feeds the array) and above every RF cut.
                if level == "GB" and pos > spatial[0]:
                    raise CodesignError(
                        f"GB cut of {op} at position {pos} is below spatial loop {spatial[0]} "
                        f"({self.loops[spatial[0]].dim}); spatial loops must sit below every GB cut"
                    )
                if level == "RF" and pos <= spatial[-1]:
                    raise CodesignError(
                        f"RF cut of {op} at position {pos} is above spatial loop {spatial[-1]} "
                        f"({self.loops[spatial[-1]].dim}); spatial loops must sit above every RF cut"
                    )
        for oi, op in enumerate(OPERANDS):
            g, r = self.placement[0][oi], self.placement[1][oi]
            if g is not None and r is not None and g > r:
                raise CodesignError(f"{op}: GB cut at position {g} is inside its RF cut at {r}; GB must hold RF's tile")

    # ----------------------------------------------------------------------------------------------------------
    def cut(self, level: str, operand: str) -> int | None:
        """Nest position of ``operand``'s tile at ``level`` (``loops[pos:]``), ``None`` for bypass; DRAM is 0."""
        if level == "DRAM":
            return 0
        if level not in ON_CHIP:
            raise CodesignError(f"unknown level {level!r}; expected DRAM or one of {', '.join(ON_CHIP)}")
        if operand not in OPERANDS:
            raise CodesignError(f"unknown operand {operand!r}; expected one of {', '.join(OPERANDS)}")
        return self.placement[ON_CHIP.index(level)][OPERANDS.index(operand)]

    def is_double_buffered(self, level: str) -> bool:
        """The ``double_buffered`` flag of an on-chip level."""
        return self.double_buffered[ON_CHIP.index(level)]

    def factor_products(self) -> dict[str, int]:
        """Product of each dim's factors (1 for a dim without loops)."""
        out = {d: 1 for d in DIMS}
        for l in self.loops:
            out[l.dim] *= l.factor
        return out

    def padding(self, workload: Workload) -> dict[str, int]:
        """Padded iterations per dim: factor product minus bound (negative = the mapping does not cover it)."""
        prods = self.factor_products()
        return {d: prods[d] - getattr(workload, d) for d in DIMS}

    def check_covers(self, workload: Workload) -> None:
        """Raise a one-line :class:`CodesignError` if some dim's factor product is below its bound."""
        prods = self.factor_products()
        for d in DIMS:
            if prods[d] < getattr(workload, d):
                raise CodesignError(f"factor product of {d} {prods[d]} < {getattr(workload, d)}")

    # ----------------------------------------------------------------------------------------------------------
    @classmethod
    def from_levels(
        cls,
        dram: Sequence[tuple[str, int]] = (),
        gb: Sequence[tuple[str, int]] = (),
        spatial: Sequence[tuple[str, int, str]] = (),
        rf: Sequence[tuple[str, int]] = (),
        *,
        bypass: MappingT[str, Iterable[str]] | None = None,
        double_buffered: MappingT[str, bool] | None = None,
    ) -> "Mapping":
        """Timeloop's even form: per-level temporal loops (outer to inner), spatial loops between GB and RF.

        ``dram`` loops are those outside the GB tiles (Timeloop's DRAM level factors), ``gb`` the temporal loops
        of the GB level, ``spatial`` ``(dim, factor, "rows"|"cols")`` the PE-array fan-out, ``rf`` the per-PE
        loops. Every operand cuts at ``len(dram)`` for GB and ``len(dram)+len(gb)+len(spatial)`` for RF unless
        ``bypass`` lists it for that level (e.g. ``{"GB": ["W"]}``).
        """
        bypass = {k: set(v) for k, v in (bypass or {}).items()}
        for k in bypass:
            if k not in ON_CHIP:
                raise CodesignError(f"bypass names unknown level {k!r}; expected one of {', '.join(ON_CHIP)}")
        loops: list[Loop] = [Loop(d, f) for d, f in dram] + [Loop(d, f) for d, f in gb]
        for item in spatial:
            d, f, axis = item
            if axis not in ("rows", "cols"):
                raise CodesignError(f"spatial loop over {d}: axis must be 'rows' or 'cols', got {axis!r}")
            loops.append(Loop(d, f, f"spatial_{axis}"))
        loops += [Loop(d, f) for d, f in rf]
        cuts = {"GB": len(dram), "RF": len(dram) + len(gb) + len(spatial)}
        placement = {
            lv: {op: (None if op in bypass.get(lv, ()) else cuts[lv]) for op in OPERANDS} for lv in ON_CHIP
        }
        return cls(tuple(loops), placement, double_buffered or {})

    @classmethod
    def from_timeloop(
        cls,
        directives: Sequence[MappingT[str, Any]],
        levels: MappingT[str, str],
        *,
        double_buffered: MappingT[str, bool] | None = None,
    ) -> "Mapping":
        """Translate a Timeloop mapping (its YAML ``mapping:`` list, parsed) into the even form.

        Parameters
        ----------
        directives
            Dicts with ``target``, ``type`` (``temporal``, ``spatial``, ``datatype``/``bypass``), ``factors``
            (``"K=2 C=1"`` or a dict), ``permutation`` (innermost first, as Timeloop writes it), ``split``
            (spatial: dims before it go to X -> ``spatial_cols``, the rest to Y -> ``spatial_rows``; default all X)
            and ``keep`` / ``bypass`` lists of ``Inputs``, ``Weights``, ``Outputs``.
        levels
            Timeloop target name -> ``"DRAM"``, ``"GB"`` or ``"RF"``; several targets may share a level (e.g.
            Eyeriss's three spads -> ``RF``). An operand is held at a level if some target of it keeps it.

        See ``docs/mapping-format.md`` ("Translating a Timeloop mapping") for the rules and an example.
        """
        names = {"Inputs": "I", "Weights": "W", "Outputs": "O"}
        order = {"DRAM": 0, "GB": 1, "RF": 3}
        blocks: dict[int, list[Loop]] = {0: [], 1: [], 2: [], 3: []}
        held: dict[str, set[str]] = {lv: set() for lv in ON_CHIP}
        seen_target: dict[str, bool] = {lv: False for lv in ON_CHIP}
        explicit: dict[str, bool] = {lv: False for lv in ON_CHIP}
        for i, d in enumerate(directives):
            target, kind = d.get("target"), d.get("type", "temporal")
            if target not in levels or levels[target] not in order:
                raise CodesignError(f"Timeloop directive {i}: target {target!r} is not mapped to DRAM, GB or RF")
            lv = levels[target]
            if lv in ON_CHIP:
                seen_target[lv] = True
            if kind in ("datatype", "bypass"):
                if lv == "DRAM":
                    continue
                explicit[lv] = True
                keep = [names.get(x, x) for x in d.get("keep", [])]
                byp = [names.get(x, x) for x in d.get("bypass", [])]
                for op in keep + byp:
                    if op not in OPERANDS:
                        raise CodesignError(f"Timeloop directive {i}: unknown data-space {op!r}")
                held[lv] |= set(keep) | ({o for o in OPERANDS if o not in byp} if not keep else set())
                continue
            factors = d.get("factors", {})
            if isinstance(factors, str):
                try:
                    factors = {k: int(v) for k, v in (t.split("=") for t in factors.split())}
                except ValueError:
                    raise CodesignError(f"Timeloop directive {i}: cannot parse factors {d['factors']!r}") from None
            perm = list(d.get("permutation", ""))
            missing = [k for k, v in factors.items() if v > 1 and k not in perm]
            if missing:
                raise CodesignError(f"Timeloop directive {i}: dims {', '.join(missing)} have factors but no place in the permutation")
            if kind == "temporal":
                blocks[order[lv]] += [Loop(k, factors[k]) for k in reversed(perm) if factors.get(k, 1) > 1]
            elif kind == "spatial":
                split = int(d.get("split", len(perm)))
                blocks[2] += [
                    Loop(k, factors[k], "spatial_cols" if perm.index(k) < split else "spatial_rows")
                    for k in reversed(perm)
                    if factors.get(k, 1) > 1
                ]
            else:
                raise CodesignError(f"Timeloop directive {i}: unknown type {kind!r}")
        loops = blocks[0] + blocks[1] + blocks[2] + blocks[3]
        cuts = {"GB": len(blocks[0]), "RF": len(blocks[0]) + len(blocks[1]) + len(blocks[2])}
        placement = {}
        for lv in ON_CHIP:
            ops = held[lv] if explicit[lv] else (set(OPERANDS) if seen_target[lv] else set())
            placement[lv] = {op: (cuts[lv] if op in ops else None) for op in OPERANDS}
        return cls(tuple(loops), placement, double_buffered or {})

    @classmethod
    def from_zigzag(
        cls,
        temporal: MappingT[str, Sequence[Sequence[tuple[str, int]]]],
        spatial: MappingT[str, Any],
        *,
        levels: MappingT[str, Sequence[str]] | None = None,
        axes: MappingT[str, str] | None = None,
        double_buffered: MappingT[str, bool] | None = None,
    ) -> "Mapping":
        """Translate a ZigZag temporal + spatial mapping (uneven placement) into a :class:`Mapping`.

        Parameters
        ----------
        temporal
            ``{operand: [[(dim, factor), ...] per memory level]}``, levels and loops **innermost first**, as in
            ZigZag's ``mapping_dic_origin``; every operand lists the same loop order, split differently.
        spatial
            ``{axis: (dim, factor) or [(dim, factor), ...]}``, e.g. ``{"D1": ("K", 16), "D2": ("C", 16)}``.
        levels
            Per operand, our level of each of its ZigZag memory levels, innermost first (default ``RF, GB, DRAM``
            for three levels; required otherwise), e.g. ``{"W": ["RF", "DRAM"]}`` for weights without a GB level.
        axes
            ZigZag array dimension -> ``"rows"`` / ``"cols"`` (default ``D1`` cols, ``D2`` rows).

        Dims may use ZigZag's names (``B OY OX FY FX``) or ours. The spatial loops go just above the innermost
        per-PE (RF) loops; see ``docs/mapping-format.md`` ("Translating a ZigZag mapping").
        """
        zz = {"B": "N", "OY": "P", "OX": "Q", "FY": "R", "FX": "S"}
        axes = dict(axes or {"D1": "cols", "D2": "rows"})
        seqs = {}
        counts: dict[str, dict[str, int]] = {}
        for op in OPERANDS:
            if op not in temporal:
                raise CodesignError(f"ZigZag temporal mapping has no operand {op}")
            lvls = list(temporal[op])
            names = list(levels[op]) if levels and op in levels else (["RF", "GB", "DRAM"] if len(lvls) == 3 else None)
            if names is None or len(names) != len(lvls) or names[-1] != "DRAM" or len(set(names)) != len(names):
                raise CodesignError(
                    f"ZigZag operand {op}: give its {len(lvls)} memory levels as our levels, innermost first, ending "
                    f"with DRAM (e.g. levels={{'{op}': ['RF', 'DRAM']}})"
                )
            counts[op] = {lv: 0 for lv in ("RF", "GB", "DRAM")}
            seq = []
            for lv, loops in zip(names, lvls):
                if lv not in counts[op]:
                    raise CodesignError(f"ZigZag operand {op}: unknown level {lv!r}; expected RF, GB or DRAM")
                counts[op][lv] = len(loops)
                seq += [(zz.get(d, d), int(f)) for d, f in loops]
            seqs[op] = seq
        order = seqs["O"]
        for op in ("I", "W"):
            if seqs[op] != order:
                raise CodesignError(f"ZigZag operands O and {op} list different loop orders; they must share one")
        temporal_loops = [Loop(d, f) for d, f in reversed(order)]  # outer to inner
        sp: list[Loop] = []
        for axis, val in spatial.items():
            if axis not in axes:
                raise CodesignError(f"ZigZag spatial axis {axis!r} has no rows/cols assignment; pass axes=")
            for d, f in [val] if isinstance(val, tuple) else list(val):
                sp.append(Loop(zz.get(d, d), int(f), f"spatial_{axes[axis]}"))
        n, n_sp = len(temporal_loops), len(sp)
        q = n - max(counts[op]["RF"] for op in OPERANDS)  # spatial loops sit above every operand's RF loops
        loops = temporal_loops[:q] + sp + temporal_loops[q:]
        placement: dict[str, dict[str, int | None]] = {"GB": {}, "RF": {}}
        for op in OPERANDS:
            c = counts[op]
            rf_level = levels is None or op not in levels or "RF" in levels[op]
            gb_level = levels is None or op not in levels or "GB" in levels[op]
            placement["RF"][op] = n + n_sp - c["RF"] if rf_level else None
            g = n - c["RF"] - c["GB"]
            placement["GB"][op] = (g if g <= q else g + n_sp) if gb_level else None
        return cls(tuple(loops), placement, double_buffered or {})

    # ----------------------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (``docs/mapping-format.md``)."""
        return {
            "loops": [{"dim": l.dim, "factor": l.factor, "kind": l.kind} for l in self.loops],
            "placement": {
                lv: {op: self.placement[li][oi] for oi, op in enumerate(OPERANDS)} for li, lv in enumerate(ON_CHIP)
            },
            "double_buffered": {lv: self.double_buffered[li] for li, lv in enumerate(ON_CHIP)},
        }

    @classmethod
    def from_json(cls, obj: MappingT[str, Any]) -> "Mapping":
        """Inverse of :meth:`to_json`. A loop's ``kind`` defaults to ``temporal``; ``double_buffered`` to false."""
        if not isinstance(obj, MappingT):
            raise CodesignError(f"a mapping must be a JSON object, got {type(obj).__name__}")
        unknown = sorted(set(obj) - {"loops", "placement", "double_buffered", "comment"})
        if unknown:
            raise CodesignError(f"mapping JSON has unknown field(s): {', '.join(unknown)}")
        if "loops" not in obj or "placement" not in obj:
            raise CodesignError("mapping JSON needs 'loops' and 'placement'")
        raw = obj["loops"]
        if not isinstance(raw, list):
            raise CodesignError("mapping JSON: 'loops' must be a list")
        loops = []
        for i, l in enumerate(raw):
            if not isinstance(l, MappingT):
                raise CodesignError(f"mapping JSON: loop {i} must be an object with dim, factor, kind")
            bad = sorted(set(l) - {"dim", "factor", "kind"})
            if bad or "dim" not in l or "factor" not in l:
                raise CodesignError(f"mapping JSON: loop {i} must have dim and factor (and optional kind), got {dict(l)}")
            loops.append(Loop(l["dim"], l["factor"], l.get("kind", "temporal")))
        return cls(tuple(loops), obj["placement"], obj.get("double_buffered", {}))

    def to_json_text(self) -> str:
        """Compact but readable JSON text: one loop per line."""
        d = self.to_json()
        loops = ",\n    ".join(json.dumps(l) for l in d["loops"])
        return (
            "{\n  \"loops\": [\n    " + loops + "\n  ],\n"
            f"  \"placement\": {json.dumps(d['placement'])},\n"
            f"  \"double_buffered\": {json.dumps(d['double_buffered'])}\n}}\n"
        )

    @classmethod
    def from_json_text(cls, text: str) -> "Mapping":
        """Parse one mapping from JSON text."""
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise CodesignError(f"mapping is not valid JSON: {err}") from None
        return cls.from_json(obj)

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_json_text` to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json_text())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Mapping":
        """Read a mapping JSON file."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise CodesignError(f"mapping file not found: {os.fspath(path)}") from None
        return cls.from_json_text(text)

    # ----------------------------------------------------------------------------------------------------------
    def __str__(self) -> str:
        """Timeloop-like loop nest with a ``== GB: I O`` marker where operands' tiles are cut."""
        n = len(self.loops)
        marks: dict[int, list[str]] = {}
        for li, lv in enumerate(ON_CHIP):
            by_pos: dict[int, list[str]] = {}
            for oi, op in enumerate(OPERANDS):
                pos = self.placement[li][oi]
                if pos is not None:
                    by_pos.setdefault(pos, []).append(op)
            for pos, ops in sorted(by_pos.items()):
                db = " (double-buffered)" if self.double_buffered[li] else ""
                marks.setdefault(pos, []).append(f"== {lv}: {' '.join(ops)}{db}")
        bypass = [
            f"{lv} bypass: {' '.join(op for oi, op in enumerate(OPERANDS) if self.placement[li][oi] is None)}"
            for li, lv in enumerate(ON_CHIP)
            if any(self.placement[li][oi] is None for oi in range(len(OPERANDS)))
        ]
        lines = ["== DRAM: I W O"] + [f"   ({b})" for b in bypass]
        seen: dict[str, int] = {}
        for i in range(n + 1):
            ind = "  " * i
            for m in marks.get(i, []):
                lines.append(ind + m)
            if i == n:
                lines.append(ind + "MAC")
                break
            l = self.loops[i]
            seen[l.dim] = seen.get(l.dim, 0) + 1
            var = f"{l.dim.lower()}{seen[l.dim]}"
            lines.append(f"{ind}{_KIND_SHORT[l.kind]} {var} in [0:{l.factor})")
        return "\n".join(lines)


def _normalise_placement(placement: Any, n_loops: int) -> Placement:
    if isinstance(placement, tuple) and len(placement) == len(ON_CHIP) and all(isinstance(p, tuple) for p in placement):
        rows = placement
    else:
        if not isinstance(placement, MappingT):
            raise CodesignError("mapping placement must be an object {level: {operand: position or null}}")
        unknown = sorted(set(placement) - set(ON_CHIP))
        if unknown:
            raise CodesignError(f"placement names unknown level(s) {', '.join(unknown)}; expected {', '.join(ON_CHIP)}")
        rows = []
        for lv in ON_CHIP:
            per = placement.get(lv, {op: None for op in OPERANDS})
            if not isinstance(per, MappingT):
                raise CodesignError(f"placement of {lv} must be an object {{operand: position or null}}")
            bad = sorted(set(per) - set(OPERANDS))
            missing = [op for op in OPERANDS if op not in per]
            if bad or missing:
                raise CodesignError(
                    f"placement of {lv} must give exactly I, W, O (null for bypass); got {', '.join(map(str, per))}"
                )
            rows.append(tuple(per[op] for op in OPERANDS))
    out = []
    for lv, row in zip(ON_CHIP, rows):
        if len(row) != len(OPERANDS):
            raise CodesignError(f"placement of {lv} must have one entry per operand")
        norm = []
        for op, pos in zip(OPERANDS, row):
            if pos is not None:
                if not _is_int(pos) or not 0 <= pos <= n_loops:
                    raise CodesignError(f"placement {lv}.{op} must be null or an integer in [0, {n_loops}], got {pos!r}")
                pos = int(pos)
            norm.append(pos)
        out.append(tuple(norm))
    return tuple(out)


def _normalise_dbuf(db: Any) -> tuple[bool, ...]:
    if isinstance(db, tuple) and len(db) == len(ON_CHIP) and all(isinstance(b, (bool, np.bool_)) for b in db):
        return tuple(bool(b) for b in db)
    if not isinstance(db, MappingT):
        raise CodesignError("double_buffered must be an object {level: true|false}")
    unknown = sorted(set(db) - set(ON_CHIP))
    if unknown:
        raise CodesignError(f"double_buffered names unknown level(s) {', '.join(unknown)}")
    for lv, v in db.items():
        if not isinstance(v, (bool, np.bool_)):
            raise CodesignError(f"double_buffered.{lv} must be true or false, got {v!r}")
    return tuple(bool(db.get(lv, False)) for lv in ON_CHIP)


# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class MappingBatch:
    """A batch of ``B`` mappings as slot-major arrays over a fixed number ``L`` of loop slots.

    Attributes
    ----------
    dim
        ``(L, B)`` int8 index into :data:`DIMS`.
    factor
        ``(L, B)`` int64 trip counts; unused slots (past ``n_loops``) have factor 1.
    kind
        ``(L, B)`` int8 index into :data:`KINDS`.
    cut
        ``(len(ON_CHIP), len(OPERANDS), B)`` int16 nest positions; -1 = bypass.
    double_buffered
        ``(len(ON_CHIP), B)`` bool.
    n_loops
        ``(B,)`` int16: how many slots of each row are real loops (for the round trip to :class:`Mapping`).
    """

    dim: np.ndarray
    factor: np.ndarray
    kind: np.ndarray
    cut: np.ndarray
    double_buffered: np.ndarray
    n_loops: np.ndarray

    def __len__(self) -> int:
        return int(self.n_loops.shape[0])

    @property
    def slots(self) -> int:
        """``L``, the number of loop slots."""
        return int(self.dim.shape[0])

    @classmethod
    def from_mappings(cls, mappings: Sequence[Mapping], slots: int | None = None) -> "MappingBatch":
        """Pack mappings; ``slots`` defaults to the longest nest."""
        b = len(mappings)
        need = max((len(m.loops) for m in mappings), default=0)
        L = need if slots is None else slots
        if L < need:
            raise CodesignError(f"{slots} loop slots cannot hold a nest of {need} loops")
        dim = np.zeros((L, b), np.int8)
        factor = np.ones((L, b), np.int64)
        kind = np.zeros((L, b), np.int8)
        cut = np.full((len(ON_CHIP), len(OPERANDS), b), -1, np.int16)
        dbuf = np.zeros((len(ON_CHIP), b), bool)
        n_loops = np.zeros(b, np.int16)
        for j, m in enumerate(mappings):
            n_loops[j] = len(m.loops)
            for i, l in enumerate(m.loops):
                dim[i, j] = DIMS.index(l.dim)
                factor[i, j] = l.factor
                kind[i, j] = KINDS.index(l.kind)
            for li in range(len(ON_CHIP)):
                dbuf[li, j] = m.double_buffered[li]
                for oi in range(len(OPERANDS)):
                    pos = m.placement[li][oi]
                    cut[li, oi, j] = -1 if pos is None else pos
        return cls(dim, factor, kind, cut, dbuf, n_loops)

    def mapping(self, i: int) -> Mapping:
        """Row ``i`` back as a :class:`Mapping` (exact inverse of :meth:`from_mappings`)."""
        n = int(self.n_loops[i])
        loops = tuple(
            Loop(DIMS[int(self.dim[s, i])], int(self.factor[s, i]), KINDS[int(self.kind[s, i])]) for s in range(n)
        )
        placement = tuple(
            tuple(None if self.cut[li, oi, i] < 0 else int(self.cut[li, oi, i]) for oi in range(len(OPERANDS)))
            for li in range(len(ON_CHIP))
        )
        dbuf = tuple(bool(self.double_buffered[li, i]) for li in range(len(ON_CHIP)))
        return Mapping(loops, placement, dbuf)

    def to_mappings(self) -> list[Mapping]:
        """Every row as a :class:`Mapping`."""
        return [self.mapping(i) for i in range(len(self))]

    def take(self, index: np.ndarray | Sequence[int]) -> "MappingBatch":
        """The rows ``index`` (an int array or a boolean mask) as a new batch."""
        idx = np.asarray(index)
        return MappingBatch(
            self.dim[:, idx].copy(),
            self.factor[:, idx].copy(),
            self.kind[:, idx].copy(),
            self.cut[:, :, idx].copy(),
            self.double_buffered[:, idx].copy(),
            self.n_loops[idx].copy(),
        )

    @classmethod
    def concat(cls, batches: Sequence["MappingBatch"]) -> "MappingBatch":
        """Rows of several batches (with the same slot count) in order."""
        return cls(
            np.concatenate([b.dim for b in batches], axis=1),
            np.concatenate([b.factor for b in batches], axis=1),
            np.concatenate([b.kind for b in batches], axis=1),
            np.concatenate([b.cut for b in batches], axis=2),
            np.concatenate([b.double_buffered for b in batches], axis=1),
            np.concatenate([b.n_loops for b in batches]),
        )


def as_batch(mappings: "MappingBatch | Mapping | Sequence[Mapping]") -> MappingBatch:
    """A :class:`MappingBatch` from a batch, one mapping, or a sequence of mappings."""
    if isinstance(mappings, MappingBatch):
        return mappings
    if isinstance(mappings, Mapping):
        return MappingBatch.from_mappings([mappings])
    mappings = list(mappings)
    for m in mappings:
        if not isinstance(m, Mapping):
            raise CodesignError(f"expected Mapping objects, got {type(m).__name__}")
    return MappingBatch.from_mappings(mappings)


__all__ = ["KINDS", "ON_CHIP", "Loop", "Mapping", "MappingBatch", "as_batch", "random_batch", "random_mappings"]


# ---------------------------------------------------------------------------------------------------------------
# A small random generator of valid mappings, for tests and benchmarks (the full MappingSpace is a later issue).


def _random_raw(workload: Workload, hw: Any, n: int, rng: np.random.Generator) -> MappingBatch:
    """``n`` random mappings of a fixed shape: one outer temporal loop per dim (permuted), a rows and a cols
    spatial loop, one inner temporal loop per dim (permuted); uneven GB cuts among the outer loops, uneven RF cuts
    among the inner ones, random bypass (forced where the hardware has no storage) and double buffering.
    Factors are ceil splits, so imperfect factors (padding) occur. Structurally valid; may violate capacity."""
    act = [d for d in range(len(DIMS)) if getattr(workload, DIMS[d]) > 1] or [0]
    na = len(act)
    L = 2 * na + 2
    bounds = np.array([getattr(workload, DIMS[d]) for d in act], np.int64)
    # Spatial: a dim and a factor for rows and for cols.
    sp = np.ones((na, n), np.int64)
    sp_dim = np.zeros((2, n), np.int64)
    spf = np.ones((2, n), np.int64)
    for k, pe in enumerate((hw.pe_rows, hw.pe_cols)):
        which = rng.integers(0, na, n)
        room = -(-bounds[which] // sp[which, np.arange(n)])
        fac = rng.integers(1, np.minimum(room, pe) + 1)
        sp[which, np.arange(n)] *= fac
        sp_dim[k], spf[k] = which, fac
    rem = -(-bounds[:, None] // sp)  # what the temporal loops must still cover
    # Inner factor log-uniform in [1, rem] (small tiles are the ones that fit RFs), outer = ceil split.
    inner = np.floor(np.exp(rng.random((na, n)) * np.log(rem + 1))).astype(np.int64)
    inner = np.clip(inner, 1, rem)
    outer = -(-rem // inner)
    perm_o = np.argsort(rng.random((na, n)), axis=0)
    perm_i = np.argsort(rng.random((na, n)), axis=0)
    act_arr = np.array(act, np.int8)
    cols = np.arange(n)
    dim = np.concatenate([act_arr[perm_o], act_arr[sp_dim], act_arr[perm_i]]).astype(np.int8)
    factor = np.concatenate([outer[perm_o, cols], spf, inner[perm_i, cols]]).astype(np.int64)
    kind = np.concatenate(
        [np.zeros((na, n), np.int8), np.full((1, n), 1, np.int8), np.full((1, n), 2, np.int8), np.zeros((na, n), np.int8)]
    )
    cut = np.empty((len(ON_CHIP), len(OPERANDS), n), np.int16)
    for oi, op in enumerate(OPERANDS):
        g = rng.integers(0, na + 1, n)
        r = rng.integers(na + 2, L + 1, n)
        no_gb = hw.buffer_for(op) is None
        no_rf = hw.rf_words(op) == 0
        cut[0, oi] = np.where(no_gb | (rng.random(n) < 0.15), -1, g)
        cut[1, oi] = np.where(no_rf | (rng.random(n) < 0.15), -1, r)
    dbuf = rng.random((len(ON_CHIP), n)) < 0.5
    return MappingBatch(dim, factor, kind, cut, dbuf, np.full(n, L, np.int16))


def random_batch(
    workload: Workload, hw: Any, n: int, rng: np.random.Generator, *, max_rounds: int = 200
) -> tuple[MappingBatch, float]:
    """``n`` random *valid* mappings (capacity, fan-out, factor products all met) and the acceptance rate.

    Rejection sampling over :func:`_random_raw` with the cost model as the judge; raises
    :class:`CodesignError` if ``max_rounds`` rounds do not yield ``n``.
    """
    from tvm_codesign.cost.model import evaluate  # the judge of validity; imported here to keep mapping free of hardware

    kept: list[MappingBatch] = []
    got = tried = 0
    for _ in range(max_rounds):
        chunk = max(1024, 2 * (n - got))
        raw = _random_raw(workload, hw, chunk, rng)
        ok = np.flatnonzero(evaluate(workload, hw, raw).valid)
        tried += chunk
        take = ok[: n - got]
        kept.append(raw.take(take))
        got += len(take)
        if got >= n:
            return MappingBatch.concat(kept), got / tried
    raise CodesignError(f"only {got} of {n} random mappings of {workload.name!r} were valid after {tried} tries")


def random_mappings(workload: Workload, hw: Any, n: int, rng: np.random.Generator) -> list[Mapping]:
    """``n`` random valid mappings as :class:`Mapping` objects (see :func:`random_batch`)."""
    return random_batch(workload, hw, n, rng)[0].to_mappings()
