"""`tvm-codesign compile MODEL`: compile a model for an accelerator with its mapping schedules (tvmc-shaped)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from tvm_codesign.errors import CodesignError
from tvm_codesign.files import atomic_output
from tvm_codesign.cli.codesign import add_codesign_options, inner_budget, options_from


def register(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compile",
        help="compile a model with accelerator-mapping schedules into an exported library",
        description=(
            "Import MODEL, lower it (LegalizeOps, FuseOps, FuseTIR), schedule every conv / dense / matmul with "
            "its mapping onto the accelerator (searched for --hw-preset, or taken from --tuning-records), and "
            "export a library that runs on the CPU as a functional model of the accelerator."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="an .onnx file, a TVMScript .py file, or a zoo name")
    p.add_argument("-o", "--output", default="module.so", help="exported library path; missing folders are created")
    p.add_argument("--target", default=None, help="llvm target as JSON or 'llvm' (the codesign key is added)")
    p.add_argument("--input-shapes", default=None, help="fix dynamic dims, tvmc syntax: 'name:[1,3,224,224]'")
    p.add_argument("--tuning-records", default=None, metavar="DB", help="a result folder or schedule database")
    p.add_argument(
        "--hw-preset", default=None, help="eyeriss | vta | hardware.json (default eyeriss; with --codesign: the area budget)"
    )
    p.add_argument("--codesign", action="store_true", help="co-design the hardware and the mappings first")
    p.add_argument(
        "--no-verify", dest="verify", action="store_false",
        help="skip the self-check: by default every scheduled layer, and the whole model, is run on seeded random "
        "inputs against TVM's default schedules, and no library is written if they differ (with --codesign the "
        "co-design folder, written before, stays)",
    )
    add_codesign_options(p)
    p.set_defaults(func=run)
    return p


def _check_output(path: Path) -> None:
    """Fail before any work when the output cannot be written; missing folders are created only when writing."""
    if path.exists() and path.is_dir():
        raise CodesignError(f"output path is a folder: {path}")
    ancestor = path.parent if str(path.parent) else Path(".")
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise CodesignError(f"cannot create the output folder {path.parent}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK):
        raise CodesignError(f"output folder is not writable: {ancestor}")


def _database_dir(spec: str) -> Path:
    from tvm_codesign.report import ResultFolder

    root = Path(spec)
    for candidate in (root, ResultFolder(root).database):
        if (candidate / "database_tuning_record.json").is_file():
            return candidate
    raise CodesignError(f"--tuning-records {spec}: no database_tuning_record.json there or in {ResultFolder.DATABASE}/")


def run(args: argparse.Namespace) -> int:
    from tvm_codesign.model.hardware import SystemParams
    from tvm_codesign.model.presets import load_hardware

    if args.codesign and args.tuning_records:
        raise CodesignError("--codesign and --tuning-records exclude each other")
    if args.area_budget is not None and not args.codesign:
        raise CodesignError("--area-budget is a co-design setting; it needs --codesign")
    if args.codesign and args.hw_preset is not None and args.area_budget is not None:
        raise CodesignError(
            "with --codesign, --hw-preset sets the area budget (its area); give --hw-preset or --area-budget, not both"
        )
    output = Path(args.output)
    _check_output(output)
    system = SystemParams(precision=args.precision)
    result_dir = output.parent / f"{output.stem}.codesign"
    if args.codesign:
        from tvm_codesign.pipeline import validate

        options = options_from(args)
        if args.hw_preset is not None:  # with --codesign a preset is the area reference (its warm start is built in)
            from tvm_codesign.cost.physical import area

            reference = load_hardware(args.hw_preset, system)
            options = dataclasses.replace(
                options, area_budget=area(reference).total_mm2, warm_start=(args.hw_preset,)
            )
        prepared = validate(options, result_dir)
        hw = None
        database = None
    else:
        hw = load_hardware(args.hw_preset or "eyeriss", system)
        database = _database_dir(args.tuning_records) if args.tuning_records else None
        if database is None:
            from tvm_codesign.pipeline import check_inner_budget

            budget_sw, inner_seconds = inner_budget(args)
            check_inner_budget(budget_sw, inner_seconds)  # before the model is loaded

    import tvm

    from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
    from tvm_codesign.compiler.frontend import load_model
    from tvm_codesign.compiler.target import codesign_target
    from tvm_codesign.passes import apply_database, load_result

    lowered = lower_to_tir(load_model(args.model, args.input_shapes))
    workloads = extract_workloads(lowered, lowered=True).workloads
    with tempfile.TemporaryDirectory(prefix="tvm-codesign-") as work:
        if args.codesign:
            from tvm_codesign.pipeline import codesign_to_folder

            codesign_to_folder(prepared, lowered, workloads, args.model, result_dir)
            hw, database = load_result(result_dir)
        elif database is None:
            from tvm_codesign.pipeline import schedules_for_fixed_hardware

            database = Path(work) / "database"
            schedules_for_fixed_hardware(
                lowered, workloads, hw, database, strategy=args.inner_strategy, budget=budget_sw, seed=args.seed,
                seconds=inner_seconds,
            )
        target = codesign_target(hw, args.target)
        mod = apply_database(lowered, hw, database)
        executable = tvm.compile(mod, target=target)
        built = Path(work) / f"module{output.suffix or '.so'}"
        executable.export_library(str(built))
        if args.verify:
            from tvm_codesign.compiler.verify import verify_schedules

            # The exported library itself is checked: what is verified is what gets written.
            try:
                check = verify_schedules(lowered, mod, tvm.runtime.load_module(str(built)), workloads, seed=args.seed)
            except CodesignError:
                raise
            except Exception as err:  # noqa: BLE001 - TVM and numpy raise many kinds; the user gets one line
                first = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
                raise CodesignError(f"the self-check could not run ({first}); --no-verify skips it") from None
            print(
                f"verified {len(check.layers)} scheduled layers against TVM's default schedules and the model "
                f"against stock TVM (max abs diff {check.model_max_abs_diff:.2g}, {check.seconds:.1f} s)",
                file=sys.stderr,
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(output, suffix=output.suffix or ".so") as tmp:
            shutil.copyfile(built, tmp)
    hw_path = output.with_suffix(".hardware.json")
    hw.save(hw_path)
    extra = f" and the co-design in {result_dir}/" if args.codesign else ""
    print(f"wrote {output} (target {target.attrs['model']}), {hw_path}{extra}")
    return 0
