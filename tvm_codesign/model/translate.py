"""Translators into a mapping's loops and placement: Timeloop's even per-level form, a Timeloop mapping, a ZigZag one.

Each returns ``(loops, placement)``, which :class:`~tvm_codesign.model.mapping.Mapping` (``from_levels``,
``from_timeloop``, ``from_zigzag``, documented there) completes with the double-buffer flags and checks. They build
:class:`~tvm_codesign.model.loop.Loop` objects as they read, so a bad dim or factor is reported where it is read.
The rules are in ``docs/mapping-format.md``.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping as MappingT, Sequence

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.loop import ON_CHIP, Loop
from tvm_codesign.model.workload import OPERANDS

#: What a translator returns: the loops outer to inner and ``{level: {operand: position or None}}``.
Parts = tuple[tuple[Loop, ...], dict[str, dict[str, int | None]]]


def even_parts(
    dram: Sequence[tuple[str, int]],
    gb: Sequence[tuple[str, int]],
    spatial: Sequence[tuple[str, int, str]],
    rf: Sequence[tuple[str, int]],
    bypass: MappingT[str, Iterable[str]] | None,
) -> Parts:
    """Timeloop's even form (see :meth:`Mapping.from_levels <tvm_codesign.model.mapping.Mapping.from_levels>`)."""
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
    return tuple(loops), placement


def timeloop_parts(directives: Sequence[MappingT[str, Any]], levels: MappingT[str, str]) -> Parts:
    """A parsed Timeloop ``mapping:`` list in the even form (see
    :meth:`Mapping.from_timeloop <tvm_codesign.model.mapping.Mapping.from_timeloop>`)."""
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
    return tuple(loops), placement


def zigzag_parts(
    temporal: MappingT[str, Sequence[Sequence[tuple[str, int]]]],
    spatial: MappingT[str, Any],
    levels: MappingT[str, Sequence[str]] | None,
    axes: MappingT[str, str] | None,
) -> Parts:
    """A ZigZag temporal + spatial mapping, uneven placement kept (see
    :meth:`Mapping.from_zigzag <tvm_codesign.model.mapping.Mapping.from_zigzag>`)."""
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
    return tuple(loops), placement


__all__ = ["Parts", "even_parts", "timeloop_parts", "zigzag_parts"]
