"""HardwareConfig, presets, vta_config.json, energy and area tables."""

from __future__ import annotations

import pytest

from tvm_codesign.errors import CodesignError
from tvm_codesign.hardware import (
    HardwareConfig,
    SystemParams,
    area,
    energy_table,
    from_vta_config,
    preset,
    to_vta_config,
)

# VTA's default config/vta_config.json (apache/tvm-vta), written out here independently of the module.
VTA_DEFAULT = {
    "TARGET": "sim",
    "HW_VER": "0.0.2",
    "LOG_INP_WIDTH": 3,
    "LOG_WGT_WIDTH": 3,
    "LOG_ACC_WIDTH": 5,
    "LOG_BATCH": 0,
    "LOG_BLOCK": 4,
    "LOG_UOP_BUFF_SIZE": 15,
    "LOG_INP_BUFF_SIZE": 15,
    "LOG_WGT_BUFF_SIZE": 18,
    "LOG_ACC_BUFF_SIZE": 17,
}


def test_vta_default_round_trip():
    assert to_vta_config(from_vta_config(VTA_DEFAULT)) == VTA_DEFAULT


def test_presets_build_and_json_round_trip():
    for name in ("eyeriss", "vta"):
        hw = preset(name)
        assert HardwareConfig.from_json(hw.to_json()) == hw
        assert area(hw).total_mm2 > 0
        assert energy_table(hw).mac_pj > 0


def test_unknown_preset_lists_known():
    with pytest.raises(CodesignError, match="eyeriss"):
        preset("tpu")
    assert SystemParams().word_bits == 16
