"""`tvm-codesign`: the command line, shaped like tvmc. Each subcommand lives in its own module here.

A subcommand module defines ``register(subparsers) -> argparse.ArgumentParser`` that adds its parser and sets
``func=run`` as default, where ``run(args) -> int`` returns the exit code. Bad input raises
:class:`tvm_codesign.errors.CodesignError`; :func:`main` prints it on one line and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import warnings
from typing import Sequence

from tvm_codesign.errors import CodesignError

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = ("workloads", "zoo", "evaluate", "search_mapping", "codesign", "compile", "run")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on one line (no usage dump) with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"tvm-codesign: error: {message}\n")


def positive_seconds(text: str) -> float:
    """argparse type of a budget in seconds of wall time: a positive finite number (else a one-line usage error)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every available subcommand."""
    parser = _Parser(prog="tvm-codesign", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"{__name__}.{name}":
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings for the user are one line, like errors."""
    print(f"tvm-codesign: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tvm-codesign`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args.func(args) or 0)
    except CodesignError as err:
        print(f"tvm-codesign: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tvm-codesign: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
