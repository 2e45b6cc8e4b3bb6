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

Here: the data model (:class:`Mapping`; :class:`~tvm_codesign.model.loop.Loop`, :data:`KINDS` and :data:`ON_CHIP`
are re-exported from :mod:`tvm_codesign.model.loop`) and its JSON form. The constructors from Timeloop's even form
and from Timeloop / ZigZag mappings delegate to :mod:`tvm_codesign.model.translate`; the batch form the cost model
runs on is :class:`tvm_codesign.model.batch.MappingBatch`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Iterable, Mapping as MappingT, Sequence

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model import translate
from tvm_codesign.model.loop import KINDS, ON_CHIP, Loop, is_int as _is_int
from tvm_codesign.model.workload import DIMS, OPERANDS, Workload

_KIND_SHORT = {"temporal": "for", "spatial_rows": "spatial_rows for", "spatial_cols": "spatial_cols for"}


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
        loops, placement = translate.even_parts(dram, gb, spatial, rf, bypass)
        return cls(loops, placement, double_buffered or {})

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
        loops, placement = translate.timeloop_parts(directives, levels)
        return cls(loops, placement, double_buffered or {})

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
        loops, placement = translate.zigzag_parts(temporal, spatial, levels, axes)
        return cls(loops, placement, double_buffered or {})

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


__all__ = ["KINDS", "ON_CHIP", "Loop", "Mapping", "Placement"]
