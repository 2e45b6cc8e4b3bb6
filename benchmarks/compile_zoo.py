"""Compile every zoo model with co-designed schedules and check it against onnxruntime; time both steps.

    python benchmarks/compile_zoo.py [--models dqn,mlp,...] [--budget-hw N] [--budget-sw M]

For each model: ``tvm-codesign compile MODEL --codesign`` (the co-design at the given budgets, then the build and
its self-check, whose time the table shows),
``tvm-codesign run`` on a random input, and the largest difference to onnxruntime. Results are appended to
``benchmarks/results/compile_zoo.jsonl`` as each model finishes (a rerun skips finished models; ``--fresh`` starts
over) and summarised in ``compile_zoo.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from tvm_codesign.zoo.catalog import ZOO_NAMES, input_shapes, zoo_path

RESULTS = Path(__file__).resolve().parent / "results"


def _one(name: str, work: Path, budget_hw: int, budget_sw: int) -> dict:
    import onnxruntime as ort

    from tvm_codesign.cli import main

    lib = work / f"{name}.so"
    t0 = time.perf_counter()
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):  # the self-check reports its time there
        rc = main(["compile", name, "-o", str(lib), "--codesign", "--budget-hw", str(budget_hw),
                   "--budget-sw", str(budget_sw), "--resume", "--no-baselines"])
    total = time.perf_counter() - t0
    sys.stderr.write(stderr.getvalue())
    if rc != 0:
        return {"model": name, "ok": False, "error": f"compile exit {rc}"}
    verified = re.search(r"verified (\d+) scheduled layers.*max abs diff ([^,]+), ([0-9.]+) s\)", stderr.getvalue())
    result = json.loads((work / f"{name}.codesign" / "result.json").read_text())
    (inp, shape), = input_shapes(name).items()
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    np.savez(work / f"{name}.in.npz", **{inp: x})
    main(["run", str(lib), "--inputs", str(work / f"{name}.in.npz"), "-o", str(work / f"{name}.out.npz")])
    got = np.load(work / f"{name}.out.npz")["output_0"]
    want = ort.InferenceSession(str(zoo_path(name))).run(None, {inp: x})[0]
    err = float(np.max(np.abs(got - want)))
    ok = bool(np.allclose(got, want, rtol=1e-4, atol=1e-5))
    return {
        "model": name,
        "ok": ok,
        "max_abs_diff": err,
        "codesign_seconds": result["seconds"],
        "total_seconds": total,
        "compile_seconds": total - result["seconds"],
        "verified_layers": int(verified.group(1)),
        "verify_max_abs_diff": float(verified.group(2)),
        "verify_seconds": float(verified.group(3)),
        "edp": result["design"]["edp"],
        "layers": len(result["design"]["layers"]),
        "records": result["database"]["records"],
        "skipped": len(result["database"]["skipped"]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(ZOO_NAMES))
    ap.add_argument("--budget-hw", type=int, default=16)
    ap.add_argument("--budget-sw", type=int, default=1500)
    ap.add_argument("--work", default=str(RESULTS / "compile_zoo_work"))
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--table-only", action="store_true", help="only rewrite the table from the finished models")
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "compile_zoo.jsonl"
    if args.fresh:
        log.unlink(missing_ok=True)
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                row = json.loads(line)
                done[row["model"]] = row
            except (json.JSONDecodeError, KeyError):
                continue
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for name in args.models.split(","):
        if name in done or args.table_only:
            continue
        row = _one(name, work, args.budget_hw, args.budget_sw)
        done[name] = row
        with open(log, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
        print(json.dumps(row), file=sys.stderr)
    lines = [
        "# Zoo compiled with co-designed schedules",
        "",
        f"`python benchmarks/compile_zoo.py --budget-hw {args.budget_hw} --budget-sw {args.budget_sw}`",
        "",
        "| model | equals ORT | max abs diff | layers | schedules applied | co-design (s) | compile (s) "
        "| of which self-check (s) | self-check max abs diff to stock TVM | EDP |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in args.models.split(","):
        r = done.get(name)
        if not r or not r.get("ok") and "error" in r:
            lines.append(f"| {name} | error: {r.get('error') if r else 'not run'} | | | | | | | | |")
            continue
        lines.append(
            f"| {name} | {'yes' if r['ok'] else 'NO'} | {r['max_abs_diff']:.1e} | {r['layers']} | {r['records']} "
            f"(+{r['skipped']} default) | {r['codesign_seconds']:.0f} | {r['compile_seconds']:.0f} "
            f"| {r.get('verify_seconds', float('nan')):.1f} | {r.get('verify_max_abs_diff', float('nan')):.1e} "
            f"| {r['edp']:.3e} |"
        )
    (RESULTS / "compile_zoo.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
