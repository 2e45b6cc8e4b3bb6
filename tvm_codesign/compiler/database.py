"""Per-layer mappings as a meta_schedule JSON database that stock ``relax.transform.MetaScheduleApplyDatabase`` applies.

One tuning record per *source* of each workload: the trace of :func:`tvm_codesign.compiler.schedule.apply_mapping` on that
fused PrimFunc, keyed by the PrimFunc normalised exactly as meta_schedule normalises it (``global_symbol`` and
``tirx.noalias`` set, the function as ``main``), because ``MetaScheduleApplyDatabase`` looks records up by the
structural hash of that module. Records must therefore be made from the PrimFuncs as they are when the pass runs:
after ``LegalizeOps``, ``FuseOps`` and ``FuseTIR`` (:func:`tvm_codesign.compiler.extract.lower_to_tir`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Iterable

import tvm
from tvm.s_tir.meta_schedule.tune_context import _normalize_mod
from tvm.s_tir import meta_schedule as ms

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.schedulability import unschedulable_reason
from tvm_codesign.compiler.schedule import apply_mapping
from tvm_codesign.model.workload import Workload

#: File names meta_schedule's ``JSONDatabase(work_dir=...)`` reads.
WORKLOAD_FILE = "database_workload.json"
RECORD_FILE = "database_tuning_record.json"


@dataclasses.dataclass(frozen=True)
class DatabaseReport:
    """What :func:`write_database` wrote and what it skipped (with the reason)."""

    path: Path
    records: tuple[tuple[str, str], ...]  # (primfunc, workload name)
    skipped: tuple[tuple[str, str, str], ...]  # (primfunc, workload name, reason)


def write_database(
    lowered: Any,
    layers: Iterable[tuple[Workload, Mapping]],
    out_dir: str | os.PathLike,
    target: Any = None,
) -> DatabaseReport:
    """Write a meta_schedule JSON database with one record per source PrimFunc of each workload.

    Parameters
    ----------
    lowered
        The module after :func:`tvm_codesign.compiler.extract.lower_to_tir` (the fused PrimFuncs the records key on).
    layers
        ``(workload, mapping)`` pairs; each workload's ``sources`` name the PrimFuncs and blocks to schedule.
    out_dir
        Folder for ``database_workload.json`` and ``database_tuning_record.json`` (created; existing files there
        are replaced, never appended to, so a database always holds one run).
    target
        The target recorded with each record (default ``llvm``).

    Returns
    -------
    DatabaseReport
        Mappings the schedule template cannot express yet are skipped with their reason; their PrimFuncs keep
        TVM's default schedule.
    """

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in (WORKLOAD_FILE, RECORD_FILE):
        (out / name).unlink(missing_ok=True)
    target = target or tvm.target.Target("llvm")
    database = ms.database.JSONDatabase(
        path_workload=str(out / WORKLOAD_FILE), path_tuning_record=str(out / RECORD_FILE)
    )
    names = {gv.name_hint for gv in lowered.get_global_vars()}
    records: list[tuple[str, str]] = []
    skipped: list[tuple[str, str, str]] = []
    for workload, mapping in layers:
        reason = unschedulable_reason(workload, mapping)
        for primfunc, block in workload.sources:
            if primfunc not in names:
                raise CodesignError(f"the module has no PrimFunc {primfunc!r} (lower it with lower_to_tir first)")
            if reason is not None:
                skipped.append((primfunc, workload.name, reason))
                continue
            func = lowered[primfunc]
            sch, _ = apply_mapping(func, workload, mapping, block)
            key = database.commit_workload(_normalize_mod(func))
            database.commit_tuning_record(
                ms.database.TuningRecord(
                    sch.trace,
                    key,
                    run_secs=[1.0],  # the cost is the analytical model's, kept in result.json
                    target=target,
                    args_info=ms.arg_info.ArgInfo.from_prim_func(func),
                )
            )
            records.append((primfunc, workload.name))
    return DatabaseReport(out, tuple(records), tuple(skipped))
