"""`tvm-codesign run LIB --inputs in.npz -o out.npz`: run a compiled library on the CPU."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tvm_codesign.errors import CodesignError
from tvm_codesign.files import atomic_output


def register(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("run", help="run a library made by `compile` on the CPU", description=__doc__)
    p.add_argument("library", metavar="LIB", help="library written by `tvm-codesign compile`")
    p.add_argument(
        "--inputs", required=True,
        help=".npz with one array per model input, matched by name (np.savez(f, name=array)); only when its arrays "
        "are unnamed (arr_0, arr_1, ...: np.savez(f, a, b)) in the model's input order",
    )
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
    names = [vm._get_function_param_name("main", i) for i in range(vm._get_function_arity("main"))]
    arrays = _match_inputs(inputs, names, in_path)
    try:
        result = vm["main"](*[tvm.runtime.tensor(np.ascontiguousarray(a)) for a in arrays])
    except Exception as err:  # noqa: BLE001
        raise CodesignError(_input_error(str(err), names, arrays, in_path)) from None
    from tvm_codesign.compiler.verify import vm_outputs

    named = {f"output_{i}": a for i, a in enumerate(vm_outputs(result))}
    with atomic_output(out_path, suffix=".npz") as tmp:
        np.savez(tmp, **named)
    print(f"wrote {out_path}: " + ", ".join(f"{k} {v.shape}" for k, v in named.items()))
    return 0


def _match_inputs(inputs: dict[str, Any], names: list[str], path: Path) -> list[Any]:
    """The arrays of ``inputs`` in the order of the model's inputs ``names``: by name, or by position when the
    file's arrays are unnamed (``arr_0``, ``arr_1``, ... as ``np.savez(f, a, b)`` names them)."""
    unnamed = [f"arr_{i}" for i in range(len(inputs))]
    if sorted(inputs) == sorted(unnamed) and not set(names) & set(inputs):
        if len(inputs) != len(names):
            raise CodesignError(f"{path} has {len(inputs)} unnamed arrays; the model has {len(names)} inputs: "
                                f"{', '.join(names)}")
        return [inputs[k] for k in unnamed]
    # Relax's ONNX frontend renames inputs that are no identifiers ("input.1" -> "input_1", "0" -> "input_0"):
    # a file saved under the ONNX names matches too.
    inputs = {(k if k in names else _relax_name(k)): v for k, v in inputs.items()}
    missing = [n for n in names if n not in inputs]
    extra = sorted(k for k in inputs if k not in names)
    if missing or extra:
        what = []
        if missing:
            what.append(f"no array for input(s) {', '.join(missing)}")
        if extra:
            what.append(f"array(s) {', '.join(extra)} that are no input")
        raise CodesignError(f"{path} has {' and '.join(what)}; the model's inputs are {', '.join(names)}")
    return [inputs[n] for n in names]


def _relax_name(name: str) -> str:
    """The name Relax's ONNX frontend gives an input called ``name`` (its ``_sanitize_name``, without the suffix
    it adds to make clashing names unique)."""
    new = name.replace(".", "_")
    return new if new and (new[0].isalpha() or new[0] == "_") else f"input_{new}"


def _input_error(message: str, names: list[str], arrays: list[Any], path: Path) -> str:
    """A one-line reason for the VM refusing an input: which input, what it must be, what the file gave."""
    import re

    found = re.search(r'param\[(\d+)\], param=([^,]+), annotation=R\.Tensor\(\(([^)]*)\), dtype="([^"]*)"\)', message)
    if found:
        i, name, shape, dtype = int(found.group(1)), found.group(2), found.group(3), found.group(4)
        a = arrays[i] if i < len(arrays) else None
        given = f"{a.dtype} of shape {tuple(a.shape)}" if a is not None else "nothing"
        return f"input {name} must be {dtype} of shape ({shape}); {path} gives {given}"
    last = message.strip().splitlines()[-1] if message.strip() else "unknown error"
    return f"running the library on {path} failed (check the inputs' shapes and dtypes): {last}"
