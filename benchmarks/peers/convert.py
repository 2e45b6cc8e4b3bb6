"""Plain-Python conversion of our hardware, workloads and mappings into ZigZag 3.9.1's input data (no zigzag import).

Everything here returns dicts and lists in the formats ZigZag's own parsers read (``inputs/hardware/*.yaml``,
workload layer dicts, ``mapping_dic_origin`` temporal mappings), so that it can be tested without ZigZag installed.
The ZigZag objects are built from them in :mod:`benchmarks.peers.zigzag_model`.

Conventions (ZigZag 3.9.1, read from its sources):

* layer dims ``B K C OY OX FY FX`` (our ``N K C P Q R S``); layer operands ``I W O``, memory operands ``I1 I2 O``;
* memories are listed innermost first; sizes in bits; port bandwidths in bits per cycle; ``r_cost`` / ``w_cost``
  are pJ per access, and an access of ``n`` bits counts ``ceil(n / bandwidth_min) * bandwidth_min /
  bandwidth_max`` accesses (``CostModelEvaluation._calc_memory_access``);
* the PE array's dimensions are ``D1`` (our columns) and ``D2`` (our rows); a memory with ``served_dimensions: []``
  is replicated per PE (our RF), one serving ``[D1, D2]`` is shared by the array (our GB, DRAM);
* a temporal mapping is ``{operand: [[(dim, factor), ...] per memory level]}``, levels and loops innermost first.
"""

from __future__ import annotations

import math
from typing import Any

from tvm_codesign.cost.physical import EnergyTable, energy_table
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.model.workload import OPERANDS, Workload

#: Our dim -> ZigZag layer dim.
ZZ_DIM: dict[str, str] = {"G": "G", "N": "B", "K": "K", "C": "C", "P": "OY", "Q": "OX", "R": "FY", "S": "FX"}
#: Our operand -> ZigZag memory operand (the default ``memory_operand_links`` of ZigZag's mapping files).
MEM_OP: dict[str, str] = {"I": "I1", "W": "I2", "O": "O"}
#: Our array axis -> ZigZag operational-array dimension (as in ZigZag's eyeriss_like.yaml: D1 = 14, D2 = 12).
AXIS: dict[str, str] = {"spatial_cols": "D1", "spatial_rows": "D2"}
#: Size of the DRAM in bits: ZigZag needs one for the top memory; ours is unbounded.
DRAM_BITS = 10**12

Holds = dict[str, frozenset[str]]  # {"GB": operands placed there, "RF": operands placed there}


def full_holds(hw: HardwareConfig) -> Holds:
    """Every operand at every on-chip level where ``hw`` has storage for it (the hardware as built)."""
    return {
        "GB": frozenset(op for op in OPERANDS if hw.buffer_for(op) is not None),
        "RF": frozenset(op for op in OPERANDS if hw.rf_words(op) > 0),
    }


def mapping_holds(mapping: Mapping) -> Holds:
    """The on-chip levels each operand of ``mapping`` is placed at (a bypassed level is absent)."""
    return {lv: frozenset(op for op in OPERANDS if mapping.cut(lv, op) is not None) for lv in ("GB", "RF")}


def _port(name: str, kind: str, bw_min: int, bw_max: int, alloc: list[str]) -> dict[str, Any]:
    return {"name": name, "type": kind, "bandwidth_min": int(bw_min), "bandwidth_max": int(bw_max),
            "allocation": alloc}


def _alloc(ops: list[str], top: bool) -> list[str]:
    """Port allocations of a memory holding ``ops``: inputs are filled from above and read out below; outputs also
    written from below and read out above (the top memory also keeps ``fh``/``tl`` for outputs, as ZigZag's
    examples do)."""
    out: list[str] = []
    for op in ops:
        m = MEM_OP[op]
        out += [f"{m}, fh", f"{m}, tl"]
        if op == "O":
            out += [f"{m}, fl", f"{m}, th"]
    return out


def accelerator_data(hw: HardwareConfig, holds: Holds | None = None, et: EnergyTable | None = None,
                     name: str | None = None) -> dict[str, Any]:
    """ZigZag accelerator data (the dict its ``AcceleratorValidator`` reads from YAML) of ``hw``.

    Parameters
    ----------
    hw
        Our hardware; its PE array, RF sizes, GB buffers, DRAM bandwidth and our energy table are copied.
    holds
        Which operands get a memory at each on-chip level (default: all that ``hw`` has storage for). A mapping
        that bypasses a level is scored on the hierarchy without that level for that operand, because in ZigZag a
        level in the hierarchy is always passed through.
    et
        Energy table (default ``energy_table(hw)``).

    Energies: ZigZag charges ``r_cost`` per access of ``bandwidth_max`` bits (with ``bandwidth_min`` the
    granularity), so ``r_cost = (our pJ per word / word bits) x bandwidth_max``: the same pJ per bit as ours for
    every operand (our energy per word is linear in the word width, ``technology.sram_read_pj`` /
    ``rf_read_pj`` / ``dram_pj``). ``bandwidth_min`` is the narrowest word the memory holds, so that every
    transfer is a whole number of minimum accesses and no rounding is charged.
    """
    et = et or energy_table(hw)
    holds = holds or full_holds(hw)
    sysp = hw.system
    bits = {op: sysp.operand_bits(op) for op in OPERANDS}
    mems: dict[str, Any] = {}

    def pj_per_bit(level: str, ops: list[str], write: bool) -> float:
        tab = et.write if write else et.read
        vals = {tab[(level, op)] / bits[op] for op in ops}
        assert max(vals) - min(vals) <= 1e-9 * max(vals), f"{level}: per-bit energy differs across operands {vals}"
        return max(vals)

    # Per-PE register files, one per operand (Eyeriss's ifmap / filter / psum spads).
    for op in OPERANDS:
        if op not in holds["RF"]:
            continue
        words = hw.rf_words(op)
        assert words > 0, f"{op} placed in an RF of 0 words"
        # Our model never lets an RF or the array network limit time (docs/cost-model.md, Cycles): each RF port
        # moves its whole capacity per cycle.
        bw = words * bits[op]
        alloc_r = [f"{MEM_OP[op]}, tl"] + ([f"{MEM_OP[op]}, th"] if op == "O" else [])
        alloc_w = [f"{MEM_OP[op]}, fh"] + ([f"{MEM_OP[op]}, fl"] if op == "O" else [])
        mems[f"rf_{op}"] = {
            "size": words * bits[op],
            "r_cost": pj_per_bit("RF", [op], False) * bw,
            "w_cost": pj_per_bit("RF", [op], True) * bw,
            "area": 0.0,
            "latency": 1,
            "operands": [MEM_OP[op]],
            "ports": [_port("r_port_1", "read", bits[op], bw, alloc_r), _port("w_port_1", "write", bits[op], bw, alloc_w)],
            "served_dimensions": [],
        }
    # GB buffers: one read-write port of the buffer's bandwidth, shared by reads and writes as in our model.
    for k, buf in enumerate(hw.buffers):
        ops = [op for op in buf.operands if op in holds["GB"]]
        if not ops:
            continue
        bw = int(round(buf.bandwidth * 8))
        gran = math.gcd(*[bits[op] for op in ops])
        mems[f"gb_{buf.name}"] = {
            "size": int(buf.capacity * 8),
            "r_cost": pj_per_bit("GB", ops, False) * bw,
            "w_cost": pj_per_bit("GB", ops, True) * bw,
            "area": 0.0,
            "latency": 1,
            "operands": [MEM_OP[op] for op in ops],
            "ports": [_port(f"rw_port_{k + 1}", "read_write", gran, bw, _alloc(ops, top=False))],
            "served_dimensions": ["D1", "D2"],
        }
    bw = int(round(sysp.dram_bandwidth * 8))
    gran = math.gcd(*bits.values())
    mems["dram"] = {
        "size": DRAM_BITS,
        "r_cost": pj_per_bit("DRAM", list(OPERANDS), False) * bw,
        "w_cost": pj_per_bit("DRAM", list(OPERANDS), True) * bw,
        "area": 0.0,
        "latency": 1,
        "operands": [MEM_OP[op] for op in OPERANDS],
        "ports": [_port("rw_port_1", "read_write", gran, bw, _alloc(list(OPERANDS), top=True))],
        "served_dimensions": ["D1", "D2"],
    }
    return {
        "name": name or hw.name,
        "memories": mems,
        "operational_array": {
            "unit_energy": float(et.mac_pj),
            "unit_area": 1.0,
            "dimensions": ["D1", "D2"],
            "sizes": [hw.pe_cols, hw.pe_rows],
        },
    }


def layer_data(workload: Workload, hw: HardwareConfig, layer_id: int = 0) -> dict[str, Any]:
    """ZigZag workload layer dict (the format of its workload YAML) of ``workload``.

    Dims of size 1 are left out except ``B``; conv2d gets the input relations ``iy = stride*oy + dilation*fy``.
    Partial and final outputs both have our accumulator width: our model keeps outputs at ``acc_bits`` up to DRAM.
    Grouped / depthwise layers (G > 1) are not converted.
    """
    if workload.G != 1:
        raise ValueError(f"{workload.name}: grouped layers (G = {workload.G}) are not converted to ZigZag")
    sysp = hw.system
    prec = {"I": sysp.word_bits, "W": sysp.word_bits, "O": sysp.acc_bits, "O_final": sysp.acc_bits}
    spatial_in = workload.P > 1 or workload.Q > 1 or workload.R > 1 or workload.S > 1
    if spatial_in:
        eq = "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]"
        sh, sw = workload.stride
        dh, dw = workload.dilation
        rel = [f"ix={sw}*ox+{dw}*fx", f"iy={sh}*oy+{dh}*fy"]
        dims = ["B", "K", "C", "OY", "OX", "FY", "FX"]
        op_type = "Conv"
    else:
        eq = "O[b][k]+=W[k][c]*I[b][c]"
        rel = []
        dims = ["B", "K", "C"]
        op_type = "Gemm"
    ours = {v: k for k, v in ZZ_DIM.items()}
    return {
        "id": layer_id,
        "name": workload.name,
        "operator_type": op_type,
        "equation": eq,
        "dimension_relations": rel,
        "loop_dims": dims,
        "loop_sizes": [getattr(workload, ours[d]) for d in dims],
        "operand_precision": prec,
        "operand_source": {"W": layer_id, "I": layer_id},
    }


def is_perfect(mapping: Mapping, workload: Workload) -> bool:
    """Whether every dim's factors multiply to exactly its bound (ZigZag's temporal loops cannot pad)."""
    return all(p == getattr(workload, d) for d, p in mapping.factor_products().items())


def zigzag_loops(mapping: Mapping) -> tuple[dict[str, list[tuple[str, int]]], dict[str, list[list[tuple[str, int]]]]]:
    """Our mapping as ZigZag's spatial mapping and uneven temporal mapping, built from our placement.

    Returns
    -------
    spatial
        ``{"D1": [(zz_dim, factor), ...], "D2": [...]}`` (columns, rows); factor-1 loops dropped, several loops of
        one dim on one axis multiplied.
    temporal
        ``{operand: [[(zz_dim, factor), ...] per level]}``, levels innermost first over the levels the operand is
        placed at (RF?, GB?, DRAM), loops innermost first. Our temporal loops inside an operand's RF cut go to its
        RF level, those inside its GB cut (but not its RF cut) to its GB level, the rest to DRAM. Temporal loops
        between the spatial loops and the RF cut are per-PE iterations in our nest; in ZigZag every loop outside
        the per-PE level sits above the array, which changes nothing for either model's counts (both count fills
        from the temporal loop order alone) except our sliding-window credit across PEs.
    """
    spatial: dict[str, dict[str, int]] = {"D1": {}, "D2": {}}
    temporal: list[tuple[int, str, int]] = []  # (position, dim, factor), outer to inner
    for i, l in enumerate(mapping.loops):
        if l.factor == 1:
            continue
        if l.spatial:
            ax = spatial[AXIS[l.kind]]
            ax[ZZ_DIM[l.dim]] = ax.get(ZZ_DIM[l.dim], 1) * l.factor
        else:
            temporal.append((i, ZZ_DIM[l.dim], l.factor))
    inner_first = list(reversed(temporal))
    tm: dict[str, list[list[tuple[str, int]]]] = {}
    for op in OPERANDS:
        levels: list[list[tuple[str, int]]] = []
        taken = 0
        for lv in ("RF", "GB"):
            c = mapping.cut(lv, op)
            if c is None:
                continue
            n = sum(1 for pos, _, _ in temporal if pos >= c)
            levels.append([(d, f) for _, d, f in inner_first[taken:n]])
            taken = n
        levels.append([(d, f) for _, d, f in inner_first[taken:]])
        tm[op] = levels
    sp = {ax: sorted(v.items()) for ax, v in spatial.items() if v}
    return sp, tm


def temporal_on_hierarchy(mapping: Mapping, holds: Holds) -> dict[str, list[list[tuple[str, int]]]]:
    """Like :func:`zigzag_loops`' temporal mapping, but on a fixed hierarchy ``holds`` (e.g. the hardware as built,
    which LOMA maps onto): a level the operand has in ``holds`` but bypasses in ``mapping`` gets no loops (ZigZag
    then passes the data through it); placing an operand at a level ``holds`` lacks is an error."""
    _, tm = zigzag_loops(mapping)
    own = mapping_holds(mapping)
    out: dict[str, list[list[tuple[str, int]]]] = {}
    for op in OPERANDS:
        levels = iter(tm[op])
        res = []
        for lv in ("RF", "GB"):
            if op in own[lv] and op not in holds[lv]:
                raise ValueError(f"{op} placed at {lv}, which the target hierarchy lacks")
            if op in holds[lv]:
                res.append(next(levels) if op in own[lv] else [])
        res.append(next(levels))
        out[op] = res
    return out


def zigzag_to_mapping_args(temporal: dict[str, list[list[tuple[str, int]]]], holds: Holds) -> dict[str, list[str]]:
    """The ``levels=`` argument of :meth:`tvm_codesign.model.mapping.Mapping.from_zigzag` for a temporal mapping on
    ``holds`` (used to check the conversion round trip)."""
    return {op: [lv for lv in ("RF", "GB") if op in holds[lv]] + ["DRAM"] for op in temporal}


__all__ = [
    "ZZ_DIM", "MEM_OP", "AXIS", "full_holds", "mapping_holds", "accelerator_data", "layer_data", "is_perfect",
    "zigzag_loops", "temporal_on_hierarchy", "zigzag_to_mapping_args",
]
