"""Model import: ONNX (path or ModelProto), a Relax IRModule, a TVMScript file, or a zoo name → Relax IRModule.

Relay no longer exists in TVM (removed in 0.20); Relax is its successor, so every model enters as Relax.
Every user-facing failure raises :class:`~tvm_codesign.errors.CodesignError` with a one-line message.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import tvm
from tvm.error import OpNotImplemented
from tvm.relax.frontend.onnx import from_onnx

from tvm_codesign.errors import CodesignError

logger = logging.getLogger(__name__)

#: The batch size used for a dynamic leading dim when no ``--input-shapes`` is given.
DEFAULT_BATCH = 1

_SHAPE_ENTRY = re.compile(r"\s*([^\s:\[\]]+)\s*:\s*\[([^\]]*)\]\s*")


def parse_input_shapes(text: str | None) -> dict[str, list[int]]:
    """Parse tvmc's ``--input-shapes`` syntax: ``"name:[1,3,224,224] other:[1,10]"``.

    Entries may be separated by spaces or commas outside the brackets.

    Raises
    ------
    CodesignError
        On any malformed entry or non-positive dimension.
    """
    if text is None or not text.strip():
        return {}
    shapes: dict[str, list[int]] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _SHAPE_ENTRY.match(text, pos)
        if not m:
            raise CodesignError(
                f"bad --input-shapes {text!r}: expected entries like name:[1,3,224,224] separated by spaces"
            )
        name, dims = m.group(1), m.group(2)
        try:
            shape = [int(d) for d in dims.split(",") if d.strip()]
        except ValueError:
            raise CodesignError(f"bad --input-shapes entry {m.group(0).strip()!r}: dims must be integers") from None
        if not shape or any(d < 1 for d in shape):
            raise CodesignError(f"bad --input-shapes entry {m.group(0).strip()!r}: dims must be positive integers")
        shapes[name] = shape
        pos = m.end()
        if pos < len(text) and text[pos] == ",":
            pos += 1
    return shapes


# ------------------------------------------------------------------------------------------------------------
def _load_onnx_file(path: Path) -> Any:
    import onnx
    from google.protobuf.message import DecodeError

    if not path.is_file():
        raise CodesignError(f"model file not found: {path}")
    try:
        model = onnx.load(str(path))
    except (DecodeError, ValueError, RuntimeError, UnicodeDecodeError) as err:
        raise CodesignError(f"not an ONNX model: {path} ({type(err).__name__})") from None
    if len(model.graph.node) == 0:
        raise CodesignError(f"not an ONNX model (no graph nodes): {path}")
    return model


def _check_onnx(model: Any, label: str) -> None:
    import onnx

    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "validation failed"
        raise CodesignError(f"ONNX checker rejected {label}: {first}") from None


def _onnx_input_shapes(model: Any, overrides: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    """Fixed shapes for every graph input, using overrides and the default batch for a dynamic leading dim."""
    initializers = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    names = {i.name for i in inputs}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise CodesignError(
            f"--input-shapes names unknown input(s) {', '.join(unknown)}; model inputs are {', '.join(sorted(names))}"
        )
    shapes: dict[str, list[int]] = {}
    for inp in inputs:
        dims = inp.type.tensor_type.shape.dim
        if inp.name in overrides:
            shape = list(overrides[inp.name])
            if len(shape) != len(dims):
                raise CodesignError(
                    f"--input-shapes gives {inp.name} rank {len(shape)} but the model's input has rank {len(dims)}"
                )
            shapes[inp.name] = shape
            continue
        shape = []
        for axis, d in enumerate(dims):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(int(d.dim_value))
            elif axis == 0:
                shape.append(DEFAULT_BATCH)
                warnings.warn(
                    f"input {inp.name!r} has a dynamic batch dim; using batch {DEFAULT_BATCH} "
                    f"(override with --input-shapes {inp.name}:[...])",
                    stacklevel=3,
                )
            else:
                label = d.dim_param or "?"
                raise CodesignError(
                    f"input {inp.name!r} has dynamic dim {axis} ({label}); fix it with --input-shapes {inp.name}:[...]"
                )
        shapes[inp.name] = shape
    return shapes


def onnx_to_relax(model: Any, input_shapes: Mapping[str, Sequence[int]] | None = None, label: str = "model") -> Any:
    """Import an ``onnx.ModelProto`` into a Relax IRModule with fixed input shapes."""

    _check_onnx(model, label)
    shapes = _onnx_input_shapes(model, input_shapes or {})
    with warnings.catch_warnings():
        # The importer warns about value_info entries without shapes; they are harmless.
        warnings.filterwarnings("ignore", message="Field 'shape' of 'type' is required")
        try:
            return from_onnx(model, shape_dict=shapes)
        except OpNotImplemented as err:
            msg = str(err).strip().splitlines()[0]
            ops = msg.split(":", 1)[1].strip() if ":" in msg else msg
            raise CodesignError(f"the TVM ONNX importer cannot convert op(s): {ops} ({label})") from None


def _load_tvmscript(path: Path) -> Any:
    """Load a TVMScript file that defines one ``@I.ir_module`` class (or a module-level ``Module``)."""

    import importlib.util
    import sys

    # The TVMScript parser reads the class source through inspect, which needs a real module in sys.modules.
    module_name = f"tvm_codesign_user_script_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CodesignError(f"cannot load TVMScript file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise CodesignError(f"TVMScript file {path} has a syntax error at line {err.lineno}: {err.msg}") from None
    except Exception as err:  # the TVMScript parser raises DiagnosticError and friends
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CodesignError(f"cannot parse TVMScript file {path}: {first}") from None
    finally:
        sys.modules.pop(module_name, None)
    namespace = vars(module)
    modules = [v for v in namespace.values() if isinstance(v, tvm.IRModule)]
    if not modules:
        raise CodesignError(f"TVMScript file {path} defines no IRModule (use @I.ir_module)")
    if len(modules) > 1:
        named = namespace.get("Module")
        if isinstance(named, tvm.IRModule):
            return named
        raise CodesignError(f"TVMScript file {path} defines {len(modules)} IRModules; name the one to use Module")
    return modules[0]


def load_model(
    model: Any,
    input_shapes: Mapping[str, Sequence[int]] | str | None = None,
) -> Any:
    """Load a model as a Relax IRModule with fixed input shapes.

    Parameters
    ----------
    model
        A path to an ``.onnx`` file or to a TVMScript ``.py`` file, an ``onnx.ModelProto``, a Relax
        ``tvm.IRModule`` (returned as is), or a zoo name (``dqn``, ``resnet50``, …).
    input_shapes
        Overrides for dynamic input dims, as a dict or in tvmc's ``name:[1,3,224,224]`` syntax. Without it a
        dynamic leading (batch) dim is set to :data:`DEFAULT_BATCH` with a warning; other dynamic dims are an error.

    Returns
    -------
    tvm.IRModule
        The Relax module, as ``relax.frontend.onnx.from_onnx`` (or the TVMScript file) gives it.
    """

    if isinstance(input_shapes, str) or input_shapes is None:
        input_shapes = parse_input_shapes(input_shapes)
    if isinstance(model, tvm.IRModule):
        if "main" not in [gv.name_hint for gv in model.get_global_vars()]:
            raise CodesignError("the Relax IRModule has no 'main' function")
        return model
    try:
        import onnx

        if isinstance(model, onnx.ModelProto):
            return onnx_to_relax(model, input_shapes, label="the ONNX model")
    except ImportError:  # pragma: no cover - onnx is a dependency
        pass
    if isinstance(model, (str, os.PathLike)):
        text = os.fspath(model)
        path = Path(text)
        if _is_zoo_name(text):
            if path.is_file():
                # An existing file wins, but the name is ambiguous: say which one is loaded.
                warnings.warn(f"{text!r} is both a file here and a zoo model; loading the file {path.resolve()}")
            else:  # not a file (absent, or a folder that happens to have the name): the zoo model
                from tvm_codesign.zoo.catalog import zoo_path

                path = zoo_path(text)
        if path.is_dir():
            raise CodesignError(f"model path is a folder, not a model file: {path}")
        if path.suffix == ".py":
            if not path.is_file():
                raise CodesignError(f"model file not found: {path}")
            return _load_tvmscript(path)
        if not path.exists():
            hint = "" if path.suffix else f" (and not a zoo model: {', '.join(_zoo_names())})"
            raise CodesignError(f"model file not found: {path}{hint}")
        return onnx_to_relax(_load_onnx_file(path), input_shapes, label=str(path))
    raise CodesignError(f"cannot load a model from a {type(model).__name__}")


def _zoo_names() -> tuple[str, ...]:
    try:
        from tvm_codesign.zoo.catalog import ZOO_NAMES
    except ImportError:  # pragma: no cover - the zoo ships with the package
        return ()
    return tuple(ZOO_NAMES)


def _is_zoo_name(text: str) -> bool:
    return text in _zoo_names()
