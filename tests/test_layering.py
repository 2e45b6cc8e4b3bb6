"""The architecture held by the source, checked with ``ast``: layers import only downwards, there are no import
circles (function-local imports counted), and the pure layers import no TVM and the search engine no learner.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tvm_codesign"
ZOO = Path(__file__).resolve().parents[1] / "models"

#: Layers from the bottom; a module may import its own layer or lower ones. The first matching prefix decides.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tvm_codesign.errors", "tvm_codesign.files", "tvm_codesign.pareto", "tvm_codesign.technology", "tvm_codesign.zoo"),
    ("tvm_codesign.model",),
    ("tvm_codesign.cost",),
    ("tvm_codesign.search",),
    ("tvm_codesign.spaces",),
    ("tvm_codesign.bilevel",),
    ("tvm_codesign.compiler",),
    ("tvm_codesign.report", "tvm_codesign.pipeline"),
    ("tvm_codesign.passes",),
    ("tvm_codesign.cli", "tvm_codesign.__main__", "tvm_codesign.testing"),
)
#: Where TVM may be imported when a module is imported (everything else imports it, if at all, inside functions).
TVM_ALLOWED = ("tvm_codesign.compiler", "tvm_codesign.passes", "tvm_codesign.pipeline", "tvm_codesign.cli")
TVM_ROOTS = {"tvm", "tvm_ffi"}
LEARNERS = {"sklearn", "xgboost", "skopt"}


def _modules() -> dict[str, Path]:
    out = {}
    for root, name in ((PACKAGE, "tvm_codesign"), (ZOO, "tvm_codesign.zoo")):
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([name, *parts])] = path
    return out


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


@functools.lru_cache(maxsize=None)
def _imports(module: str, source: str | None = None, is_package: bool | None = None) -> list[tuple[str, bool]]:
    """``(imported module, at import time)`` for every import statement of ``module`` (or of ``source``)."""
    tree = ast.parse(MODULES[module].read_text() if source is None else source)
    package = module if (_is_package(module) if is_package is None else is_package) else module.rpartition(".")[0]
    top: set[int] = set()

    def mark(body: list[ast.stmt]) -> None:  # statements that run when the module is imported
        for node in body:
            if _type_checking(node):
                continue
            top.add(id(node))
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and field == "body":
                    if isinstance(node, ast.ClassDef):
                        mark(node.body)  # a class body runs at import time
                    continue
                if isinstance(inner, list):
                    mark([n for n in inner if isinstance(n, ast.stmt)] + [h for h in inner if isinstance(h, ast.ExceptHandler) for h in h.body])

    mark(tree.body)
    # Imports for type checkers only never run: not an edge at all.
    typing_only = {id(n) for block in ast.walk(tree) if _type_checking(block) for n in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            # `from pkg import sub` imports the submodule pkg.sub when there is one
            subs = [f"{name}.{a.name}" for a in node.names if f"{name}.{a.name}" in MODULES]
            found += [(n, id(node) in top) for n in (subs or [name])]
    return found


def _project(name: str) -> str | None:
    """The project module ``name`` refers to (a module of ours, or None)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> int:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{module} is in no layer of tests/test_layering.py")


def _graph(import_time_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for name, at_import in _imports(m):
            target = _project(name)
            if target and target != m and (at_import or not import_time_only):
                graph[m].add(target)
    return graph


def _loaded_at_import(module: str, graph: dict[str, set[str]]) -> set[str]:
    """Every project module importing ``module`` runs (its parent packages' ``__init__`` included)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in MODULES]
        todo += graph[m]
    return seen


def test_every_module_is_in_a_layer_and_imports_only_downwards() -> None:
    upward = []
    for m, targets in _graph(import_time_only=False).items():
        if m == "tvm_codesign":
            continue  # the public API re-exports from every layer, lazily
        upward += [f"{m} -> {t}" for t in targets if t != "tvm_codesign" and _layer(t) > _layer(m)]
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def test_no_import_circles_counting_function_local_imports() -> None:
    graph = _graph(import_time_only=False)
    graph.pop("tvm_codesign")  # lazy re-exports (module __getattr__), never imported by the modules below it
    for targets in graph.values():
        targets.discard("tvm_codesign")
    # Tarjan's strongly connected components: a component of more than one module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def test_only_the_compiler_side_imports_tvm_at_import_time() -> None:
    graph = _graph(import_time_only=True)
    offenders = []
    for m in MODULES:
        if any(m == p or m.startswith(p + ".") for p in TVM_ALLOWED):
            continue
        for loaded in _loaded_at_import(m, graph):
            roots = {name.split(".")[0] for name, at_import in _imports(loaded) if at_import}
            if roots & TVM_ROOTS:
                offenders.append(f"{m} (through {loaded})")
    assert not offenders, "import TVM at import time:\n" + "\n".join(sorted(offenders))


def test_search_engine_imports_no_learner() -> None:
    graph = _graph(import_time_only=True)
    for m in ("tvm_codesign.search.base", "tvm_codesign.search", "tvm_codesign.bilevel.mapping_search"):
        for loaded in _loaded_at_import(m, graph):
            roots = {name.split(".")[0] for name, at_import in _imports(loaded) if at_import}
            assert not roots & (LEARNERS | TVM_ROOTS), f"importing {m} imports {roots & LEARNERS} (in {loaded})"


@pytest.mark.parametrize(
    "module",
    ["tvm_codesign", "tvm_codesign.search.base", "tvm_codesign.bilevel.outer", "tvm_codesign.spaces.mapping"],
)
def test_importing_leaves_tvm_and_learners_unloaded(module: str) -> None:
    # The same property, observed in a fresh interpreter (third-party modules that import TVM included).
    code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(TVM_ROOTS | LEARNERS)!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", f"importing {module} loads {out}"


def test_the_checker_sees_local_guarded_and_relative_imports() -> None:
    # The checker itself, on a made-up model-layer module: a function-local import is an edge (not at import
    # time), a guarded top-level one is at import time, TYPE_CHECKING blocks are not imports, relative imports
    # resolve, and the edge to the compiler is upward.
    source = """
from typing import TYPE_CHECKING
try:
    import tvm
except ImportError:
    tvm = None
if TYPE_CHECKING:
    from tvm_codesign.bilevel import outer
from .hardware import HardwareConfig
from .. import pareto

def f():
    from tvm_codesign.compiler import schedule
"""
    found = dict(_imports("tvm_codesign.model.workload", source, is_package=False))
    assert found["tvm"] is True
    assert found["tvm_codesign.model.hardware"] is True
    assert found["tvm_codesign.pareto"] is True
    assert found["tvm_codesign.compiler.schedule"] is False
    assert "tvm_codesign.bilevel.outer" not in found
    target = _project("tvm_codesign.compiler.schedule")
    assert target == "tvm_codesign.compiler.schedule"
    assert _layer(target) > _layer("tvm_codesign.model.workload")
