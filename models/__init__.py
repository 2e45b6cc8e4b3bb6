"""The model zoo, installed as ``tvm_codesign.zoo``: ONNX models with seeded random weights, built locally.

>>> from tvm_codesign.zoo import build_model, zoo_path, input_shapes
>>> input_shapes("dqn")
{'input': [1, 4, 84, 84]}

The builders live in the repository's top-level ``models/`` folder; the wheel installs them under the package (never
as a top-level ``models``, which could clash with anything else a user has installed). See :mod:`.catalog`.
"""

from .catalog import ZOO_NAMES, build_model, input_shapes, zoo_path

__all__ = ["ZOO_NAMES", "build_model", "input_shapes", "zoo_path"]
