"""The area budget of the hardware space: parsed from ``--area-budget``, and checked against the smallest design."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tvm_codesign.cost.physical import area
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import SystemParams
from tvm_codesign.model.presets import PRESETS, preset

if TYPE_CHECKING:
    from tvm_codesign.spaces.hardware.base import HardwareSpace


def area_budget_from(spec: str | float, system: SystemParams | None = None) -> float:
    """An area budget in mm² from ``--area-budget``: a number of mm², or a preset name for that preset's area.

    Parameters
    ----------
    spec
        ``1.5``, ``"1.5"``, or a preset name (``"eyeriss"``, ``"vta"``): ``area(preset(name, system)).total_mm2``,
        i.e. the preset's area at the run's own system parameters (precision changes MAC and RF areas).
    system
        The run's :class:`SystemParams` (default ``SystemParams()``).
    """
    system = system if system is not None else SystemParams()
    if isinstance(spec, str):
        name = spec.strip()
        if name in PRESETS:
            return area(preset(name, system)).total_mm2
        try:
            value = float(name)
        except ValueError:
            raise CodesignError(
                f"area budget {spec!r} is neither a number of mm² nor a preset ({', '.join(PRESETS)})"
            ) from None
    elif isinstance(spec, (int, float)) and not isinstance(spec, bool):
        value = float(spec)
    else:
        raise CodesignError(f"area budget must be a number of mm² or a preset name, got {spec!r}")
    if not math.isfinite(value) or value <= 0:
        raise CodesignError(f"area budget must be a positive number of mm², got {spec!r}")
    return value


def check_budget(space: HardwareSpace) -> None:
    """Raise a one-line :class:`CodesignError` when no genome of ``space`` fits its area budget."""
    smallest, hw = space.min_area()
    if hw is None:
        raise CodesignError(f"the {space.template} hardware space has no valid configuration within its bounds")
    if smallest > space.area_budget_mm2:
        raise CodesignError(
            f"area budget {space.area_budget_mm2:.4g} mm² is below the smallest {space.template} configuration "
            f"({smallest:.4g} mm²: {hw.summary().split(': ', 1)[1]}); raise --area-budget or narrow the bounds"
        )
