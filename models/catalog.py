"""The model zoo: ONNX models with seeded random weights, built locally (no downloads) and cached on disk.

>>> from tvm_codesign.zoo import build_model, zoo_path, input_shapes
>>> input_shapes("dqn")
{'input': [1, 4, 84, 84]}

Every model is float32, batch 1, opset 17, has one input ``input`` and one output ``output``, and passes
``onnx.checker.check_model(full_check=True)``. :func:`zoo_path` writes a model once into a cache folder outside
the repo, ``$TVM_CODESIGN_CACHE/zoo/`` or ``~/.cache/tvm_codesign/zoo/``; the file name carries the builder
version, so changing a builder (and bumping its ``VERSION``) never serves a stale file.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import uuid
import zlib
from typing import Callable

import onnx

from tvm_codesign.errors import CodesignError

from . import _graph, bert, dqn, mlp, mobilenet_v2, resnet
from ._graph import Graph, Layer

#: Environment variable naming the project's cache root (the zoo uses its ``zoo/`` subfolder).
CACHE_ENV = "TVM_CODESIGN_CACHE"


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """How to build one zoo model and what its cost should be.

    Parameters
    ----------
    build
        ``build(seed) -> Graph``.
    version
        The family module's ``VERSION``.
    source
        Where the architecture (and the published figure) comes from.
    published_macs
        The published multiply-accumulate count.
    exact
        True if ``published_macs`` is exact (computed by hand from the architecture); False if it is a rounded
        published figure (torchvision's docs give 2-3 significant digits), good to about 2 %.
    """

    build: Callable[[int], Graph]
    version: int
    source: str
    published_macs: int
    exact: bool


_ZOO: dict[str, ZooEntry] = {
    "resnet18": ZooEntry(
        lambda seed: resnet.build("resnet18", seed), resnet.VERSION,
        "He et al. 2016; torchvision.models.resnet18 (1.81 GFLOPS, i.e. MACs, in torchvision docs)", 1_810_000_000, False,
    ),
    "resnet50": ZooEntry(
        lambda seed: resnet.build("resnet50", seed), resnet.VERSION,
        "He et al. 2016; torchvision.models.resnet50 v1.5 (4.09 GFLOPS, i.e. MACs, in torchvision docs)", 4_090_000_000, False,
    ),
    "mobilenet_v2": ZooEntry(
        mobilenet_v2.build, mobilenet_v2.VERSION,
        "Sandler et al. 2018; torchvision.models.mobilenet_v2 (0.30 GFLOPS, i.e. MACs, in torchvision docs)", 300_000_000, False,
    ),
    "dqn": ZooEntry(dqn.build, dqn.VERSION, "Mnih et al. 2015, Nature DQN", 9_352_192, True),
    "mlp": ZooEntry(mlp.build, mlp.VERSION, "MLP 784-1024-1024-1024-10", 2_910_208, True),
    "bert_layer": ZooEntry(
        bert.build, bert.VERSION, "Devlin et al. 2019, one BERT-base encoder layer, sequence 128", 931_135_488, True
    ),
}

#: Every zoo model name, in a fixed order.
ZOO_NAMES: tuple[str, ...] = tuple(_ZOO)


def is_zoo_name(name: str) -> bool:
    """True if ``name`` is a zoo model name (exact match, so a file path never is)."""
    return isinstance(name, str) and name in _ZOO


def zoo_entry(name: str) -> ZooEntry:
    """The :class:`ZooEntry` of ``name``; unknown names raise :class:`CodesignError` listing the known ones."""
    try:
        return _ZOO[name]
    except (KeyError, TypeError):
        raise CodesignError(f"unknown zoo model {name!r}; known: {', '.join(ZOO_NAMES)}") from None


def _seed(name: str) -> int:
    # crc32 is stable across processes and Python versions (unlike hash()), so weights never change silently.
    return zlib.crc32(name.encode())


def build_graph(name: str) -> Graph:
    """The builder's graph of ``name``: structure, shapes and per-layer MACs; weights are drawn in ``to_model``."""
    return zoo_entry(name).build(_seed(name))


def build_model(name: str) -> onnx.ModelProto:
    """Build zoo model ``name`` in memory.

    Parameters
    ----------
    name
        One of :data:`ZOO_NAMES`.

    Returns
    -------
    onnx.ModelProto
        Float32, batch 1, opset 17, weights as initializers drawn from a numpy RNG seeded by the name:
        deterministic, two calls give equal protos.

    Raises
    ------
    CodesignError
        If ``name`` is not a zoo name.
    """
    entry = zoo_entry(name)
    return build_graph(name).to_model(
        {"tvm_codesign.zoo": name, "tvm_codesign.builder_version": builder_version(name), "source": entry.source}
    )


def builder_version(name: str) -> str:
    """Version string of the builder of ``name``: the shared graph helper's and the family's versions."""
    return f"g{_graph.GRAPH_VERSION}.{zoo_entry(name).version}"


def input_shapes(name: str) -> dict[str, list[int]]:
    """Input name -> shape of zoo model ``name``, e.g. ``{"input": [1, 3, 224, 224]}``."""
    g = build_graph(name)
    return {vi.name: list(g.shapes[vi.name]) for vi in g.inputs}


def layer_macs(name: str) -> list[Layer]:
    """The MAC layers of ``name`` with MACs computed from the builder's own shape bookkeeping (not from ONNX)."""
    return list(build_graph(name).layers)


def cache_dir() -> pathlib.Path:
    """The zoo cache folder: ``$TVM_CODESIGN_CACHE/zoo`` if that variable is set, else ``~/.cache/tvm_codesign/zoo``."""
    root = os.environ.get(CACHE_ENV)
    base = pathlib.Path(root).expanduser() if root else pathlib.Path.home() / ".cache" / "tvm_codesign"
    return base / "zoo"


def save_model_atomic(model: onnx.ModelProto, path: str | os.PathLike) -> pathlib.Path:
    """Write ``model`` to ``path`` through a temp file in the same folder and ``os.replace``.

    A crash or a concurrent writer never leaves a half-written file at ``path``.

    Raises
    ------
    CodesignError
        If the destination folder does not exist or ``path`` is a folder.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise CodesignError(f"output {str(path)!r} is a folder; give a file name such as model.onnx")
    if not path.parent.is_dir():
        raise CodesignError(f"output folder {str(path.parent)!r} does not exist")
    # A unique name per writer (not mkstemp, whose 0600 mode would stick to the final file; this honours umask).
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "xb") as f:
            f.write(model.SerializeToString())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def zoo_path(name: str) -> pathlib.Path:
    """Path of zoo model ``name`` in the cache folder, building and writing it on first use only.

    The file is ``<cache_dir()>/<name>-<builder_version>.onnx``; an existing file is returned untouched.

    Raises
    ------
    CodesignError
        If ``name`` is unknown or the cache folder cannot be created.
    """
    folder = cache_dir()
    path = folder / f"{name}-{builder_version(name)}.onnx"
    if path.is_file():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CodesignError(f"cannot create the zoo cache folder {str(folder)!r} ({err}); set {CACHE_ENV}") from err
    return save_model_atomic(build_model(name), path)
