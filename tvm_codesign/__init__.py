"""tvm_codesign: hardware/software co-design of neural accelerators as an Apache TVM plugin.

The public API; everything a user needs is importable from here::

    from tvm_codesign import CoDesignOptions, codesign
    result = codesign("dqn", "out/dqn", CoDesignOptions(budget_hw=8, budget_sw=500))

    from tvm_codesign import Workload, evaluate, preset, search_mapping
    best = search_mapping(workload, preset("eyeriss"), strategy="random", budget=1000, seed=0)

Names resolve lazily (PEP 562): ``import tvm_codesign`` loads neither TVM nor a learner, and the pure layers
stay cheap to ship to worker processes. The layout (``docs/architecture.md``): :mod:`.model` (workloads, hardware,
mappings, the schedulability rule), :mod:`.cost` (the analytical cost model), :mod:`.search` (ask/tell strategies),
:mod:`.spaces` (mapping and hardware spaces), :mod:`.bilevel` (inner and outer search), :mod:`.compiler` (the TVM
side), :mod:`.pipeline` (a whole co-design into a folder), :mod:`.report`, :mod:`.passes` and :mod:`.cli`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # the vocabulary
    "CodesignError": "tvm_codesign.errors",
    "Workload": "tvm_codesign.model.workload",
    "SystemParams": "tvm_codesign.model.hardware",
    "Buffer": "tvm_codesign.model.hardware",
    "HardwareConfig": "tvm_codesign.model.hardware",
    "preset": "tvm_codesign.model.presets",
    "load_hardware": "tvm_codesign.model.presets",
    "to_vta_config": "tvm_codesign.model.vta",
    "from_vta_config": "tvm_codesign.model.vta",
    "Loop": "tvm_codesign.model.mapping",
    "Mapping": "tvm_codesign.model.mapping",
    "unschedulable_reason": "tvm_codesign.model.schedulability",
    # the cost model
    "evaluate": "tvm_codesign.cost.model",
    "area": "tvm_codesign.cost.physical",
    "energy_table": "tvm_codesign.cost.physical",
    "choose_points": "tvm_codesign.cost.model_edp",
    # spaces and searches
    "MappingSpace": "tvm_codesign.spaces.mapping",
    "HardwareSpace": "tvm_codesign.spaces.hardware",
    "make_strategy": "tvm_codesign.search",
    "run_search": "tvm_codesign.search",
    "search_mapping": "tvm_codesign.bilevel.mapping_search",
    "MappingSearchResult": "tvm_codesign.bilevel.mapping_search",
    # a whole co-design
    "CoDesignOptions": "tvm_codesign.pipeline",
    "codesign": "tvm_codesign.pipeline",
    "CoDesignReport": "tvm_codesign.report",
    "ResultFolder": "tvm_codesign.report",
    # the TVM side
    "load_model": "tvm_codesign.compiler.frontend",
    "lower_to_tir": "tvm_codesign.compiler.extract",
    "extract_workloads": "tvm_codesign.compiler.extract",
    "apply_mapping": "tvm_codesign.compiler.schedule",
    "write_database": "tvm_codesign.compiler.database",
    "codesign_target": "tvm_codesign.compiler.target",
    "CoDesign": "tvm_codesign.passes",
    "ApplyCoDesign": "tvm_codesign.passes",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'tvm_codesign' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
