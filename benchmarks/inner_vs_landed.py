"""The inner default at equal wall time against every strategy's runs on the landed main before issue 13.

Reads two files of ``benchmarks/inner_search.py`` timed runs (one line per finished run, the best-so-far history
with seconds): the landed main's (``inner_search.jsonl``, commit 62afc17: random, bo, skopt, xgb, 3 seeds, 60 s
runs, the sampler of that time) and the new default's (``inner_search_evolve.jsonl``, written by
``python benchmarks/inner_search.py --strategies evolve --regime time --out benchmarks/results/inner_search_evolve``).
Per layer: the median over seeds of the best EDP reached by 1, 10 and 60 s; then the geometric mean over the five
layers. Writes ``benchmarks/results/inner_vs_landed.md``::

    python benchmarks/inner_vs_landed.py [--landed PATH] [--new PATH] [--strategy evolve]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MARKS = (1.0, 10.0, 60.0)
LAYERS = ("resnet50_3x3", "resnet50_1x1", "dqn_conv1", "bert_ffn", "mbv2_depthwise")


def _best_at(history: list[dict], mark: float) -> float:
    best = math.inf
    for row in history:
        if row["seconds"] <= mark + 1e-9 and row["best"] is not None:
            best = min(best, row["best"])
    return best


def _medians(path: Path, strategies: set[str] | None) -> dict[tuple[str, str], dict[float, float]]:
    """``(layer, strategy) -> {mark: exp(median over seeds of best log EDP by then)}``."""
    runs: dict[tuple[str, str], list[dict]] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["mode"] == "time" and (strategies is None or row["strategy"] in strategies):
            runs.setdefault((row["layer"], row["strategy"]), []).append(row)
    return {
        key: {m: math.exp(statistics.median(_best_at(r["history"], m) for r in rows)) for m in MARKS}
        for key, rows in runs.items()
    }


def _geo(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landed", default=str(RESULTS / "inner_search.jsonl"))
    ap.add_argument("--new", default=str(RESULTS / "inner_search_evolve.jsonl"))
    ap.add_argument("--strategy", default="evolve")
    ap.add_argument("--out", default=str(RESULTS / "inner_vs_landed.md"))
    ap.add_argument("--table-only", action="store_true", help="accepted for .ci/run: this script only reads runs")
    args = ap.parse_args(argv)
    landed = _medians(Path(args.landed), None)
    new = _medians(Path(args.new), {args.strategy})
    rivals = sorted({s for _, s in landed})
    layers = [l for l in LAYERS if (l, args.strategy) in new]
    s = args.strategy
    L = [
        f"# `{s}` (issue 13's inner default) at equal wall time against the landed main's strategies",
        "",
        f"Median over seeds of the best EDP (pJ·cycles) reached by 1 / 10 / 60 s of one run, Eyeriss preset. `{s}`: "
        f"this tree; the rest: the landed main before issue 13 (`{Path(args.landed).name}`, its own sampler). "
        "Timed runs shared the 2-core machine with other jobs.",
        "",
        f"| layer | {s} @1 s | {s} @10 s | {s} @60 s | " + " | ".join(f"{r} @60 s (landed)" for r in rivals)
        + f" | {s} @1 s / best landed @60 s | {s} @60 s / best landed @60 s |",
        "|" + " --- |" * (4 + len(rivals) + 2),
    ]
    for layer in layers:
        best_landed = min(landed[(layer, r)][60.0] for r in rivals if (layer, r) in landed)
        cells = [f"{new[(layer, s)][m]:.3e}" for m in MARKS]
        cells += [f"{landed[(layer, r)][60.0]:.3e}" if (layer, r) in landed else "" for r in rivals]
        cells += [f"{new[(layer, s)][1.0] / best_landed:.3f}", f"{new[(layer, s)][60.0] / best_landed:.3f}"]
        L.append(f"| {layer} | " + " | ".join(cells) + " |")
    L += ["", f"Geometric mean over the {len(layers)} layers, `{s}` @1 s over each landed strategy @60 s:", "",
          "| landed strategy | its geomean @60 s | " + f"{s} @1 s / it | {s} @60 s / it |", "| --- | --- | --- | --- |"]
    ok = True
    for r in rivals:
        if not all((l, r) in landed for l in layers):
            continue
        theirs = _geo([landed[(l, r)][60.0] for l in layers])
        at1 = _geo([new[(l, s)][1.0] for l in layers]) / theirs
        at60 = _geo([new[(l, s)][60.0] for l in layers]) / theirs
        ok &= at1 <= 1.0
        L.append(f"| {r} | {theirs:.3e} | {at1:.3f} | {at60:.3f} |")
    per_layer_best = _geo([min(landed[(l, r)][60.0] for r in rivals if (l, r) in landed) for l in layers])
    L += ["", f"Against the per-layer best of all landed strategies @60 s: `{s}` @1 s "
          f"{_geo([new[(l, s)][1.0] for l in layers]) / per_layer_best:.3f}, @60 s "
          f"{_geo([new[(l, s)][60.0] for l in layers]) / per_layer_best:.3f} (geometric mean).", "",
          f"Target `{s}` @1 s at least as good as every landed strategy @60 s (geometric mean): "
          f"**{'met' if ok else 'missed'}**."]
    Path(args.out).write_text("\n".join(L) + "\n")
    print("\n".join(L))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
