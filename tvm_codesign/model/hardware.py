"""HardwareConfig: the accelerator template's data model (system parameters, buffers, PE array, register files).

Levels, outer to inner: DRAM -> on-chip buffers (``GB``) -> PE array (rows x cols) -> per-PE register files
(``RF``) -> MAC. The on-chip level is either one buffer per operand (VTA: input, weight, accumulator) or a
buffer shared by several operands (Eyeriss's global buffer); an operand in no buffer bypasses the level, and an
RF of 0 words holds nothing. Precision, DRAM bandwidth and energy, and clock are :class:`SystemParams`: fixed for
a run and the same for every candidate, never searched. No TVM import: this module ships to worker processes.

The presets are in :mod:`tvm_codesign.model.presets`, ``vta_config.json`` in :mod:`tvm_codesign.model.vta`, energy
and area in :mod:`tvm_codesign.cost.physical`. Units: capacities in bytes, bandwidths in bytes per cycle. Citation
tags ([E17], [H14], ...) are listed in :mod:`tvm_codesign.technology`; docs/hardware.md has the tables.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from typing import Any, Mapping

from tvm_codesign import technology as tech
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.workload import OPERANDS

#: Word widths of inputs and weights; accumulators are :attr:`SystemParams.acc_bits` wide.
PRECISIONS: dict[str, int] = {"int8": 8, "int16": 16}

#: Storage levels, outer to inner. ``GB`` is the on-chip buffer level, ``RF`` the per-PE register files.
LEVELS: tuple[str, ...] = ("DRAM", "GB", "RF")

def is_int(v: Any) -> bool:
    """``v`` is an ``int`` and not a ``bool`` (JSON validation: ``true`` is no capacity)."""
    return isinstance(v, int) and not isinstance(v, bool)


def _is_pos_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


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
        if not is_int(self.acc_bits) or self.acc_bits < PRECISIONS[self.precision]:
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
        if not is_int(self.capacity) or self.capacity < 1:
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
        """Inverse of :meth:`to_json`; every field is required."""
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
            if not is_int(v) or v < 1:
                raise CodesignError(f"hardware {self.name!r}: {field} must be a positive integer, got {v!r}")
        for field in ("rf_input_words", "rf_weight_words", "rf_output_words"):
            v = getattr(self, field)
            if not is_int(v) or v < 0:
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
        return cls.from_json(read_json(path, "hardware"))

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


def read_json(path: str | os.PathLike, what: str) -> Any:
    """The JSON in ``path``, or a one-line :class:`CodesignError` naming ``what`` the file was meant to be."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise CodesignError(f"{what} file not found: {os.fspath(path)}") from None
    except json.JSONDecodeError as err:
        raise CodesignError(f"{what} file {os.fspath(path)} is not valid JSON: {err}") from None
