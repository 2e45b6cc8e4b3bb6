"""The hardware space: the knobs of a template as a genome, with the area budget enforced when candidates are made.

A template fixes the on-chip organisation; its knobs are what the outer search moves. Gene ``i`` of a genome is an
index into knob ``i``'s ascending grid of values, so genes are plain bounded integers (``gene_bounds``) and every
strategy in :mod:`tvm_codesign.search` can walk them. ``HardwareSpace(template, system=..., area_budget_mm2=...,
fill_share=...)`` builds one: :class:`EyerissSpace` (``"eyeriss"``), :class:`VtaSpace` (``"vta"``) or
:class:`PerOperandSpace` (``"per_operand"``); each template's module lists its genes and grids.

The organisation is the template argument rather than a categorical gene: a "buffer size" gene would mean the
shared GB in one category and the input buffer in the other, and the other category's genes would be dead
(many genomes, one config), which misleads the surrogate. One run searches one template; compare templates by
running each at the same budget. Precision, DRAM and clock come from ``system`` and are the same in every decoded
config.
"""

from tvm_codesign.spaces.hardware.base import COUNT_LIMIT, SMALL_SPACE, TEMPLATES, HardwareSpace
from tvm_codesign.spaces.hardware.budget import area_budget_from, check_budget
from tvm_codesign.spaces.hardware.knobs import KIB, Knob, KnobSpec

# Each template registers itself in TEMPLATES when imported; this order is the order users see them in.
# isort: off
from tvm_codesign.spaces.hardware.eyeriss import EyerissSpace
from tvm_codesign.spaces.hardware.vta import VtaSpace
from tvm_codesign.spaces.hardware.per_operand import PerOperandSpace
# isort: on

__all__ = [
    "COUNT_LIMIT",
    "KIB",
    "SMALL_SPACE",
    "TEMPLATES",
    "EyerissSpace",
    "HardwareSpace",
    "Knob",
    "KnobSpec",
    "PerOperandSpace",
    "VtaSpace",
    "area_budget_from",
    "check_budget",
]
