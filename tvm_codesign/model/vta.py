"""VTA: ``vta_config.json`` import and export, and the entry-size and bandwidth rules of VTA's buffers.

VTA (apache/tvm-vta) describes an accelerator by the base-2 logarithms in its ``config/vta_config.json``: the
GEMM core is BATCH x BLOCK_IN x BLOCK_OUT (here BATCH = 1 and BLOCK_IN = BLOCK_OUT = BLOCK, the PE array's rows
and cols), and its input, weight and accumulator buffers are sized in bytes. A buffer moves whole *entries*, the
data the GEMM core consumes in one cycle, and delivers one entry per cycle (the accumulator one read and one
write). :func:`entry_bytes` and :func:`bandwidths` state those two rules once; the VTA preset, the importer, the
exporter and the hardware space's ``vta`` template all use them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import PRECISIONS, Buffer, HardwareConfig, SystemParams, is_int
from tvm_codesign.model.workload import OPERANDS

if TYPE_CHECKING:
    import numpy as np

#: ``vta_config.json`` keys the model does not use, with VTA's defaults (apache/tvm-vta config/vta_config.json).
VTA_DEFAULT_EXTRA: dict[str, Any] = {"TARGET": "sim", "HW_VER": "0.0.2", "LOG_UOP_BUFF_SIZE": 15}

#: VTA's default ``vta_config.json`` (apache/tvm-vta, config/vta_config.json).
VTA_DEFAULT_CONFIG: dict[str, Any] = {
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

#: The keys the model reads and writes; every other key travels in :attr:`HardwareConfig.vta_extra`.
VTA_MODEL_KEYS: tuple[str, ...] = (
    "LOG_INP_WIDTH",
    "LOG_WGT_WIDTH",
    "LOG_ACC_WIDTH",
    "LOG_BATCH",
    "LOG_BLOCK",
    "LOG_INP_BUFF_SIZE",
    "LOG_WGT_BUFF_SIZE",
    "LOG_ACC_BUFF_SIZE",
)

#: VTA's buffers, in VTA's order: (operand, buffer name, ``vta_config.json`` size key).
VTA_BUFFERS: tuple[tuple[str, str, str], ...] = (
    ("I", "input", "LOG_INP_BUFF_SIZE"),
    ("W", "weight", "LOG_WGT_BUFF_SIZE"),
    ("O", "accumulator", "LOG_ACC_BUFF_SIZE"),
)

_OPERAND_NAMES = {"I": "input", "W": "weight", "O": "output"}


# ---------------------------------------------------------------------------------------------------------------
# The two rules.


def entry_bytes(block: int | np.ndarray, word_bits: int, acc_bits: int) -> dict[str, float | np.ndarray]:
    """Bytes of one entry of VTA's input, weight and accumulator buffer, per operand ``I``, ``W``, ``O``.

    With BATCH = 1 and BLOCK_IN = BLOCK_OUT = ``block``: an input entry is BATCH x BLOCK_IN words, a weight entry
    BLOCK_OUT x BLOCK_IN words, an accumulator entry BATCH x BLOCK_OUT accumulators (tvm-vta
    ``include/vta/hw_spec.h``: ``VTA_INP_ELEM_BYTES``, ``VTA_WGT_ELEM_BYTES``, ``VTA_ACC_ELEM_BYTES``). ``block``
    may be an integer array; the results are then arrays too.
    """
    return {"I": block * word_bits / 8, "W": block * block * word_bits / 8, "O": block * acc_bits / 8}


def bandwidths(block: int | np.ndarray, word_bits: int, acc_bits: int) -> dict[str, float | np.ndarray]:
    """Bytes per cycle each VTA buffer delivers, per operand: one entry per cycle, the accumulator one read and one
    write, because the GEMM core consumes one input entry and one weight entry and updates one accumulator entry
    per cycle (Moreau et al., "A hardware-software blueprint for flexible deep learning specialization", IEEE
    Micro 2019; tvm-vta hardware/xilinx/src/vta.cc ``gemm``)."""
    entry = entry_bytes(block, word_bits, acc_bits)
    return {"I": entry["I"], "W": entry["W"], "O": 2 * entry["O"]}


def vta_buffers(block: int, system: SystemParams, inp: int, wgt: int, acc: int) -> tuple[Buffer, ...]:
    """VTA's three buffers of ``inp``, ``wgt`` and ``acc`` bytes, each at its :func:`bandwidths`."""
    bw = bandwidths(block, system.word_bits, system.acc_bits)
    capacity = {"I": inp, "W": wgt, "O": acc}
    return tuple(Buffer(name, capacity[op], (op,), bw[op]) for op, name, _ in VTA_BUFFERS)


# ---------------------------------------------------------------------------------------------------------------
# vta_config.json


def _log2_exact(v: float, what: str) -> int:
    if v <= 0 or v != int(v) or int(v) & (int(v) - 1):
        raise CodesignError(f"not representable as vta_config.json: {what} = {v:g} is not a power of two")
    return int(v).bit_length() - 1


def to_vta_config(hw: HardwareConfig, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``vta_config.json`` of ``hw``, or a one-line :class:`CodesignError` naming why it is not representable.

    Representable means: no register files; exactly one input, one weight and one accumulator buffer, each holding
    one operand; a square power-of-two PE array (BLOCK_IN = BLOCK_OUT, BATCH = 1); power-of-two buffer sizes that
    hold at least one entry; and each buffer's bandwidth equal to VTA's one entry per cycle. Keys the model does
    not use come from ``hw.vta_extra``, then ``extra`` (which wins), with VTA's defaults for any still missing.
    """
    why = "not representable as vta_config.json:"
    rfs = [f"{_OPERAND_NAMES[o]} {hw.rf_words(o)} words" for o in OPERANDS if hw.rf_words(o)]
    if rfs:
        raise CodesignError(f"{why} VTA has no register files, but {hw.name!r} has RFs ({', '.join(rfs)})")
    for op in OPERANDS:
        b = hw.buffer_for(op)
        if b is None:
            raise CodesignError(f"{why} operand {op} bypasses the on-chip buffers; VTA has a buffer for each operand")
        if len(b.operands) > 1:
            raise CodesignError(
                f"{why} buffer {b.name!r} is shared by {', '.join(b.operands)}; VTA has one buffer per operand"
            )
    if hw.pe_rows != hw.pe_cols:
        raise CodesignError(
            f"{why} BLOCK_IN ({hw.pe_rows} PE rows) != BLOCK_OUT ({hw.pe_cols} PE cols); VTA has one LOG_BLOCK"
        )
    log_block = _log2_exact(hw.pe_rows, "BLOCK (PE rows)")
    block = hw.pe_rows
    sysp = hw.system
    out: dict[str, Any] = {}
    extras = dict(VTA_DEFAULT_EXTRA)
    extras.update(dict(hw.vta_extra))
    if extra:
        extras.update(extra)
    clash = sorted(set(extras) & set(VTA_MODEL_KEYS))
    if clash:
        raise CodesignError(f"vta extra keys may not override modelled keys: {', '.join(clash)}")
    widths = {
        "LOG_INP_WIDTH": _log2_exact(sysp.word_bits, "input width (bits)"),
        "LOG_WGT_WIDTH": _log2_exact(sysp.word_bits, "weight width (bits)"),
        "LOG_ACC_WIDTH": _log2_exact(sysp.acc_bits, "accumulator width (bits)"),
    }
    entry = entry_bytes(block, sysp.word_bits, sysp.acc_bits)
    bw = bandwidths(block, sysp.word_bits, sysp.acc_bits)
    sizes = {}
    for op, _, key in VTA_BUFFERS:
        b = hw.buffer_for(op)
        assert b is not None
        sizes[key] = _log2_exact(b.capacity, f"{b.name} buffer size (bytes)")
        if b.capacity < entry[op]:
            raise CodesignError(f"{why} {b.name} buffer ({b.capacity} B) is smaller than one entry ({entry[op]:g} B)")
        if not math.isclose(b.bandwidth, bw[op]):
            raise CodesignError(
                f"{why} {b.name} buffer bandwidth {b.bandwidth:g} B/cycle differs from VTA's fixed {bw[op]:g} B/cycle"
            )
    # VTA's key order, then any further extras in their stored order.
    model = {**widths, "LOG_BATCH": 0, "LOG_BLOCK": log_block, **sizes}
    for key in VTA_DEFAULT_CONFIG:
        out[key] = model[key] if key in model else extras[key]
    for key, v in extras.items():
        if key not in out:
            out[key] = v
    return out


def from_vta_config(cfg: Mapping[str, Any], system: SystemParams | None = None) -> HardwareConfig:
    """A :class:`HardwareConfig` from a ``vta_config.json`` dict; unused keys are kept in ``vta_extra``.

    Without ``system`` the precision and accumulator width come from the config (other system parameters take
    their defaults); with ``system`` they must agree with it.
    """
    if not isinstance(cfg, Mapping):
        raise CodesignError(f"vta_config must be a JSON object, got {type(cfg).__name__}")
    missing = [k for k in VTA_MODEL_KEYS if k not in cfg]
    if missing:
        raise CodesignError(f"vta_config.json misses key(s): {', '.join(missing)}")
    for k in VTA_MODEL_KEYS:
        if not is_int(cfg[k]) or cfg[k] < 0:
            raise CodesignError(f"vta_config.json: {k} must be a non-negative integer, got {cfg[k]!r}")
    if cfg["LOG_INP_WIDTH"] != cfg["LOG_WGT_WIDTH"]:
        raise CodesignError(
            f"vta_config.json: LOG_INP_WIDTH ({cfg['LOG_INP_WIDTH']}) != LOG_WGT_WIDTH ({cfg['LOG_WGT_WIDTH']}); "
            "the model has one word width for inputs and weights"
        )
    if cfg["LOG_BATCH"] != 0:
        raise CodesignError(
            f"vta_config.json: LOG_BATCH = {cfg['LOG_BATCH']} (BATCH > 1) is not representable; the PE array is 2-D "
            "(rows = BLOCK_IN, cols = BLOCK_OUT)"
        )
    word_bits = 2 ** cfg["LOG_INP_WIDTH"]
    acc_bits = 2 ** cfg["LOG_ACC_WIDTH"]
    precision = next((p for p, b in PRECISIONS.items() if b == word_bits), None)
    if precision is None:
        raise CodesignError(
            f"vta_config.json: {word_bits}-bit words are not a supported precision ({', '.join(PRECISIONS)})"
        )
    if system is None:
        system = SystemParams(precision=precision, acc_bits=acc_bits)
    elif system.word_bits != word_bits or system.acc_bits != acc_bits:
        raise CodesignError(
            f"vta_config.json widths ({word_bits}-bit words, {acc_bits}-bit acc) disagree with the run's system "
            f"parameters ({system.word_bits}-bit words, {system.acc_bits}-bit acc)"
        )
    block = 2 ** cfg["LOG_BLOCK"]
    extra = tuple((k, v) for k, v in cfg.items() if k not in VTA_MODEL_KEYS)
    hw = HardwareConfig(
        name="vta",
        pe_rows=block,
        pe_cols=block,
        buffers=vta_buffers(
            block, system, 2 ** cfg["LOG_INP_BUFF_SIZE"], 2 ** cfg["LOG_WGT_BUFF_SIZE"], 2 ** cfg["LOG_ACC_BUFF_SIZE"]
        ),
        system=system,
        vta_extra=extra,
    )
    to_vta_config(hw)  # e.g. a buffer smaller than one entry: fail here, on import, with the reason
    return hw
