"""`tvm-codesign run LIB --inputs in.npz -o out.npz`: run a compiled library on the CPU."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import CodesignError
from ..files import atomic_output


def register(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("run", help="run a library made by `compile` on the CPU", description=__doc__)
    p.add_argument("library", metavar="LIB", help="library written by `tvm-codesign compile`")
    p.add_argument("--inputs", required=True, help=".npz with one array per model input, by name or in order")
    p.add_argument("-o", "--output", required=True, help=".npz to write the outputs to (output_0, output_1, ...)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np

    lib_path, in_path, out_path = Path(args.library), Path(args.inputs), Path(args.output)
    if not lib_path.is_file():
        raise CodesignError(f"library not found: {lib_path}")
    if not in_path.is_file():
        raise CodesignError(f"inputs file not found: {in_path}")
    if not out_path.parent.is_dir():
        raise CodesignError(f"output folder does not exist: {out_path.parent}")
    try:
        inputs = dict(np.load(in_path))
    except Exception as err:  # noqa: BLE001 - numpy raises several kinds for a bad file
        raise CodesignError(f"cannot read {in_path} as .npz: {type(err).__name__}") from None

    import tvm
    from tvm import relax

    try:
        lib = tvm.runtime.load_module(str(lib_path))
    except Exception as err:  # noqa: BLE001 - TVM raises its own error types
        raise CodesignError(f"cannot load library {lib_path}: {str(err).splitlines()[0] if str(err) else err}") from None
    vm = relax.VirtualMachine(lib, tvm.cpu())
    arrays = list(inputs.values())
    try:
        result = vm["main"](*[tvm.runtime.tensor(np.ascontiguousarray(a)) for a in arrays])
    except Exception as err:  # noqa: BLE001
        first = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise CodesignError(f"running {lib_path} failed (check the inputs' shapes and dtypes): {first}") from None
    outputs = [result] if hasattr(result, "numpy") else list(result)  # one tensor, or a tuple of them
    named = {f"output_{i}": o.numpy() for i, o in enumerate(outputs)}
    with atomic_output(out_path, suffix=".npz") as tmp:
        np.savez(tmp, **named)
    print(f"wrote {out_path}: " + ", ".join(f"{k} {v.shape}" for k, v in named.items()))
    return 0
