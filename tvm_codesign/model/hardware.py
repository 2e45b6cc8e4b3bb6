"""HardwareConfig: the accelerator template (PE array, buffers, register files), presets, energy and area.

Levels, outer to inner: DRAM -> on-chip buffers (``GB``) -> PE array (rows x cols) -> per-PE register files
(``RF``) -> MAC. The on-chip level is either one buffer per operand (VTA: input, weight, accumulator) or a
buffer shared by several operands (Eyeriss's global buffer); an operand in no buffer bypasses the level, and an
RF of 0 words holds nothing. Precision, DRAM bandwidth and energy, and clock are :class:`SystemParams`: fixed for
a run and the same for every candidate, never searched. No TVM import: this module ships to worker processes.

Units: capacities in bytes, bandwidths in bytes per cycle, energies in pJ, area in mm². Citation tags ([E17],
[H14], ...) are listed in :mod:`tvm_codesign.cost.technology`; docs/hardware.md has the tables and the Eyeriss check.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from typing import Any, Callable, Mapping

from tvm_codesign.cost import technology as tech
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.workload import OPERANDS

#: Word widths of inputs and weights; accumulators are :attr:`SystemParams.acc_bits` wide.
PRECISIONS: dict[str, int] = {"int8": 8, "int16": 16}

#: Storage levels, outer to inner. ``GB`` is the on-chip buffer level, ``RF`` the per-PE register files.
LEVELS: tuple[str, ...] = ("DRAM", "GB", "RF")

_OPERAND_NAMES = {"I": "input", "W": "weight", "O": "output"}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_pos_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _is_pow2(v: int) -> bool:
    return v > 0 and v & (v - 1) == 0


# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SystemParams:
    """Parameters fixed for a run: the same for every preset and candidate, never a search knob.

    Parameters
    ----------
    precision
        Word width of inputs and weights: ``"int8"`` or ``"int16"`` (default int16, Eyeriss's 16-bit fixed point
        [E17]).
    acc_bits
        Width of partial sums / accumulators (VTA's LOG_ACC_WIDTH = 5, i.e. 32 bits).
    dram_bandwidth
        Bytes per cycle. Default 8: a 64-bit off-chip bus moving one 64-bit word per core cycle, the DRAM of
        Timeloop's Eyeriss example (LPDDR4, ``width: 64``). A run-wide choice, not a measured figure.
    dram_energy_pj_per_bit
        Default 20.3 pJ/bit: 1.3 nJ per 64-bit DRAM access, the low end of Horowitz ISSCC 2014's 1.3-2.6 nJ.
    clock_mhz
        Default 200 MHz, the core clock at which Eyeriss's measurements are reported [E17].
    """

    precision: str = "int16"
    acc_bits: int = 32
    dram_bandwidth: float = 8.0
    dram_energy_pj_per_bit: float = tech.DEFAULT_DRAM_PJ_PER_BIT
    clock_mhz: float = 200.0

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise CodesignError(f"unknown precision {self.precision!r}; expected one of {', '.join(PRECISIONS)}")
        if not _is_int(self.acc_bits) or self.acc_bits < PRECISIONS[self.precision]:
            raise CodesignError(
                f"acc_bits must be an integer >= the word width ({PRECISIONS[self.precision]}), got {self.acc_bits!r}"
            )
        for field in ("dram_bandwidth", "dram_energy_pj_per_bit", "clock_mhz"):
            v = getattr(self, field)
            if not _is_pos_number(v):
                raise CodesignError(f"system parameter {field} must be a positive number, got {v!r}")
            object.__setattr__(self, field, float(v))  # 8 and 8.0 serialise (and hash) the same

    @property
    def word_bits(self) -> int:
        """Bits of one input or weight word."""
        return PRECISIONS[self.precision]

    def operand_bits(self, operand: str) -> int:
        """Bits of one word of ``operand``: inputs and weights are :attr:`word_bits`, outputs :attr:`acc_bits`."""
        if operand in ("I", "W"):
            return self.word_bits
        if operand == "O":
            return self.acc_bits
        raise CodesignError(f"unknown operand {operand!r}; expected one of {', '.join(OPERANDS)}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "SystemParams":
        """Inverse of :meth:`to_json`; missing fields take their defaults."""
        if not isinstance(obj, Mapping):
            raise CodesignError(f"system parameters must be a JSON object, got {type(obj).__name__}")
        unknown = sorted(set(obj) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise CodesignError(f"system parameters have unknown field(s): {', '.join(unknown)}")
        return cls(**obj)


# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Buffer:
    """One on-chip buffer of the GB level.

    Parameters
    ----------
    name
        E.g. ``"global"``, ``"input"``, ``"weight"``, ``"accumulator"``.
    capacity
        Bytes.
    operands
        Which of ``I``, ``W``, ``O`` it may hold (each operand in at most one buffer of a config).
    bandwidth
        Bytes per cycle it can deliver (reads and writes share it). More bandwidth costs area (more banks).
    """

    name: str
    capacity: int
    operands: tuple[str, ...]
    bandwidth: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise CodesignError(f"buffer name must be a non-empty string, got {self.name!r}")
        if not _is_int(self.capacity) or self.capacity < 1:
            raise CodesignError(
                f"buffer {self.name!r}: capacity must be a positive integer of bytes, got {self.capacity!r}"
            )
        ops = (self.operands,) if isinstance(self.operands, str) else tuple(self.operands)
        if not ops:
            raise CodesignError(f"buffer {self.name!r}: holds no operand; drop it instead")
        for op in ops:
            if op not in OPERANDS:
                raise CodesignError(
                    f"buffer {self.name!r}: unknown operand {op!r}; expected some of {', '.join(OPERANDS)}"
                )
        if len(set(ops)) != len(ops):
            raise CodesignError(f"buffer {self.name!r}: operand listed twice in {ops!r}")
        # Canonical order so that equal buffers compare and hash equal.
        object.__setattr__(self, "operands", tuple(o for o in OPERANDS if o in ops))
        if not _is_pos_number(self.bandwidth):
            raise CodesignError(
                f"buffer {self.name!r}: bandwidth must be a positive number of bytes/cycle, got {self.bandwidth!r}"
            )
        object.__setattr__(self, "bandwidth", float(self.bandwidth))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "capacity": self.capacity,
            "operands": list(self.operands),
            "bandwidth": self.bandwidth,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Buffer":
        if not isinstance(obj, Mapping):
            raise CodesignError(f"a buffer must be a JSON object, got {type(obj).__name__}")
        missing = [k for k in ("name", "capacity", "operands", "bandwidth") if k not in obj]
        if missing:
            raise CodesignError(f"buffer JSON misses field(s): {', '.join(missing)}")
        unknown = sorted(set(obj) - {"name", "capacity", "operands", "bandwidth"})
        if unknown:
            raise CodesignError(f"buffer JSON has unknown field(s): {', '.join(unknown)}")
        return cls(obj["name"], obj["capacity"], tuple(obj["operands"]), obj["bandwidth"])


# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class HardwareConfig:
    """One accelerator: PE array, on-chip buffers, per-PE register files, and the run's system parameters.

    Parameters
    ----------
    name
        A label (``"eyeriss"``, ``"vta"``, ``"candidate-17"``); part of the JSON but not of the search knobs.
    pe_rows, pe_cols
        PE array shape. For VTA, rows = BLOCK_IN (reduction) and cols = BLOCK_OUT.
    buffers
        The GB level; each operand in at most one buffer. An operand in none bypasses the level: DRAM feeds the PEs.
    rf_input_words, rf_weight_words, rf_output_words
        Per-PE register-file sizes in words of that operand (outputs in ``acc_bits`` words); 0 = no RF.
    system
        The run's :class:`SystemParams`.
    vta_extra
        ``vta_config.json`` keys the model does not use (``TARGET``, ``HW_VER``, ``LOG_UOP_BUFF_SIZE``, ...),
        kept so that an imported config exports unchanged.
    """

    name: str
    pe_rows: int
    pe_cols: int
    buffers: tuple[Buffer, ...] = ()
    rf_input_words: int = 0
    rf_weight_words: int = 0
    rf_output_words: int = 0
    system: SystemParams = SystemParams()
    vta_extra: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise CodesignError(f"hardware name must be a non-empty string, got {self.name!r}")
        for field in ("pe_rows", "pe_cols"):
            v = getattr(self, field)
            if not _is_int(v) or v < 1:
                raise CodesignError(f"hardware {self.name!r}: {field} must be a positive integer, got {v!r}")
        for field in ("rf_input_words", "rf_weight_words", "rf_output_words"):
            v = getattr(self, field)
            if not _is_int(v) or v < 0:
                raise CodesignError(f"hardware {self.name!r}: {field} must be an integer >= 0 (0 = no RF), got {v!r}")
        bufs = tuple(self.buffers)
        for b in bufs:
            if not isinstance(b, Buffer):
                raise CodesignError(f"hardware {self.name!r}: buffers must be Buffer objects, got {type(b).__name__}")
        names = [b.name for b in bufs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise CodesignError(f"hardware {self.name!r}: buffer name(s) used twice: {', '.join(dup)}")
        for op in OPERANDS:
            holders = [b.name for b in bufs if op in b.operands]
            if len(holders) > 1:
                raise CodesignError(
                    f"hardware {self.name!r}: operand {op} is in more than one buffer ({', '.join(holders)}); "
                    "each operand may be in at most one"
                )
        object.__setattr__(self, "buffers", bufs)
        if not isinstance(self.system, SystemParams):
            raise CodesignError(
                f"hardware {self.name!r}: system must be SystemParams, got {type(self.system).__name__}"
            )
        pairs = self.vta_extra.items() if isinstance(self.vta_extra, Mapping) else self.vta_extra
        try:
            extra = tuple((str(k), v) for k, v in pairs)
            json.dumps(dict(extra))
        except (TypeError, ValueError):
            raise CodesignError(f"hardware {self.name!r}: vta_extra must be JSON-ready (key, value) pairs") from None
        object.__setattr__(self, "vta_extra", extra)

    def __hash__(self) -> int:
        # vta_extra may hold lists or dicts (whatever a vta_config.json had), which the generated hash cannot take.
        return hash((self.config_hash(), self.name, json.dumps(dict(self.vta_extra), sort_keys=True)))

    # ----------------------------------------------------------------------------------------------------------
    @property
    def num_pes(self) -> int:
        """PE count: rows x cols."""
        return self.pe_rows * self.pe_cols

    def buffer_for(self, operand: str) -> Buffer | None:
        """The buffer holding ``operand`` at the GB level, or ``None`` when it bypasses the level."""
        if operand not in OPERANDS:
            raise CodesignError(f"unknown operand {operand!r}; expected one of {', '.join(OPERANDS)}")
        for b in self.buffers:
            if operand in b.operands:
                return b
        return None

    def rf_words(self, operand: str) -> int:
        """Per-PE register-file size of ``operand`` in words (0 = none)."""
        if operand == "I":
            return self.rf_input_words
        if operand == "W":
            return self.rf_weight_words
        if operand == "O":
            return self.rf_output_words
        raise CodesignError(f"unknown operand {operand!r}; expected one of {', '.join(OPERANDS)}")

    def word_bytes(self, operand: str) -> float:
        """Bytes of one word of ``operand`` at the run's precision."""
        return self.system.operand_bits(operand) / 8.0

    def with_system(self, system: SystemParams) -> "HardwareConfig":
        """The same knobs with other system parameters."""
        return dataclasses.replace(self, system=system)

    # ----------------------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every knob and system parameter (``hardware.json``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "pe_rows": self.pe_rows,
            "pe_cols": self.pe_cols,
            "buffers": [b.to_json() for b in self.buffers],
            "rf_input_words": self.rf_input_words,
            "rf_weight_words": self.rf_weight_words,
            "rf_output_words": self.rf_output_words,
            "system": self.system.to_json(),
        }
        if self.vta_extra:
            out["vta_extra"] = dict(self.vta_extra)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "HardwareConfig":
        """Inverse of :meth:`to_json`."""
        if not isinstance(obj, Mapping):
            raise CodesignError(f"hardware must be a JSON object, got {type(obj).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise CodesignError(f"hardware JSON has unknown field(s): {', '.join(unknown)}")
        for k in ("name", "pe_rows", "pe_cols"):
            if k not in obj:
                raise CodesignError(f"hardware JSON has no {k!r} field")
        kwargs = dict(obj)
        bufs = kwargs.get("buffers", [])
        if not isinstance(bufs, (list, tuple)):
            raise CodesignError("hardware JSON: 'buffers' must be a list")
        kwargs["buffers"] = tuple(Buffer.from_json(b) for b in bufs)
        kwargs["system"] = SystemParams.from_json(kwargs.get("system", {}))
        extra = kwargs.get("vta_extra", {})
        if not isinstance(extra, Mapping):
            raise CodesignError("hardware JSON: 'vta_extra' must be an object")
        kwargs["vta_extra"] = tuple(extra.items())
        try:
            return cls(**kwargs)
        except TypeError as err:
            raise CodesignError(f"bad hardware JSON: {err}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_json` to ``path`` (indented, keys in field order)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "HardwareConfig":
        """Read a ``hardware.json`` written by :meth:`save`."""
        return cls.from_json(_read_json(path, "hardware"))

    def config_hash(self) -> str:
        """Stable hex digest (SHA-256) of the canonical JSON of the knobs and system parameters.

        The ``name`` and ``vta_extra`` do not change the model, so they are left out: the same hardware under
        another label seeds the same searches.
        """
        obj = self.to_json()
        obj.pop("name")
        obj.pop("vta_extra", None)
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def summary(self) -> str:
        """One line for logs and reports, e.g. ``eyeriss: 12x14 PEs, global 108 kB (I,O) 32 B/c, RF I/W/O ...``."""
        bufs = ", ".join(
            f"{b.name} {b.capacity / 1024:g} kB ({','.join(b.operands)}) {b.bandwidth:g} B/c" for b in self.buffers
        )
        return (
            f"{self.name}: {self.pe_rows}x{self.pe_cols} PEs, {bufs or 'no buffers'}, RF I/W/O "
            f"{self.rf_input_words}/{self.rf_weight_words}/{self.rf_output_words}, {self.system.precision}"
        )


def _read_json(path: str | os.PathLike, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise CodesignError(f"{what} file not found: {os.fspath(path)}") from None
    except json.JSONDecodeError as err:
        raise CodesignError(f"{what} file {os.fspath(path)} is not valid JSON: {err}") from None


# ---------------------------------------------------------------------------------------------------------------
# Presets.


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

_VTA_MODEL_KEYS = (
    "LOG_INP_WIDTH",
    "LOG_WGT_WIDTH",
    "LOG_ACC_WIDTH",
    "LOG_BATCH",
    "LOG_BLOCK",
    "LOG_INP_BUFF_SIZE",
    "LOG_WGT_BUFF_SIZE",
    "LOG_ACC_BUFF_SIZE",
)


def _vta_buffers(block: int, system: SystemParams, inp: int, wgt: int, acc: int) -> tuple[Buffer, ...]:
    """VTA's three buffers; each delivers one entry per cycle to the GEMM core (the acc buffer one read and one
    write), because VTA's GEMM core consumes one input entry, one weight entry and updates one accumulator entry per
    cycle (Moreau et al., "A hardware-software blueprint for flexible deep learning specialization", IEEE Micro
    2019; tvm-vta hardware/xilinx/src/vta.cc ``gemm``)."""
    wb = system.word_bits / 8
    ab = system.acc_bits / 8
    return (
        Buffer("input", inp, ("I",), block * wb),  # BATCH(1) x BLOCK_IN words per cycle
        Buffer("weight", wgt, ("W",), block * block * wb),  # BLOCK_OUT x BLOCK_IN words per cycle
        Buffer("accumulator", acc, ("O",), 2 * block * ab),  # BATCH x BLOCK_OUT read + write per cycle
    )


def _vta(system: SystemParams) -> HardwareConfig:
    """VTA's default configuration (apache/tvm-vta config/vta_config.json): 1x16x16 GEMM core, no RFs."""
    return HardwareConfig(
        name="vta",
        pe_rows=16,  # LOG_BLOCK 4: BLOCK_IN = 16 (rows reduce over C)
        pe_cols=16,  # BLOCK_OUT = 16 (LOG_BATCH 0: BATCH = 1)
        buffers=_vta_buffers(
            16,
            system,
            2**15,  # LOG_INP_BUFF_SIZE 15: 32 kB
            2**18,  # LOG_WGT_BUFF_SIZE 18: 256 kB
            2**17,  # LOG_ACC_BUFF_SIZE 17: 128 kB
        ),
        system=system,
        vta_extra=tuple(VTA_DEFAULT_EXTRA.items()),
    )


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
    obj = _read_json(spec, "hardware")
    if isinstance(obj, Mapping) and "LOG_BLOCK" in obj:
        return from_vta_config(obj, system)
    hw = HardwareConfig.from_json(obj)
    return hw.with_system(system) if system is not None else hw


# ---------------------------------------------------------------------------------------------------------------
# vta_config.json


def _log2_exact(v: float, what: str) -> int:
    if v <= 0 or v != int(v) or not _is_pow2(int(v)):
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
    clash = sorted(set(extras) & set(_VTA_MODEL_KEYS))
    if clash:
        raise CodesignError(f"vta extra keys may not override modelled keys: {', '.join(clash)}")
    widths = {
        "LOG_INP_WIDTH": _log2_exact(sysp.word_bits, "input width (bits)"),
        "LOG_WGT_WIDTH": _log2_exact(sysp.word_bits, "weight width (bits)"),
        "LOG_ACC_WIDTH": _log2_exact(sysp.acc_bits, "accumulator width (bits)"),
    }
    entry = {"I": block * sysp.word_bits / 8, "W": block * block * sysp.word_bits / 8, "O": block * sysp.acc_bits / 8}
    bw = {"I": entry["I"], "W": entry["W"], "O": 2 * entry["O"]}
    sizes = {}
    for op, key in (("I", "LOG_INP_BUFF_SIZE"), ("W", "LOG_WGT_BUFF_SIZE"), ("O", "LOG_ACC_BUFF_SIZE")):
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
    missing = [k for k in _VTA_MODEL_KEYS if k not in cfg]
    if missing:
        raise CodesignError(f"vta_config.json misses key(s): {', '.join(missing)}")
    for k in _VTA_MODEL_KEYS:
        if not _is_int(cfg[k]) or cfg[k] < 0:
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
    extra = tuple((k, v) for k, v in cfg.items() if k not in _VTA_MODEL_KEYS)
    hw = HardwareConfig(
        name="vta",
        pe_rows=block,
        pe_cols=block,
        buffers=_vta_buffers(
            block, system, 2 ** cfg["LOG_INP_BUFF_SIZE"], 2 ** cfg["LOG_WGT_BUFF_SIZE"], 2 ** cfg["LOG_ACC_BUFF_SIZE"]
        ),
        system=system,
        vta_extra=extra,
    )
    to_vta_config(hw)  # e.g. a buffer smaller than one entry: fail here, on import, with the reason
    return hw


def vta_buffer_depths(hw: HardwareConfig) -> dict[str, int]:
    """Entries of VTA's input, weight and accumulator buffers (``buffer bytes / entry bytes``)."""
    cfg = to_vta_config(hw)
    block = 2 ** cfg["LOG_BLOCK"]
    entry = {
        "input": block * 2 ** cfg["LOG_INP_WIDTH"] // 8,
        "weight": block * block * 2 ** cfg["LOG_WGT_WIDTH"] // 8,
        "accumulator": block * 2 ** cfg["LOG_ACC_WIDTH"] // 8,
    }
    size = {
        "input": 2 ** cfg["LOG_INP_BUFF_SIZE"],
        "weight": 2 ** cfg["LOG_WGT_BUFF_SIZE"],
        "accumulator": 2 ** cfg["LOG_ACC_BUFF_SIZE"],
    }
    return {k: size[k] // entry[k] for k in entry}


# ---------------------------------------------------------------------------------------------------------------
# Energy and area.


@dataclasses.dataclass(frozen=True)
class EnergyTable:
    """Energy per access, pJ per word (a word being that operand's width at the run's precision).

    Attributes
    ----------
    read, write
        ``(level, operand) -> pJ`` for every level in :data:`LEVELS` and operand in ``OPERANDS``; 0.0 where the
        operand has no storage at that level (bypass, or an RF of 0 words).
    mac_pj
        One MAC at the run's precision (multiply at ``word_bits``, accumulate at ``acc_bits``).
    noc_pj_per_destination
        Delivering one input/weight word (``word_bits``) to one PE over the array network; a multicast to ``d``
        PEs costs ``d`` times this.
    reduction_hop_pj
        Moving one partial sum (``acc_bits``) one hop of a spatial reduction (the add itself is in ``mac_pj``).
    """

    read: dict[tuple[str, str], float]
    write: dict[tuple[str, str], float]
    mac_pj: float
    noc_pj_per_destination: float
    reduction_hop_pj: float
    #: Per-operand array-network energy per word per destination (O at ``acc_bits``, e.g. for output collection).
    noc_pj_per_word: dict[str, float] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "read": {f"{lv}.{op}": v for (lv, op), v in self.read.items()},
            "write": {f"{lv}.{op}": v for (lv, op), v in self.write.items()},
            "mac_pj": self.mac_pj,
            "noc_pj_per_destination": self.noc_pj_per_destination,
            "reduction_hop_pj": self.reduction_hop_pj,
            "noc_pj_per_word": dict(self.noc_pj_per_word),
        }


def energy_table(hw: HardwareConfig) -> EnergyTable:
    """Energy per access of every (level, operand) of ``hw`` from :mod:`technology`."""
    sysp = hw.system
    read: dict[tuple[str, str], float] = {}
    write: dict[tuple[str, str], float] = {}
    for op in OPERANDS:
        bits = sysp.operand_bits(op)
        read[("DRAM", op)] = write[("DRAM", op)] = tech.dram_pj(bits, sysp.dram_energy_pj_per_bit)
        b = hw.buffer_for(op)
        read[("GB", op)] = tech.sram_read_pj(b.capacity, bits) if b else 0.0
        write[("GB", op)] = tech.sram_write_pj(b.capacity, bits) if b else 0.0
        read[("RF", op)] = tech.rf_read_pj(hw.rf_words(op), bits)
        write[("RF", op)] = tech.rf_write_pj(hw.rf_words(op), bits)
    noc_bit = tech.noc_pj_per_bit()
    return EnergyTable(
        read=read,
        write=write,
        mac_pj=tech.mac_energy_pj(sysp.word_bits, sysp.acc_bits),
        noc_pj_per_destination=noc_bit * sysp.word_bits,
        reduction_hop_pj=noc_bit * sysp.acc_bits,
        noc_pj_per_word={op: noc_bit * sysp.operand_bits(op) for op in OPERANDS},
    )


@dataclasses.dataclass(frozen=True)
class AreaBreakdown:
    """Area per component, mm² (``pe_macs``, ``pe_regs``, ``rf_input``, ``rf_weight``, ``rf_output``,
    ``buffer_<name>``, ``noc``)."""

    components: dict[str, float]

    @property
    def total_mm2(self) -> float:
        """Sum of the components."""
        return float(sum(self.components.values()))


def area(hw: HardwareConfig) -> AreaBreakdown:
    """Area of ``hw`` in mm² at 45 nm, per component (see :mod:`technology` for the models and sources)."""
    sysp = hw.system
    um2 = 1e-6  # µm² -> mm²
    comp: dict[str, float] = {
        "pe_macs": hw.num_pes * tech.mac_area_um2(sysp.word_bits, sysp.acc_bits) * um2,
        "pe_regs": hw.num_pes * tech.pe_regs_area_um2(sysp.word_bits, sysp.acc_bits) * um2,
    }
    for op, key in (("I", "rf_input"), ("W", "rf_weight"), ("O", "rf_output")):
        comp[key] = hw.num_pes * tech.rf_area_um2(hw.rf_words(op), sysp.operand_bits(op)) * um2
    for b in hw.buffers:
        comp[f"buffer_{b.name}"] = tech.sram_area_um2(b.capacity, b.bandwidth) * um2
    comp["noc"] = tech.noc_area_um2(hw.num_pes, sysp.word_bits, sysp.acc_bits) * um2
    return AreaBreakdown(comp)
