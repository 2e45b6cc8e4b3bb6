"""Relax module passes that bring co-designed schedules into a TVM compilation pipeline.

``CoDesign(result_dir, options)`` stands after ``LegalizeOps``, ``FuseOps`` and ``FuseTIR``: it extracts the
workloads, runs the co-design into ``result_dir`` (or, when ``result_dir`` already holds a finished result and
``options.resume`` is set, continues or reuses it), then applies the schedules exactly as ``ApplyCoDesign`` does.

``ApplyCoDesign(result_dir)`` applies a saved co-design result: it stands after ``LegalizeOps``, ``FuseOps`` and
``FuseTIR`` (or lowers the module itself when it finds no PrimFuncs), applies the per-layer schedules of
``result_dir/database`` with stock ``relax.transform.MetaScheduleApplyDatabase``, runs every scheduled PrimFunc
against its default schedule on seeded random inputs (``verify=True``, the default; a mismatch raises naming the
layer, :mod:`tvm_codesign.compiler.verify`) and records the hardware config
on the module attrs (``codesign.hardware``, ``codesign.hardware_hash``). Module attrs do not survive
``tvm.compile`` (the executable exposes no IR), so ``hardware.json`` stays the sidecar of record.

A result folder holds (every name in :class:`tvm_codesign.report.ResultFolder`)::

    result_dir/hardware.json     the accelerator (every knob and system parameter)
    result_dir/database/         meta_schedule JSON database of the per-layer schedules
"""

from __future__ import annotations

import json
from pathlib import Path

import tvm
from tvm import relax, tirx
from tvm.s_tir import meta_schedule as ms

from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
from tvm_codesign.compiler.target import codesign_target
from tvm_codesign.compiler.verify import verify_layers
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.workload import Workload
from tvm_codesign.pipeline import CoDesignOptions, codesign_to_folder, validate
from tvm_codesign.report import ResultFolder

#: Module attrs the passes set.
HARDWARE_ATTR = "codesign.hardware"
HARDWARE_HASH_ATTR = "codesign.hardware_hash"


def _has_prim_funcs(mod: tvm.IRModule) -> bool:
    return any(isinstance(mod[gv], tirx.PrimFunc) for gv in mod.get_global_vars())


def load_result(result_dir: str | Path) -> tuple[HardwareConfig, Path]:
    """The hardware config and database folder of a saved result (one-line errors when they are missing)."""
    root = Path(result_dir)
    if not root.is_dir():
        raise CodesignError(f"co-design result folder not found: {root}")
    folder = ResultFolder(root)
    hw_path, db = folder.hardware, folder.database
    if not hw_path.is_file():
        raise CodesignError(f"{root} has no {ResultFolder.HARDWARE}; is it a co-design result folder?")
    if not (db / "database_tuning_record.json").is_file():
        raise CodesignError(f"{root} has no schedule database ({ResultFolder.DATABASE}/database_tuning_record.json)")
    return HardwareConfig.load(hw_path), db


def apply_database(mod: tvm.IRModule, hw: HardwareConfig, database_dir: str | Path) -> tvm.IRModule:
    """Lower ``mod`` if needed, apply the schedules in ``database_dir`` and record ``hw`` on the module attrs."""
    if not _has_prim_funcs(mod):
        mod = lower_to_tir(mod)
    # An explicit current database: the pass's work_dir form prints a "Creating JSONDatabase" warning.
    database = ms.database.JSONDatabase(work_dir=str(database_dir), allow_missing=False)
    with database, codesign_target(hw), tvm.transform.PassContext(opt_level=3):
        mod = relax.transform.MetaScheduleApplyDatabase()(mod)
    return mod.with_attrs({HARDWARE_ATTR: json.dumps(hw.to_json(), sort_keys=True), HARDWARE_HASH_ATTR: hw.config_hash()})


def _apply_and_verify(
    mod: tvm.IRModule,
    hw: HardwareConfig,
    database_dir: Path,
    verify: bool,
    workloads: list[Workload] | None = None,
) -> tvm.IRModule:
    """:func:`apply_database`, then (``verify``) every scheduled layer against its default schedule."""
    if not _has_prim_funcs(mod):
        mod = lower_to_tir(mod)
    scheduled = apply_database(mod, hw, database_dir)
    if verify:
        if workloads is None:
            workloads = list(extract_workloads(mod, lowered=True).workloads)
        verify_layers(mod, scheduled, workloads)
    return scheduled


@tvm.transform.module_pass(opt_level=0, name="ApplyCoDesign")
class ApplyCoDesign:
    """Apply a saved co-design result (hardware + per-layer schedules) to a Relax module.

    Parameters
    ----------
    result_dir
        A folder written by the co-design (``hardware.json`` and ``database/``).
    verify
        Run every scheduled PrimFunc against its default schedule on seeded random inputs and raise
        :class:`CodesignError` naming the layer if they differ (:func:`tvm_codesign.compiler.verify.verify_layers`).
    """

    def __init__(self, result_dir: str | Path, verify: bool = True) -> None:
        self.hw, self.database_dir = load_result(result_dir)  # a missing result fails at construction
        self.verify = verify

    def transform_module(self, mod: tvm.IRModule, ctx: tvm.transform.PassContext) -> tvm.IRModule:
        return _apply_and_verify(mod, self.hw, self.database_dir, self.verify)


@tvm.transform.module_pass(opt_level=0, name="CoDesign")
class CoDesign:
    """Co-design the accelerator and the mappings of the module, then apply the schedules.

    Parameters
    ----------
    result_dir
        Where the co-design writes its outputs (see :mod:`tvm_codesign.report`).
    options
        :class:`tvm_codesign.pipeline.CoDesignOptions` (budgets, area budget, precision, strategy, seed, ...);
        the defaults when ``None``.
    label
        The model's name in the reports.
    verify
        As for :class:`ApplyCoDesign`.
    """

    def __init__(
        self,
        result_dir: str | Path,
        options: CoDesignOptions | None = None,
        label: str = "model",
        verify: bool = True,
    ) -> None:
        self.result_dir = Path(result_dir)
        self.options = options or CoDesignOptions()
        self.label = label
        self.verify = verify
        self.prepared = validate(self.options, self.result_dir)  # bad requests fail at construction

    def transform_module(self, mod: tvm.IRModule, ctx: tvm.transform.PassContext) -> tvm.IRModule:
        if not _has_prim_funcs(mod):
            mod = lower_to_tir(mod)
        workloads = list(extract_workloads(mod, lowered=True).workloads)
        codesign_to_folder(self.prepared, mod, workloads, self.label, self.result_dir)
        hw, database = load_result(self.result_dir)
        return _apply_and_verify(mod, hw, database, self.verify, workloads)
