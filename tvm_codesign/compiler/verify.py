"""The compiler checks itself: a module with co-designed schedules must compute what stock TVM computes.

:func:`verify_schedules` compares, on seeded random inputs,

1. every PrimFunc the schedules changed with the same PrimFunc as lowered (TVM's default schedule), each built
   alone on llvm: a mismatch names the layer;
2. optionally the whole compiled model with the same model built by stock TVM without those schedules.

Tolerances are ``rtol = 1e-4``, ``atol = 1e-5`` (:data:`RTOL`, :data:`ATOL`): schedules reorder float32
reductions, so results differ in the last bits, never by more. A layer alone runs on standard-normal data *and
weights*, whose outputs reach tens (DQN's 3x3x64 conv: up to 81), and the rounding error of a reordered sum grows
with them (6.9e-5 there), so a layer's ``atol`` is taken relative to its largest output (``atol * max(1, max
|y|)``). A wrong tile is off by the size of the outputs themselves. A
mismatch raises a one-line :class:`~tvm_codesign.errors.CodesignError`; ``tvm-codesign compile`` then writes no
library and no sidecar (with ``--codesign`` the co-design's own folder, written before, stays for inspection).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Iterable

import numpy as np

import tvm
import tvm_ffi
from tvm import relax, s_tir, tirx

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.workload import Workload

RTOL = 1e-4
ATOL = 1e-5


@dataclasses.dataclass(frozen=True)
class LayerCheck:
    """One scheduled PrimFunc compared with its default schedule."""

    primfunc: str
    layer: str  # the workload name(s) scheduled in it
    max_abs_diff: float


@dataclasses.dataclass(frozen=True)
class Verification:
    """What :func:`verify_schedules` compared (every comparison passed, or it raised)."""

    layers: tuple[LayerCheck, ...]
    model_max_abs_diff: float | None  # None when the whole model was not compared
    seconds: float


def _random(shape: Iterable[int], dtype: str, rng: np.random.Generator, index_safe: bool = False) -> np.ndarray:
    """Seeded random data: standard normal floats; integers in [-3, 3], or zeros with ``index_safe`` (a model's
    integer inputs are often indices, and 0 is always a valid one)."""
    shape = tuple(int(d) for d in shape)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if index_safe:
        return np.zeros(shape, dtype)
    low = 0 if dtype.startswith("uint") else -3
    return rng.integers(low, 4, shape).astype(dtype)


def _written_params(func: Any) -> list[int]:
    """Positions of the PrimFunc parameters some block writes (its outputs, destination-passing style)."""

    names = [p.name for p in func.params]
    written: set[str] = set()

    def visit(block: Any) -> None:
        for region in block.writes:
            written.add(region.source.name)

    tvm_ffi.structural_walk(func.body, (s_tir.SBlock, visit), order="pre")
    return [i for i, n in enumerate(names) if n in written]


def _run_primfunc(func: Any, inputs: dict[int, np.ndarray], outputs: list[int]) -> list[np.ndarray]:

    from tvm_codesign.compiler.schedule import schedulable_module

    lib = tvm.compile(schedulable_module(func), target="llvm")
    args = []
    for i, p in enumerate(func.params):
        if i in inputs:
            args.append(tvm.runtime.tensor(inputs[i]))
        else:
            args.append(tvm.runtime.tensor(np.zeros([int(d) for d in p.ty.shape], str(p.ty.dtype))))
    lib["main"](*args)
    return [args[i].numpy() for i in outputs]


def _max_diff(got: list[np.ndarray], want: list[np.ndarray], scaled: bool = False) -> tuple[float, bool]:
    """Largest absolute difference and whether every element is within the tolerances (``scaled``: ``atol``
    relative to the largest reference output)."""
    worst, ok = 0.0, True
    for a, b in zip(got, want):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.shape != b.shape:
            return float("inf"), False
        diff = np.abs(a - b)
        worst = max(worst, float(np.nanmax(diff)) if diff.size else 0.0)
        atol = ATOL * max(1.0, float(np.nanmax(np.abs(b)))) if scaled and b.size else ATOL
        ok &= bool(np.all(diff <= atol + RTOL * np.abs(b)) and np.array_equal(np.isnan(a), np.isnan(b)))
    return worst, ok


def vm_outputs(result: Any) -> list[np.ndarray]:
    """A Relax VM result (one tensor, or a tuple of them) as a list of arrays."""
    return [result.numpy()] if hasattr(result, "numpy") else [o.numpy() for o in result]


def scheduled_primfuncs(lowered: Any, scheduled: Any) -> list[str]:
    """Names of the PrimFuncs of ``scheduled`` that differ from the same-named ones of ``lowered``."""

    before = {g.name_hint for g in lowered.get_global_vars()}
    out = []
    for gv in scheduled.get_global_vars():
        func = scheduled[gv]
        if not isinstance(func, tirx.PrimFunc) or gv.name_hint not in before:
            continue
        if not tvm_ffi.structural_equal(func, lowered[gv.name_hint]):
            out.append(gv.name_hint)
    return sorted(out)


def verify_layers(lowered: Any, scheduled: Any, workloads: Iterable[Workload] = (), seed: int = 0) -> list[LayerCheck]:
    """Compare every PrimFunc the schedules changed with its default schedule on seeded random inputs.

    Raises
    ------
    CodesignError
        Naming the first layer whose outputs differ beyond :data:`RTOL` / :data:`ATOL`.
    """
    names = {src[0]: w.name for w in workloads for src in w.sources}
    checks = []
    for name in scheduled_primfuncs(lowered, scheduled):
        before, after = lowered[name], scheduled[name]
        outputs = _written_params(before)
        if not outputs:
            raise CodesignError(f"cannot check the schedule of PrimFunc {name}: none of its parameters is written")
        rng = np.random.default_rng([seed, len(checks)])
        inputs = {
            i: _random(p.ty.shape, str(p.ty.dtype), rng) for i, p in enumerate(before.params) if i not in outputs
        }
        want = _run_primfunc(before, inputs, outputs)
        got = _run_primfunc(after, inputs, outputs)
        worst, ok = _max_diff(got, want, scaled=True)
        layer = names.get(name, name)
        if not ok:
            raise CodesignError(
                f"the schedule of layer {layer} (PrimFunc {name}) computes wrong results: max abs diff {worst:.3g} "
                f"to TVM's default schedule on seeded random inputs (rtol {RTOL:g}, atol {ATOL:g} x the largest output)"
            )
        checks.append(LayerCheck(name, layer, worst))
    return checks


def verify_model(lowered: Any, executable: Any, seed: int = 0) -> float:
    """Run ``executable`` (the scheduled model) and ``lowered`` built by stock TVM on the same seeded random
    inputs; the max abs difference of their outputs, or :class:`CodesignError` beyond the tolerances."""

    rng = np.random.default_rng([seed, 1 << 20])
    inputs = []
    for param in lowered["main"].params:
        inputs.append(_random([int(d) for d in param.ty.shape], str(param.ty.dtype), rng, index_safe=True))

    def run(exe: Any) -> list[np.ndarray]:
        vm = relax.VirtualMachine(exe, tvm.cpu())
        return vm_outputs(vm["main"](*[tvm.runtime.tensor(x) for x in inputs]))

    got = run(executable)
    want = run(tvm.compile(lowered, target="llvm"))
    worst, ok = _max_diff(got, want)
    if not ok:
        raise CodesignError(
            f"the compiled model computes wrong results: max abs diff {worst:.3g} to stock TVM on seeded random "
            f"inputs (rtol {RTOL:g}, atol {ATOL:g}), though every scheduled layer alone matched"
        )
    return worst


def verify_schedules(
    lowered: Any, scheduled: Any, executable: Any = None, workloads: Iterable[Workload] = (), seed: int = 0
) -> Verification:
    """:func:`verify_layers`, then (with ``executable``) :func:`verify_model`."""
    start = time.perf_counter()
    layers = verify_layers(lowered, scheduled, workloads, seed)
    model = verify_model(lowered, executable, seed) if executable is not None else None
    return Verification(tuple(layers), model, time.perf_counter() - start)


__all__ = ["ATOL", "RTOL", "LayerCheck", "Verification", "scheduled_primfuncs", "verify_layers", "verify_model",
           "verify_schedules", "vm_outputs"]
