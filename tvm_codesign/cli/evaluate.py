"""`tvm-codesign evaluate --workload W --hw HW --mapping M [--json]`: the analytical cost of one mapping.

``W`` is one workload JSON object as printed by ``workloads --json`` (JSON text or a path to a ``.json`` file; a
one-element list is accepted too), ``HW`` a preset name (``eyeriss``, ``vta``) or a ``hardware.json`` /
``vta_config.json`` path, ``M`` a mapping JSON file (``docs/mapping-format.md``) or JSON text.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from tvm_codesign.errors import CodesignError


def register(sub: Any) -> argparse.ArgumentParser:
    """Add the ``evaluate`` subcommand to ``sub`` (an argparse subparsers action)."""
    p = sub.add_parser(
        "evaluate",
        help="cost of one mapping of one workload on one accelerator (energy, cycles, EDP, accesses)",
        description="Evaluate one mapping with the analytical cost model (docs/cost-model.md).",
    )
    p.add_argument("--workload", required=True, metavar="W", help="workload JSON object (text or .json path)")
    p.add_argument("--hw", required=True, metavar="HW", help="eyeriss | vta | hardware.json | vta_config.json")
    p.add_argument("--mapping", required=True, metavar="M.json", help="mapping JSON file (or JSON text)")
    p.add_argument("--json", action="store_true", help="print the cost as JSON")
    p.set_defaults(func=run)
    return p


def _json_arg(value: str, what: str) -> Any:
    """Parse ``value`` as JSON text, or read it from a file when it is a path."""
    text = value
    if not value.lstrip().startswith(("{", "[")):
        if not os.path.exists(value):
            raise CodesignError(f"{what} {value!r} is neither JSON text nor an existing file")
        try:
            with open(value, encoding="utf-8") as f:
                text = f.read()
        except OSError as err:
            raise CodesignError(f"cannot read {what} file {value!r}: {err.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CodesignError(f"{what} is not valid JSON: {err}") from None


def load_workload(value: str):
    """A :class:`Workload` from JSON text or a file; a list must hold exactly one workload."""
    from tvm_codesign.model.workload import Workload

    obj = _json_arg(value, "workload")
    if isinstance(obj, list):
        if len(obj) != 1:
            raise CodesignError(f"workload JSON is a list of {len(obj)} workloads; pass exactly one object")
        obj = obj[0]
    return Workload.from_json(obj)


def run(args: argparse.Namespace) -> int:
    """Run ``tvm-codesign evaluate``; returns 0, raises :class:`CodesignError` on bad input."""
    from tvm_codesign.cost.model import evaluate
    from tvm_codesign.model.presets import load_hardware
    from tvm_codesign.model.mapping import Mapping

    wl = load_workload(args.workload)
    hw = load_hardware(args.hw)
    mapping = Mapping.from_json(_json_arg(args.mapping, "mapping"))
    res = evaluate(wl, hw, [mapping])
    row = res.to_json(0)
    if args.json:
        out = {"workload": wl.name, "hw": hw.name, **row}
        print(json.dumps(out, indent=2))
        return 0
    print(format_text(wl, hw, mapping, row))
    return 0


def format_text(wl: Any, hw: Any, mapping: Any, row: dict[str, Any]) -> str:
    """Human-readable cost: the nest, totals and the per-(level, operand) access table."""
    lines = [f"workload {wl.name} ({wl.macs:,} MACs) on {hw.name} ({hw.pe_rows}x{hw.pe_cols} PEs)", str(mapping), ""]
    status = "valid" if row["valid"] else f"INVALID: {row['reason_text']}"
    edp = "inf" if row["edp"] is None else f"{row['edp']:.4g}"
    lines.append(
        f"{status}  energy {row['energy_pj']:.4g} pJ  cycles {row['cycles']:.6g}  EDP {edp} pJ*cycles  "
        f"utilisation {row['utilisation']:.1%}  MACs computed {row['macs_computed']:.0f}"
    )
    lines.append(f"{'level.op':<9}{'reads':>14}{'fills':>14}{'updates':>14}{'tile words':>12}{'energy pJ':>14}")
    for key, a in row["accesses"].items():
        if a["reads"] or a["fills"] or a["updates"]:
            lines.append(
                f"{key:<9}{a['reads']:>14.0f}{a['fills']:>14.0f}{a['updates']:>14.0f}{a['tile_words']:>12.0f}"
                f"{a['energy_pj']:>14.4g}"
            )
    lines.append("energy: " + "  ".join(f"{k} {v:.4g}" for k, v in row["energy_breakdown"].items()))
    return "\n".join(lines)
