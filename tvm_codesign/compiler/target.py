"""The accelerator as a TVM target: a keyed llvm target whose ``model`` names the hardware config.

TVM 0.27 cannot register a target kind from Python, and a registered tag carries no custom attributes. What works
is llvm with extra ``keys`` and the free ``model`` string: the module compiled for it runs on the CPU as a
functional model of the accelerator (its loop nests follow the mappings), and the hardware itself travels in the
sidecar ``hardware.json``. ``model`` is ``codesign-<config hash>``, so a compiled library names the exact config
it was scheduled for.
"""

from __future__ import annotations

import json
from typing import Any

import tvm

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import HardwareConfig

#: The key every co-design target carries (``Target.keys``).
TARGET_KEY = "codesign"


def codesign_target(hw: HardwareConfig, base: str | dict | None = None) -> Any:
    """The keyed llvm target for ``hw``.

    Parameters
    ----------
    hw
        The accelerator configuration the schedules were made for.
    base
        Optional llvm target options as a dict or JSON text (e.g. ``{"kind": "llvm", "num-cores": 2}``); the
        ``codesign`` key and the ``model`` string are added to it. Its kind must be ``llvm``.
    """

    if base is None:
        spec: dict[str, Any] = {"kind": "llvm"}
    elif isinstance(base, str):
        try:
            spec = json.loads(base) if base.strip().startswith("{") else {"kind": base.strip()}
        except json.JSONDecodeError as err:
            raise CodesignError(f"--target is not valid JSON: {err}") from None
    else:
        spec = dict(base)
    if spec.get("kind") != "llvm":
        raise CodesignError(f"the co-design target builds on llvm (a CPU model of the accelerator), not {spec.get('kind')!r}")
    keys = [k for k in spec.get("keys", ["cpu"]) if k != TARGET_KEY]
    spec["keys"] = [TARGET_KEY, *keys]
    spec["model"] = f"codesign-{hw.config_hash()[:16]}"
    try:
        return tvm.target.Target(spec)
    except Exception as err:  # TVM rejects unknown attributes with a long message
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CodesignError(f"bad target {spec}: {first}") from None
