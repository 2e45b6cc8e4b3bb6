"""The published accelerators as HardwareConfigs (Eyeriss v1, VTA's default), and loading hardware by name or file."""

from __future__ import annotations

import os
from typing import Callable, Mapping

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import Buffer, HardwareConfig, SystemParams, read_json
from tvm_codesign.model.vta import VTA_DEFAULT_EXTRA, from_vta_config, vta_buffers


def _eyeriss(system: SystemParams) -> HardwareConfig:
    """Eyeriss v1 (Chen et al., JSSC 2017 [E17]; Timeloop's published Eyeriss example)."""
    return HardwareConfig(
        name="eyeriss",
        pe_rows=12,  # [E17] 12 x 14 PE array (168 PEs)
        pe_cols=14,
        buffers=(
            # [E17] 108 kB global buffer. Timeloop's Eyeriss example keeps inputs and outputs in it and lets
            # weights bypass it (weights go from DRAM straight to the PEs' weight spads).
            # Bandwidth: 16 words/cycle of 16 bits (Timeloop eyeriss example shared_glb read/write_bandwidth 16,
            # datawidth 16) = 32 bytes/cycle, held fixed in bytes whatever the run's precision.
            Buffer("global", 108 * 1024, ("I", "O"), 32.0),
        ),
        rf_input_words=12,  # [E17] ifmap spad: 12 x 16-bit
        rf_weight_words=224,  # [E17] filter spad: 224 x 16-bit
        rf_output_words=24,  # [E17] psum spad: 24 x 16-bit (held here as acc_bits words)
        system=system,
    )


def _vta(system: SystemParams) -> HardwareConfig:
    """VTA's default configuration (apache/tvm-vta config/vta_config.json): 1x16x16 GEMM core, no RFs."""
    return HardwareConfig(
        name="vta",
        pe_rows=16,  # LOG_BLOCK 4: BLOCK_IN = 16 (rows reduce over C)
        pe_cols=16,  # BLOCK_OUT = 16 (LOG_BATCH 0: BATCH = 1)
        buffers=vta_buffers(
            16,
            system,
            2**15,  # LOG_INP_BUFF_SIZE 15: 32 kB
            2**18,  # LOG_WGT_BUFF_SIZE 18: 256 kB
            2**17,  # LOG_ACC_BUFF_SIZE 17: 128 kB
        ),
        system=system,
        vta_extra=tuple(VTA_DEFAULT_EXTRA.items()),
    )


#: Preset name -> a function of the run's system parameters giving the preset's config.
PRESETS: dict[str, Callable[[SystemParams], HardwareConfig]] = {"eyeriss": _eyeriss, "vta": _vta}


def preset(name: str, system: SystemParams | None = None) -> HardwareConfig:
    """A preset by name, with ``system`` (default :class:`SystemParams()`)."""
    if name not in PRESETS:
        raise CodesignError(f"unknown hardware preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name](system if system is not None else SystemParams())


def load_hardware(spec: str | os.PathLike, system: SystemParams | None = None) -> HardwareConfig:
    """A preset name, or a path to a ``hardware.json`` or a ``vta_config.json``.

    With ``system`` given, the result carries it (a hardware.json's own system parameters are replaced; a
    vta_config.json's widths must agree with it).
    """
    if isinstance(spec, str) and spec in PRESETS:
        return preset(spec, system)
    if not os.path.exists(spec):
        raise CodesignError(
            f"hardware {os.fspath(spec)!r} is neither a preset ({', '.join(PRESETS)}) nor an existing file"
        )
    obj = read_json(spec, "hardware")
    if isinstance(obj, Mapping) and "LOG_BLOCK" in obj:  # a vta_config.json
        return from_vta_config(obj, system)
    hw = HardwareConfig.from_json(obj)
    return hw.with_system(system) if system is not None else hw
