"""ZigZag 3.9.1 (``pip install -e ".[peers]"``) as a second cost model: score our mappings, and run its LOMA search.

:class:`ZigZagScorer` builds ZigZag's ``Accelerator`` and ``LayerNode`` from our :class:`HardwareConfig` and
:class:`Workload` (via the data dicts of :mod:`benchmarks.peers.convert` and ZigZag's own validators and
factories), and scores one of our mappings with ZigZag's ``CostModelEvaluation`` on a ``SpatialMapping`` and a
``TemporalMapping`` constructed directly from our tile placement (not re-split by ZigZag's ``MemoryAllocator``).
:func:`run_loma` runs ZigZag's own flow (spatial-mapping generation + LOMA temporal mapping) through
``zigzag.api.get_hardware_performance_zigzag``.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import tempfile
import time
from typing import Any

import yaml  # a zigzag-dse dependency

from zigzag.api import get_hardware_performance_zigzag
from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.datatypes import LayerDim, LayerOperand, OADimension
from zigzag.hardware.architecture.accelerator import Accelerator
from zigzag.mapping.spatial_mapping import MappingSingleOADim, SpatialMapping
from zigzag.mapping.temporal_mapping import TemporalMapping, TemporalMappingType
from zigzag.parser.accelerator_factory import AcceleratorFactory
from zigzag.parser.accelerator_validator import AcceleratorValidator
from zigzag.parser.mapping_validator import MappingValidator
from zigzag.parser.workload_factory import LayerNodeFactory
from zigzag.parser.workload_validator import WorkloadValidator
from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.mapping.spatial_mapping_conversion import SpatialMappingConversionStage
from zigzag.workload.layer_node import LayerNode

from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.workload import Workload

from .convert import Holds, accelerator_data, full_holds, layer_data, mapping_holds, temporal_on_hierarchy, zigzag_loops

logging.getLogger("zigzag").setLevel(logging.ERROR)

#: ZigZag's mapping file entry: memory operand links only (spatial mapping left to ZigZag or set per mapping).
MAPPING_DATA: list[dict[str, Any]] = [{"name": "default", "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]


def build_accelerator(data: dict[str, Any]) -> Accelerator:
    """A ZigZag ``Accelerator`` from accelerator data, through ZigZag's validator and factory."""
    v = AcceleratorValidator(copy.deepcopy(data))
    norm = v.normalized_data
    if not v.validate():
        raise ValueError(f"ZigZag rejected the accelerator: {v.validator.errors}")
    return AcceleratorFactory(norm).create()


def build_layer(data: dict[str, Any]) -> LayerNode:
    """A ZigZag ``LayerNode`` from a layer dict, through ZigZag's validators and factory."""
    wv = WorkloadValidator([copy.deepcopy(data)])
    wdata = wv.normalized_data
    if not wv.validate():
        raise ValueError("ZigZag rejected the workload layer")
    mv = MappingValidator(copy.deepcopy(MAPPING_DATA))
    mdata = mv.normalized_data
    if not mv.validate():
        raise ValueError("ZigZag rejected the mapping data")
    return LayerNodeFactory(wdata[0], mdata).create()


@dataclasses.dataclass
class ZigZagCost:
    """One mapping scored by ZigZag: ``energy_pj = energy_total``, ``cycles = latency_total2`` (with on- and
    off-loading), ``edp`` their product, and the parts they are made of."""

    energy_pj: float
    cycles: float
    mac_energy: float
    mem_energy: dict[str, list[float]]  # operand -> per level (innermost first) pJ
    ideal_temporal_cycle: float
    stall_slack: float
    onloading: float
    offloading: float

    @property
    def edp(self) -> float:
        return self.energy_pj * self.cycles


class ZigZagScorer:
    """Score our mappings of one layer on one accelerator in ZigZag's cost model.

    Parameters
    ----------
    workload, hw
        The layer and our hardware.
    fixed_hierarchy
        ``False`` (default): each mapping is scored on the hierarchy of the levels it uses (a bypassed level is
        left out for that operand, as in our model). ``True``: on the hardware as built (``full_holds``), the one
        LOMA maps onto; a bypassed level then gets no loops and ZigZag passes the data through it.
    access_same_data_considered_as_no_access
        ZigZag's flag (``True`` in its API): repeated reads of a stationary operand from the innermost memory
        count once when the memory's port is wide enough to keep it on its output pins. ``False`` counts a read
        per MAC, as our model does.
    """

    def __init__(self, workload: Workload, hw: HardwareConfig, *, fixed_hierarchy: bool = False,
                 access_same_data_considered_as_no_access: bool = True) -> None:
        self.workload, self.hw = workload, hw
        self.fixed = fixed_hierarchy
        self.same_data = access_same_data_considered_as_no_access
        self._layers: dict[tuple, LayerNode] = {}
        self._acc: dict[tuple, Accelerator] = {}

    def layer_for(self, mapping: Mapping) -> LayerNode:
        """The ZigZag layer ``mapping`` executes: the workload itself, or with an imperfect factorisation the padded
        workload whose dims are the mapping's factor products (ZigZag's temporal loops cannot pad, so the padded
        iterations become real ones: MACs, cycles and, unlike our model, which clips tiles at the bound, the padded
        data too — a slightly pessimistic score of an imperfect mapping)."""
        prod = mapping.factor_products()
        key = tuple(sorted(prod.items()))
        if key not in self._layers:
            padded = dataclasses.replace(self.workload, **{d: max(p, getattr(self.workload, d)) for d, p in prod.items()})
            self._layers[key] = build_layer(layer_data(padded, self.hw))
        return self._layers[key]

    def accelerator(self, holds: Holds) -> Accelerator:
        key = (tuple(sorted(holds["GB"])), tuple(sorted(holds["RF"])))
        if key not in self._acc:
            self._acc[key] = build_accelerator(accelerator_data(self.hw, holds, name=f"{self.hw.name}_{key}"))
        return self._acc[key]

    def score(self, mapping: Mapping) -> ZigZagCost:
        """ZigZag's cost of ``mapping`` (an imperfect factorisation is scored as its padded layer, see
        :meth:`layer_for`)."""
        spatial, temporal = zigzag_loops(mapping)
        holds = full_holds(self.hw) if self.fixed else mapping_holds(mapping)
        if self.fixed:
            temporal = temporal_on_hierarchy(mapping, holds)
        acc = self.accelerator(holds)
        layer = copy.copy(self.layer_for(mapping))
        sm = SpatialMapping({
            OADimension(ax): MappingSingleOADim({LayerDim(d): f for d, f in loops}) for ax, loops in spatial.items()
        })
        sm.initialize_oa_dims(acc.operational_array.dimension_sizes)
        layer.spatial_mapping = sm
        conv = SpatialMappingConversionStage([CostModelStage], accelerator=acc, layer=layer)  # never run
        sm_frac, sm_int = conv.convert_user_spatial_mapping(sm)
        tm_dict = {LayerOperand(op): [[(LayerDim(d), f) for d, f in lv] for lv in levels]
                   for op, levels in temporal.items()}
        tm = TemporalMapping(tm_dict, layer, TemporalMappingType.UNEVEN)
        cme = CostModelEvaluation(
            accelerator=acc, layer=layer, spatial_mapping=sm_frac, spatial_mapping_int=sm_int, temporal_mapping=tm,
            access_same_data_considered_as_no_access=self.same_data,
        )
        return ZigZagCost(
            energy_pj=float(cme.energy_total),
            cycles=float(cme.latency_total2),
            mac_energy=float(cme.mac_energy),
            mem_energy={str(op): [float(x) for x in v] for op, v in cme.mem_energy_breakdown.items()},
            ideal_temporal_cycle=float(cme.ideal_temporal_cycle),
            stall_slack=float(cme.stall_slack_comb),
            onloading=float(cme.data_onloading_cycle),
            offloading=float(cme.data_offloading_cycle),
        )


@dataclasses.dataclass
class LomaResult:
    """ZigZag's own best mapping (its spatial-mapping generator + LOMA), by EDP under its own model."""

    energy_pj: float
    cycles: float
    seconds: float
    spatial: str
    temporal: str

    @property
    def edp(self) -> float:
        return self.energy_pj * self.cycles


def run_loma(workload: Workload, hw: HardwareConfig, *, lpf_limit: int = 6, nb_spatial_mappings: int = 3,
             workdir: str | None = None) -> LomaResult:
    """Run ``zigzag.api.get_hardware_performance_zigzag`` (opt ``EDP``, LOMA, uneven mappings) on the hardware as
    built and return its best mapping's energy, cycles and the wall time of the whole call.

    ``lpf_limit`` and ``nb_spatial_mappings`` are ZigZag's API defaults (6 and 3).
    """
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        acc_path = os.path.join(tmp, "accelerator.yaml")
        map_path = os.path.join(tmp, "mapping.yaml")
        with open(acc_path, "w") as f:
            yaml.safe_dump(accelerator_data(hw, full_holds(hw)), f, sort_keys=False)
        with open(map_path, "w") as f:
            yaml.safe_dump(MAPPING_DATA, f, sort_keys=False)
        t0 = time.perf_counter()
        energy, latency, cmes = get_hardware_performance_zigzag(
            workload=[layer_data(workload, hw)], accelerator=acc_path, mapping=map_path, opt="EDP",
            dump_folder=os.path.join(tmp, "out"), lpf_limit=lpf_limit,
            nb_spatial_mappings_generated=nb_spatial_mappings, loma_show_progress_bar=False,
        )
        seconds = time.perf_counter() - t0
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    cme = _first_cme(cmes)
    return LomaResult(float(energy), float(latency), seconds,
                      str(getattr(cme, "spatial_mapping_int", "")) if cme else "",
                      str(getattr(cme, "temporal_mapping", "")) if cme else "")


def _first_cme(cmes: Any) -> Any:
    """The per-layer CME in the tree the API returns: ``[(CumulativeCME, [(CME, (layer, extra)), ...])]``."""
    try:
        for cme, extra in cmes:
            if isinstance(cme, CostModelEvaluation):
                return cme
            inner = extra if isinstance(extra, list) else (extra[1] if isinstance(extra, tuple) and len(extra) > 1 else None)
            if isinstance(inner, list):
                found = _first_cme(inner)
                if found is not None:
                    return found
    except (TypeError, ValueError):
        return None
    return None


__all__ = ["build_accelerator", "build_layer", "ZigZagCost", "ZigZagScorer", "LomaResult", "run_loma"]
