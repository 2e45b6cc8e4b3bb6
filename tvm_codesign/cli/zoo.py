"""`tvm-codesign zoo NAME -o FILE.onnx` writes a zoo model; `tvm-codesign zoo --list` lists the zoo.

Without ``-o`` the model is written once into the zoo cache (see :func:`models.zoo.zoo_path`) and its path is
printed, which is also what every other subcommand does when given a zoo name instead of a file.
"""

from __future__ import annotations

import argparse
from typing import Any

from tvm_codesign.errors import CodesignError


def register(sub: Any) -> argparse.ArgumentParser:
    """Add the ``zoo`` subcommand to ``sub`` (an argparse subparsers action)."""
    p = sub.add_parser(
        "zoo",
        help="write a built-in model (random weights) as ONNX, or list the zoo",
        description="Build a zoo model with seeded random weights and write it as ONNX (opset 17, float32, batch 1).",
    )
    p.add_argument("name", metavar="NAME", nargs="?", help="zoo model name (see --list)")
    p.add_argument(
        "-o", "--output", metavar="FILE.onnx", default=None,
        help="where to write the model (its folder must exist); default: the zoo cache, whose path is printed",
    )
    p.add_argument("--list", action="store_true", help="list the zoo models with input shapes and MACs")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``tvm-codesign zoo``; returns the exit code, raises :class:`CodesignError` on bad input."""
    from tvm_codesign.zoo import catalog as zoo

    if args.list:
        if args.name or args.output:
            raise CodesignError("zoo --list takes no NAME or --output")
        print(format_list())
        return 0
    if not args.name:
        raise CodesignError(f"zoo needs a model NAME or --list; known: {', '.join(zoo.ZOO_NAMES)}")
    zoo.zoo_entry(args.name)  # unknown name -> one-line error before any work
    if args.output is None:
        print(zoo.zoo_path(args.name))
        return 0
    path = zoo.save_model_atomic(zoo.build_model(args.name), args.output)
    macs = sum(layer.macs for layer in zoo.layer_macs(args.name))
    print(f"wrote {path} ({args.name}, inputs {_shapes_text(zoo.input_shapes(args.name))}, {macs:,} MACs)")
    return 0


def _shapes_text(shapes: dict[str, list[int]]) -> str:
    # tvmc's --input-shapes syntax, so the text can be pasted back into a command line.
    return " ".join(f"{name}:[{','.join(map(str, shape))}]" for name, shape in shapes.items())


def format_list() -> str:
    """One line per zoo model: name, input shapes, MACs (from the builder's layer shapes), source."""
    from tvm_codesign.zoo import catalog as zoo

    rows = [("name", "inputs", "MACs", "source")]
    for name in zoo.ZOO_NAMES:
        macs = sum(layer.macs for layer in zoo.layer_macs(name))
        rows.append((name, _shapes_text(zoo.input_shapes(name)), f"{macs:,}", zoo.zoo_entry(name).source))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}" for r in rows
    )
