"""`tvm-codesign workloads MODEL [--json]`: the MAC workloads a model gives the accelerator."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tvm_codesign.model.workload import DIMS


def register(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "workloads",
        help="list the conv / dense / matmul workloads extracted from a model's TIR",
        description="Import a model, lower it to TIR (LegalizeOps, FuseOps, FuseTIR) and list its MAC workloads.",
    )
    p.add_argument("model", metavar="MODEL", help="an .onnx file, a TVMScript .py file, or a zoo name (e.g. dqn)")
    p.add_argument("--input-shapes", default=None, help="fix dynamic dims, tvmc syntax: 'name:[1,3,224,224]'")
    p.add_argument("--json", action="store_true", help="print a JSON list of workload objects")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from tvm_codesign.compiler.extract import extract_workloads
    from tvm_codesign.compiler.frontend import load_model

    mod = load_model(args.model, args.input_shapes)
    extraction = extract_workloads(mod)
    if args.json:
        print(json.dumps([w.to_json() for w in extraction.workloads], indent=2))
        return 0
    print(format_table(extraction))
    return 0


def format_table(extraction: Any) -> str:
    """A fixed-width table of workloads, then a summary of what is not mapped."""
    head = ["name", "op", *DIMS, "stride", "dil", "count", "macs", "share"]
    total = extraction.total_macs
    rows = []
    for w in extraction.workloads:
        rows.append(
            [
                w.name,
                w.op,
                *(str(getattr(w, d)) for d in DIMS),
                "x".join(map(str, w.stride)),
                "x".join(map(str, w.dilation)),
                str(w.count),
                f"{w.macs:,}",
                f"{100 * w.total_macs / total:.1f}%",
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(head))]
    lines.append("  ".join("-" * wd for wd in widths))
    for r in rows:
        lines.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(r)))
    lines.append("")
    lines.append(f"total MACs (sum of count x macs): {total:,} in {len(extraction.workloads)} unique workloads")
    other = extraction.unmapped_ops
    lines.append(
        f"not mapped to the accelerator: {other:,} ops in "
        f"{sum(1 for u in extraction.unmapped if u.kind != 'copy')} blocks "
        f"({100 * (1 - extraction.mapped_share):.2f}% of the arithmetic; one MAC = one op), "
        f"plus {sum(1 for u in extraction.unmapped if u.kind == 'copy')} data-movement blocks"
    )
    by_kind: dict[str, int] = {}
    for u in extraction.unmapped:
        if u.kind != "copy":
            by_kind[u.block] = by_kind.get(u.block, 0) + u.total_ops
    for block, ops in sorted(by_kind.items(), key=lambda kv: -kv[1])[:10]:
        lines.append(f"  {block:<40s} {ops:>14,} ops")
    return "\n".join(lines)
