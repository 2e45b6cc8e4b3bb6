"""Inner-loop benchmark: mapping-search strategies on five fixed layers of the zoo, Eyeriss preset.

Two regimes, both reported:

* **equal evaluations** — each strategy gets the same number of cost-model evaluations (the regime of an
  expensive evaluator such as an external simulator): median best EDP at 50, 100, 200 evaluations (and ``random``
  at 2000, for the target "``bo`` at 200 ≤ ``random`` at 2000");
* **equal wall time** — one run per strategy with a time limit, read at 1 s, 10 s and 60 s (the regime of the
  built-in vectorized model, where a cheap strategy scores 1e5 mappings a second).

Results go to ``benchmarks/results/inner_search.{jsonl,md,csv}``. The ``.jsonl`` holds one finished run per line
and is appended and fsynced as runs finish, so a killed benchmark resumes where it stopped (``--fresh`` starts
over). Default: 3 seeds, 200 evaluations, one 60 s run per strategy and layer (about 40 minutes on 2 cores);
``--full``: 5 seeds and three 60 s runs.

    python benchmarks/inner_search.py [--full] [--quick] [--strategies random,bo,skopt,xgb]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from tvm_codesign.hardware import preset
from tvm_codesign.inner import search_mapping
from tvm_codesign.workload import Workload

RESULTS = Path(__file__).resolve().parent / "results"

#: The five layers of the issue (dims from the zoo's extracted workloads).
LAYERS: dict[str, Workload] = {
    "resnet50_3x3": Workload("resnet50_3x3", "conv2d", K=64, C=64, P=56, Q=56, R=3, S=3),
    "resnet50_1x1": Workload("resnet50_1x1", "conv2d", K=256, C=64, P=56, Q=56),
    "dqn_conv1": Workload("dqn_conv1", "conv2d", K=32, C=4, P=20, Q=20, R=8, S=8, stride=(4, 4)),
    "bert_ffn": Workload("bert_ffn", "dense", N=128, C=768, K=3072),
    "mbv2_depthwise": Workload("mbv2_depthwise", "depthwise_conv2d", G=144, P=56, Q=56, R=3, S=3),
}

EVAL_MARKS = (50, 100, 200)
TIME_MARKS = (1.0, 10.0, 60.0)


def _best_at(history: list[dict], key: str, mark: float) -> float:
    """Best log EDP in ``history`` once ``key`` (evaluations or seconds) reached ``mark`` (inf before)."""
    best = math.inf
    for row in history:
        if row[key] <= mark + 1e-9 and row["best"] is not None:
            best = min(best, row["best"])
    return best


def _run(layer: str, strategy: str, seed: int, mode: str, budget: int, seconds: float) -> dict:
    hw = preset("eyeriss")
    w = LAYERS[layer]
    t0 = time.perf_counter()
    if mode == "evals":
        # Small batches so that the best-so-far curve is read at 50, 100, 200 evaluations exactly.
        res = search_mapping(w, hw, strategy=strategy, budget=budget, seed=seed, batch_size=10)
    else:
        res = search_mapping(w, hw, strategy=strategy, budget=10**9, seed=seed, time_limit=seconds)
    hist = [{"evaluations": r["evaluations"], "seconds": r["seconds"], "best": r["best"]} for r in res.history]
    for r in hist:
        r["best"] = r["best"] if r["best"] is not None and math.isfinite(r["best"]) else None
    return {
        "layer": layer,
        "strategy": strategy,
        "seed": seed,
        "mode": mode,
        "budget": budget,
        "evaluations": res.evaluations,
        "seconds": time.perf_counter() - t0,
        "edp": res.edp if math.isfinite(res.edp) else None,
        "history": hist,
    }


def _key(row: dict) -> tuple:
    return (row["layer"], row["strategy"], row["seed"], row["mode"], row["budget"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="5 seeds and three timed runs per strategy")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 2 layers, 5 s timed runs")
    ap.add_argument("--strategies", default="random,bo,skopt,xgb")
    ap.add_argument("--layers", default=",".join(LAYERS))
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the timed runs")
    ap.add_argument("--regime", choices=("evals", "time", "both"), default="both", help="which runs to do")
    ap.add_argument("--fresh", action="store_true", help="ignore finished runs in the results file")
    ap.add_argument("--table-only", action="store_true", help="only rewrite the tables from the finished runs")
    ap.add_argument("--out", default=str(RESULTS / "inner_search"))
    args = ap.parse_args(argv)

    strategies = args.strategies.split(",")
    layers = args.layers.split(",")
    seeds = range(5 if args.full else 3)
    timed_seeds = range(3 if args.full else 1)
    seconds = args.seconds
    if args.quick:
        seeds, timed_seeds, layers, seconds = range(1), range(1), layers[:2], 5.0
    unknown = [l for l in layers if l not in LAYERS]
    if unknown:
        print(f"inner_search: error: unknown layer(s) {', '.join(unknown)}", file=sys.stderr)
        return 2

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".jsonl")
    done: dict[tuple, dict] = {}
    if log.exists() and not args.fresh:
        for line in log.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            done[_key(row)] = row
    elif args.fresh:
        log.unlink(missing_ok=True)

    plan = []
    for layer in layers:
        for strategy in strategies:
            for seed in seeds:
                plan.append((layer, strategy, seed, "evals", max(EVAL_MARKS)))
            if strategy == "random":
                for seed in seeds:
                    plan.append((layer, strategy, seed, "evals", 2000))
            for seed in timed_seeds:
                plan.append((layer, strategy, seed, "time", 0))
    if args.regime != "both":
        plan = [p for p in plan if p[3] == args.regime]
    todo = [] if args.table_only else [p for p in plan if (p[0], p[1], p[2], p[3], p[4]) not in done]
    print(f"inner_search: {len(plan)} runs, {len(plan) - len(todo)} already done", file=sys.stderr)
    with open(log, "a") as f:
        for i, (layer, strategy, seed, mode, budget) in enumerate(todo, 1):
            row = _run(layer, strategy, seed, mode, budget, seconds)
            done[_key(row)] = row
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
            edp = f"{row['edp']:.3e}" if row["edp"] else "none"
            print(f"[{i}/{len(todo)}] {layer} {strategy} seed {seed} {mode}: EDP {edp} in {row['seconds']:.1f} s",
                  file=sys.stderr)

    rows = [r for r in done.values() if r["layer"] in layers and r["strategy"] in strategies]
    table = _tables(rows, layers, strategies, seconds)
    out.with_suffix(".md").write_text(table["md"])
    out.with_suffix(".csv").write_text(table["csv"])
    print(table["md"])
    return 0


def _median(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.median(finite) if len(finite) == len(values) and finite else math.inf


def _tables(rows: list[dict], layers: list[str], strategies: list[str], seconds: float) -> dict[str, str]:
    md = ["# Inner search: median best EDP (pJ·cycles) on Eyeriss", ""]
    csv = ["layer,strategy,regime,mark,median_edp,runs"]
    marks = [("evals", m) for m in EVAL_MARKS] + [("evals2000", 2000)] + [("time", t) for t in TIME_MARKS if t <= seconds]
    head = "| layer | strategy | " + " | ".join(
        f"{m} evals" if r != "time" else f"{m:g} s" for r, m in marks
    ) + " |"
    md += [head, "|" + " --- |" * (2 + len(marks))]
    for layer in layers:
        for strategy in strategies:
            cells = []
            for regime, mark in marks:
                if regime == "evals":
                    runs = [r for r in rows if r["layer"] == layer and r["strategy"] == strategy and r["mode"] == "evals" and r["budget"] == max(EVAL_MARKS)]
                    vals = [_best_at(r["history"], "evaluations", mark) for r in runs]
                elif regime == "evals2000":
                    runs = [r for r in rows if r["layer"] == layer and r["strategy"] == strategy and r["mode"] == "evals" and r["budget"] == 2000]
                    vals = [_best_at(r["history"], "evaluations", mark) for r in runs]
                else:
                    runs = [r for r in rows if r["layer"] == layer and r["strategy"] == strategy and r["mode"] == "time"]
                    vals = [_best_at(r["history"], "seconds", mark) for r in runs]
                med = _median(vals) if vals else math.nan
                edp = math.exp(med) if math.isfinite(med) else med
                cells.append("" if math.isnan(edp) else ("none" if math.isinf(edp) else f"{edp:.3e}"))
                if not math.isnan(edp):
                    csv.append(f"{layer},{strategy},{regime},{mark},{'' if math.isinf(edp) else f'{edp:.6e}'},{len(vals)}")
            md.append(f"| {layer} | {strategy} | " + " | ".join(cells) + " |")
    md += ["", "Values are exp(median log EDP) over seeds; `none`: no valid mapping by then in some run."]
    return {"md": "\n".join(md) + "\n", "csv": "\n".join(csv) + "\n"}


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
