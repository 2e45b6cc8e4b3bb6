"""Knobs of the hardware space: each gene an index into an ascending grid of values, built by a named rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tvm_codesign.errors import CodesignError

#: Bytes per KiB: buffer-size knobs are in KiB.
KIB = 1024


def _sig_bits(v: int) -> int:
    """Significant bits of ``v`` > 0: the length of its binary form without trailing zeros."""
    return (v >> ((v & -v).bit_length() - 1)).bit_length()


def grid(rule: str, lo: int, hi: int) -> list[int]:
    """Values of ``rule`` in ``[lo, hi]``; 0 is included when ``lo == 0`` (0 = absent).

    Rules: ``"int"`` every integer; ``"pow2"`` powers of two; ``"sigN"`` integers of at most N significant bits,
    i.e. ``2**(N-1)`` steps per octave (``sig5``: 16 per octave, 108 is one; ``sig3``: 4 per octave).
    """
    out = [0] if lo == 0 else []
    start = max(lo, 1)
    if rule == "int":
        out += list(range(start, hi + 1))
    elif rule == "pow2":
        out += [v for v in (1 << e for e in range(0, max(hi, 1).bit_length() + 1)) if start <= v <= hi]
    elif rule.startswith("sig"):
        bits = int(rule[3:])
        out += [v for v in range(start, hi + 1) if _sig_bits(v) <= bits]
    else:  # pragma: no cover - a template bug
        raise ValueError(f"unknown grid rule {rule!r}")
    return out


@dataclasses.dataclass(frozen=True)
class Knob:
    """One gene: its name, unit and ascending grid of values (the gene is an index into ``values``)."""

    name: str
    values: tuple[int, ...]
    unit: str

    def __len__(self) -> int:
        return len(self.values)

    def index(self, value: int) -> int | None:
        """Index of ``value`` in the grid, ``None`` if off the grid."""
        try:
            return self.values.index(int(value))
        except ValueError:
            return None


@dataclasses.dataclass(frozen=True)
class KnobSpec:
    """A template's knob before overrides: its grid rule, default ends, unit, and what its values must be.

    Attributes
    ----------
    zero_ok
        0 (absent) is a meaningful value.
    pow2_required
        The template needs powers of two (VTA's log2 fields).
    why
        Where the default grid comes from (the preset values it holds, the range of the area fit).
    """

    name: str
    rule: str
    default: tuple[int, int]
    unit: str
    zero_ok: bool = False
    pow2_required: bool = False
    why: str = ""

    def knob(self, override: Any, template: str) -> Knob:
        """The knob, narrowed by an override: ``(lo, hi)`` on the rule's grid, or a list of values (``None``: the
        default grid)."""
        where = f"{template} knob {self.name}"
        if override is None:
            values = grid(self.rule, *self.default)
        elif isinstance(override, tuple) and len(override) == 2:
            lo, hi = override
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)) or lo > hi:
                raise CodesignError(f"{where}: bounds must be integers (lo, hi) with lo <= hi, got {override!r}")
            values = grid(self.rule, lo, hi)
        elif isinstance(override, (list, range, np.ndarray)):
            values = sorted({int(v) for v in override})
        else:
            raise CodesignError(f"{where}: override must be a (lo, hi) tuple or a list of values, got {override!r}")
        least = 0 if self.zero_ok else 1
        bad = [v for v in values if v < least or (self.pow2_required and v & (v - 1))]
        if bad:
            need = "powers of two" if self.pow2_required else f"integers >= {least}"
            raise CodesignError(f"{where}: values must be {need}, got {bad}")
        if not values:
            raise CodesignError(f"{where}: override {override!r} leaves no value")
        return Knob(self.name, tuple(values), self.unit)


#: The free PE array of the eyeriss and per_operand templates.
PE_SPECS: tuple[KnobSpec, ...] = (
    KnobSpec("pe_rows", "int", (2, 32), "PEs", why="Eyeriss 12"),
    KnobSpec("pe_cols", "int", (2, 32), "PEs", why="Eyeriss 14"),
)
#: Per-PE register files, 0 = none (eyeriss and per_operand).
RF_SPECS: tuple[KnobSpec, ...] = (
    KnobSpec("rf_input_words", "sig3", (0, 512), "words", zero_ok=True, why="Eyeriss 12"),
    KnobSpec("rf_weight_words", "sig3", (0, 512), "words", zero_ok=True, why="Eyeriss 224"),
    KnobSpec("rf_output_words", "sig3", (0, 512), "words", zero_ok=True, why="Eyeriss 24"),
)
